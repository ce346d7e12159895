// Shared route schemas, registered once with $id and referenced by $ref; they drive request
// validation, response serialisation and the OpenAPI document at /docs.
import type { FastifyInstance } from 'fastify'

/** A task's id: an opaque string handed out by the engine (never a number to compute with). */
export const taskKeyString = { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$', description: '待办编号（由流程引擎分配的不透明字符串）' }
/** Route params of /tasks/{key}/… */
export const taskKeyParams = { type: 'object', properties: { key: taskKeyString } }

export const schemas = [
  {
    $id: 'Error',
    type: 'object',
    properties: {
      statusCode: { type: 'integer' },
      code: { type: 'string' },
      error: { type: 'string' },
      message: { type: 'string' },
      details: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } },
    },
  },
  {
    $id: 'Page',
    type: 'object',
    properties: {
      limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
      offset: { type: 'integer', minimum: 0, default: 0 },
    },
    additionalProperties: false,
  },
  {
    $id: 'TaskListItem',
    type: 'object',
    properties: {
      taskKey: { type: 'string' },
      step: { type: 'string' },
      stepName: { type: 'string' },
      state: { type: 'string' },
      assignee: { type: ['string', 'null'] },
      candidateRole: { type: ['string', 'null'] },
      createdAt: { type: 'string', format: 'date-time' },
      closedAt: { type: ['string', 'null'], format: 'date-time' },
      route: { type: ['string', 'null'] },
      documentId: { type: 'string' },
      documentKind: { type: 'string' },
      title: { type: 'string' },
      docNumber: { type: ['string', 'null'] },
      urgency: { type: ['string', 'null'] },
      deadline: { type: ['string', 'null'], format: 'date-time' },
      light: { type: ['string', 'null'], enum: ['red', 'yellow', 'green', null], description: '时限灯：red 已超期，yellow 临近时限，green 正常' },
    },
  },
  {
    $id: 'LogEntry',
    type: 'object',
    properties: {
      step: { type: 'string' },
      stepName: { type: 'string' },
      actorId: { type: ['string', 'null'] },
      actorName: { type: 'string' },
      actorRole: { type: ['string', 'null'] },
      actorRoleName: { type: ['string', 'null'], description: '角色名称，如“办公室主任”' },
      blankSignature: { type: 'boolean', description: '空白签名' },
      route: { type: ['string', 'null'] },
      opinion: { type: ['string', 'null'] },
      channel: { type: 'string' },
      channelName: { type: 'string', description: '渠道名称：网页、移动端、接口、系统' },
      at: { type: 'string', format: 'date-time' },
    },
  },
  {
    $id: 'Completion',
    type: 'object',
    required: ['route'],
    additionalProperties: false,
    properties: {
      route: { type: 'string', minLength: 1, maxLength: 100, description: '办理方式，须为该步骤允许的之一' },
      nextHandler: { type: ['string', 'null'], maxLength: 100, description: '下一步办理人（人员编号）；不填则交给下一步角色的所有人员' },
      opinion: { type: ['string', 'null'], maxLength: 5000, description: '意见' },
      data: { type: 'object', description: '本步骤可修改的笺字段', additionalProperties: true },
    },
  },
] as const

export function registerSchemas(app: FastifyInstance): void {
  for (const s of schemas) app.addSchema(s)
}

export const errorResponses = {
  400: { $ref: 'Error#' },
  401: { $ref: 'Error#' },
  403: { $ref: 'Error#' },
  404: { $ref: 'Error#' },
  409: { $ref: 'Error#' },
  503: { $ref: 'Error#' },
}
