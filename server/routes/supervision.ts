// 督办: mark a document, the 督办 list with each item's state, one item with its record, 催办 and 反馈.
import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../app.ts'
import { errorResponses } from '../schemas.ts'
import { Supervision, supervisionStates, type SupervisionInput, type SupervisionState } from '../services/supervision.ts'

const docId = { type: 'object', properties: { id: { type: 'string', format: 'uuid' } } }
const time = { type: ['string', 'null'], format: 'date-time' }
const item = {
  type: 'object',
  properties: {
    id: { type: 'string' }, documentId: { type: 'string' }, title: { type: 'string' }, documentKind: { type: 'string' }, docNumber: { type: ['string', 'null'] },
    documentStatus: { type: 'string' }, supervisorId: { type: 'string' }, supervisorName: { type: 'string' }, dueDate: { type: 'string', format: 'date' },
    note: { type: ['string', 'null'] }, createdAt: { type: 'string', format: 'date-time' }, createdByName: { type: 'string' }, escalatedAt: time,
    state: { type: 'string', enum: [...supervisionStates], description: '在办 · 已办结（公文已办结）· 已超期（已过办结期限仍未办结）' },
  },
}
const event = {
  type: 'object',
  properties: {
    id: { type: 'string' }, kind: { type: 'string', enum: ['urge', 'reply', 'escalation'], description: 'urge 催办 · reply 反馈 · escalation 超期督办' },
    actorId: { type: ['string', 'null'] }, actorName: { type: 'string' }, text: { type: ['string', 'null'] }, channel: { type: 'string' }, at: { type: 'string', format: 'date-time' },
  },
}
const detail = {
  type: 'object',
  properties: {
    ...item.properties, currentSteps: { type: 'array', items: { type: 'string' } }, events: { type: 'array', items: event },
    mayUrge: { type: 'boolean' }, mayReply: { type: 'boolean' },
  },
}

const routes: FastifyPluginAsync<Services> = async (app, { knex, documents, notifications }) => {
  const service = new Supervision(knex, documents, notifications, app.log)

  app.post<{ Params: { id: string }; Body: SupervisionInput }>('/documents/:id/supervision', {
    schema: {
      tags: ['supervision'], summary: '督办：办公室把本单位公文列入督办，指定督办人和办结期限', params: docId,
      body: {
        type: 'object', required: ['supervisorId', 'dueDate'], additionalProperties: false,
        properties: {
          supervisorId: { type: 'string', minLength: 1, maxLength: 100, description: '督办人（本单位人员）' },
          dueDate: { type: 'string', format: 'date', description: '办结期限（含当日），如 2026-12-31' },
          note: { type: ['string', 'null'], maxLength: 500, description: '督办要求' },
        },
      },
      response: { 201: detail, ...errorResponses },
    },
  }, async (req, reply) => reply.status(201).send(await service.mark(req.principal, req.params.id, req.body)))

  app.get<{ Querystring: { state?: SupervisionState; limit: number; offset: number } }>('/supervision', {
    schema: {
      tags: ['supervision'], summary: '督办事项（办公室：本单位全部；其他人：我督办或我办理的），按办结期限排序，可按状态筛选',
      querystring: {
        type: 'object', additionalProperties: false,
        properties: {
          state: { type: 'string', enum: [...supervisionStates] },
          limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
          offset: { type: 'integer', minimum: 0, default: 0 },
        },
      },
      response: { 200: { type: 'object', properties: { total: { type: 'integer' }, items: { type: 'array', items: item } } }, ...errorResponses },
    },
  }, async (req) => service.list(req.principal, req.query))

  const id = { type: 'object', properties: { id: { type: 'string', format: 'uuid' } } }
  app.get<{ Params: { id: string } }>('/supervision/:id', {
    schema: { tags: ['supervision'], summary: '督办事项详情：状态、当前步骤、催办与反馈记录', params: id, response: { 200: detail, ...errorResponses } },
  }, async (req) => service.one(req.principal, req.params.id))

  app.post<{ Params: { id: string }; Body: { text?: string | null } }>('/supervision/:id/urge', {
    schema: {
      tags: ['supervision'], summary: '督办催办：督办人提醒该公文当前的办理人（记入督办记录）', params: id,
      body: { type: 'object', additionalProperties: false, properties: { text: { type: ['string', 'null'], maxLength: 500 } } },
      response: { 200: { type: 'object', properties: { id: { type: 'string' }, at: { type: 'string', format: 'date-time' }, notified: { type: 'integer' } } }, ...errorResponses },
    },
  }, async (req) => service.urge(req.principal, req.params.id, req.body ?? {}))

  app.post<{ Params: { id: string }; Body: { text: string } }>('/supervision/:id/replies', {
    schema: {
      tags: ['supervision'], summary: '督办反馈：该公文的办理人向督办人反馈办理情况（记入督办记录）', params: id,
      body: { type: 'object', required: ['text'], additionalProperties: false, properties: { text: { type: 'string', minLength: 1, maxLength: 2000 } } },
      response: { 201: { type: 'object', properties: { id: { type: 'string' }, at: { type: 'string', format: 'date-time' } } }, ...errorResponses },
    },
  }, async (req, reply) => reply.status(201).send(await service.reply(req.principal, req.params.id, req.body)))
}

export default routes
