// 失败待处理 (unit admins): the unit's dead letters — stored completions and notification
// deliveries given up after the last attempt — with retry and discard. Another unit's answer 404.
import type { FastifyPluginAsync } from 'fastify'
import type { Logger } from 'pino'
import type { Services } from '../app.ts'
import { errorResponses } from '../schemas.ts'
import { DeadLetters, type DeadLetterKind } from '../services/dead-letters.ts'

const params = {
  type: 'object',
  required: ['kind', 'id'],
  properties: {
    kind: { type: 'string', enum: ['completion', 'delivery'], description: 'completion：办理提交；delivery：通知投递' },
    id: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$', description: '办理提交为待办编号，通知投递为投递编号' },
  },
}
const nullableText = { type: ['string', 'null'] }
const when = { type: ['string', 'null'], format: 'date-time' }
const completion = {
  type: 'object',
  properties: {
    id: { type: 'string', description: '待办编号' }, stepName: { type: 'string' }, documentId: { type: 'string' }, title: { type: 'string' },
    handlerId: nullableText, handlerName: nullableText, route: nullableText, opinion: nullableText,
    data: { type: ['object', 'null'], additionalProperties: true, description: '办理人填写的笺内容（已保存）' },
    submittedAt: when, attempts: { type: 'integer' }, lastError: nullableText, deadAt: when,
  },
}
const delivery = {
  type: 'object',
  properties: {
    id: { type: 'string', description: '投递编号' }, channel: { type: 'string' }, target: { type: 'string' }, kind: { type: 'string' },
    taskKey: { type: 'string' }, documentId: nullableText, title: { type: 'string' }, text: { type: 'string' },
    recipientId: { type: 'string' }, recipientName: nullableText, attempts: { type: 'integer' }, lastError: nullableText, createdAt: when, deadAt: when,
  },
}
const outcome = { type: 'object', properties: { kind: { type: 'string' }, id: { type: 'string' }, state: { type: 'string' } } }

const routes: FastifyPluginAsync<Services> = async (app, { knex }) => {
  const deadLetters = new DeadLetters(knex, app.log as unknown as Logger)

  app.get('/admin/dead-letters', {
    schema: {
      tags: ['admin'], summary: '本单位的失败待处理事项：多次重试仍失败的办理提交和通知投递（单位管理员）',
      response: { 200: { type: 'object', properties: { completions: { type: 'array', items: completion }, deliveries: { type: 'array', items: delivery } } }, ...errorResponses },
    },
  }, async (req) => deadLetters.list(req.principal))

  app.post<{ Params: { kind: DeadLetterKind; id: string } }>('/admin/dead-letters/:kind/:id/retry', {
    schema: { tags: ['admin'], summary: '重新尝试：回到待重试，重试次数清零（单位管理员）', params, response: { 200: outcome, ...errorResponses } },
  }, async (req) => deadLetters.retry(req.principal, req.params.kind, req.params.id))

  app.post<{ Params: { kind: DeadLetterKind; id: string } }>('/admin/dead-letters/:kind/:id/discard', {
    schema: {
      tags: ['admin'], summary: '放弃：办理提交退回办理人的待办（已填写内容保留为草稿）；通知投递标记为已放弃（单位管理员）',
      params, response: { 200: outcome, ...errorResponses },
    },
  }, async (req) => deadLetters.discard(req.principal, req.params.kind, req.params.id))
}

export default routes
