// The inbox: 待办, 已办, one task, and completing a task.
import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../app.ts'
import { errorResponses, taskKeyParams, taskKeyString } from '../schemas.ts'
import { documentKinds } from '../services/documents.ts'
import type { CompletionInput } from '../services/task-completion.ts'
import type { TaskListQuery } from '../services/tasks.ts'

const item = { allOf: [{ $ref: 'TaskListItem#' }, { type: 'object', properties: { fromName: { type: ['string', 'null'], description: '来自：此前最后办理的人（来文为发文单位）' } } }] }
const list = { type: 'object', properties: { total: { type: 'integer' }, items: { type: 'array', items: item } } }
const taskKey = taskKeyParams

/** Paging plus search: the same filters as GET /documents. */
export const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
    offset: { type: 'integer', minimum: 0, default: 0 },
    q: { type: 'string', maxLength: 100, description: '标题、发文字号或来文字号中包含的文字' },
    from: { type: 'string', format: 'date', description: '起始日期（含），如 2026-01-01' },
    to: { type: 'string', format: 'date', description: '截止日期（含）' },
    kind: { type: 'string', enum: Object.keys(documentKinds), description: '公文类型：fawen 发文，shouwen 收文，chengyue 呈阅笺' },
  },
}

const routes: FastifyPluginAsync<Services> = async (app, { tasks, completion, actions }) => {
  app.get<{ Querystring: TaskListQuery }>('/tasks', {
    schema: { tags: ['tasks'], summary: '我的待办（可按标题、发文字号、收到日期、公文类型查找，分页）', querystring: listQuery, response: { 200: list, ...errorResponses } },
  }, async (req) => tasks.open(req.principal, req.query))

  app.get<{ Querystring: TaskListQuery }>('/tasks/done', {
    schema: { tags: ['tasks'], summary: '我的已办（可按标题、发文字号、办理日期、公文类型查找，分页）', querystring: listQuery, response: { 200: list, ...errorResponses } },
  }, async (req) => tasks.done(req.principal, req.query))

  app.get<{ Params: { key: string } }>('/tasks/:key', {
    schema: {
      tags: ['tasks'], summary: '待办详情：公文、本步骤的笺字段、允许的办理方式及可选办理人', params: taskKey,
      response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
    },
  }, async (req) => tasks.one(req.principal, req.params.key))

  app.post<{ Params: { key: string }; Body: CompletionInput; Headers: { 'idempotency-key'?: string } }>('/tasks/:key/complete', {
    schema: {
      tags: ['tasks'],
      summary: '办理：提交本步骤的笺字段、办理方式、意见和下一步办理人。重复提交得到 409；相同 Idempotency-Key 的重试得到首次结果',
      params: taskKey,
      headers: { type: 'object', properties: { 'idempotency-key': { type: 'string', maxLength: 200 } } },
      body: { $ref: 'Completion#' },
      response: {
        200: { type: 'object', properties: { taskKey: { type: 'string' }, documentId: { type: 'string' }, state: { type: 'string' }, route: { type: 'string' }, nextHandler: { type: ['string', 'null'] } } },
        202: { type: 'object', properties: { taskKey: { type: 'string' }, documentId: { type: 'string' }, state: { type: 'string' }, route: { type: 'string' }, nextHandler: { type: ['string', 'null'] }, message: { type: 'string' } } },
        ...errorResponses,
      },
    },
  }, async (req, reply) => {
    const result = await completion.complete(req.principal, req.params.key, req.body, req.headers['idempotency-key'] ?? null)
    if (result.state === 'pending') return reply.status(202).send({ ...result, message: '办理已保存，流程引擎恢复后将自动提交' })
    return result
  })

  const opinion = { type: ['string', 'null'], maxLength: 2000 }
  const moved = { 200: { type: 'object', additionalProperties: true }, ...errorResponses }

  app.post<{ Params: { key: string }; Body: { opinion?: string } }>('/tasks/:key/withdraw', {
    schema: {
      tags: ['tasks'], summary: '撤回：收回我已办理的事项（下一步办理人尚未打开时）。key 为我已办理的待办', params: taskKey,
      body: { type: 'object', additionalProperties: false, properties: { opinion } }, response: moved,
    },
  }, async (req) => actions.withdraw(req.principal, req.params.key, req.body ?? {}))

  app.post<{ Params: { key: string }; Body: { toTaskKey: string; opinion?: string } }>('/tasks/:key/return', {
    schema: {
      tags: ['tasks'], summary: '退回：退回到本公文此前任一办理步骤及其办理人（可选目标见待办详情 returnTargets）', params: taskKey,
      body: { type: 'object', required: ['toTaskKey'], additionalProperties: false, properties: { toTaskKey: taskKeyString, opinion } }, response: moved,
    },
  }, async (req) => actions.returnTo(req.principal, req.params.key, req.body))

  app.post<{ Params: { key: string }; Body: { to: string; opinion?: string } }>('/tasks/:key/transfer', {
    schema: {
      tags: ['tasks'], summary: '转办：交给本单位具有相同角色的同事办理', params: taskKey,
      body: { type: 'object', required: ['to'], additionalProperties: false, properties: { to: { type: 'string', minLength: 1, maxLength: 100 }, opinion } }, response: moved,
    },
  }, async (req) => actions.transfer(req.principal, req.params.key, req.body))
}

export default routes
