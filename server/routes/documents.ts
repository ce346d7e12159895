// Documents: start a flow, list the ones I may read, read one with its routing log.
import { join } from 'node:path'
import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../app.ts'
import { errorResponses } from '../schemas.ts'
import { sealState } from '../services/files.ts'
import type { TaskListQuery } from '../services/tasks.ts'
import { listQuery } from './tasks.ts'

const routes: FastifyPluginAsync<Services> = async (app, { documents, conversion, knex, dataDir }) => {
  app.post<{ Body: { kind: string; data: Record<string, unknown>; corrects?: string }; Headers: { 'idempotency-key'?: string } }>('/documents', {
    schema: {
      tags: ['documents'],
      summary: '起草公文并启动其流程（如发文）；可带 Idempotency-Key 头防止重复提交',
      headers: { type: 'object', properties: { 'idempotency-key': { type: 'string', maxLength: 200 } } },
      body: {
        type: 'object', required: ['kind', 'data'], additionalProperties: false,
        properties: {
          kind: { type: 'string', maxLength: 40, description: '公文类型：fawen（发文）' },
          data: { type: 'object', description: '笺的字段，至少包括标题', additionalProperties: true },
          corrects: { type: 'string', format: 'uuid', description: '更正：被本发文更正的本单位原发文的编号（原文签发后冻结，更正须另起公文）' },
        },
      },
      response: { 201: { type: 'object', additionalProperties: true }, ...errorResponses },
    },
  }, async (req, reply) => {
    const doc = await documents.start(req.principal, req.body, req.headers['idempotency-key'] ?? null)
    return reply.status(201).send(doc)
  })

  app.get<{ Querystring: TaskListQuery & { mine?: boolean } }>('/documents', {
    schema: {
      tags: ['documents'],
      summary: '我可查阅的公文（集成方：本单位全部公文）；可按标题、发文字号、起草日期、公文类型查找，mine=true 只列我起草的',
      querystring: { ...listQuery, properties: { ...listQuery.properties, mine: { type: 'boolean', description: 'true：只列我起草的公文（我的发文）' } } },
      response: { 200: { type: 'object', properties: { total: { type: 'integer' }, items: { type: 'array', items: { type: 'object', additionalProperties: true } } } }, ...errorResponses },
    },
  }, async (req) => documents.list(req.principal, req.query))

  app.get<{ Params: { id: string } }>('/documents/:id', {
    schema: {
      tags: ['documents'], summary: '公文详情与流转日志；已盖章的发文带 sealIntact（正文文件是否与盖章记录一致）',
      params: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } } },
      response: { 200: { type: 'object', additionalProperties: true, properties: { log: { type: 'array', items: { $ref: 'LogEntry#' } } } }, ...errorResponses },
    },
  }, async (req) => {
    const doc = await documents.one(req.principal, req.params.id)
    // The seal that binds this document's 正文: its own, or for an incoming document its sender's.
    const sealedId = doc.sourceDocumentId ?? doc.id
    const seal = await sealState(knex, join(dataDir, 'files'), sealedId)
    if (seal && !seal.intact) req.log.error({ documentId: sealedId, ...seal }, 'the sealed 正文 does not match its seal record')
    return { ...doc, sealIntact: seal?.intact ?? null }
  })

  const id = { type: 'object', properties: { id: { type: 'string', format: 'uuid' } } }
  app.post<{ Params: { id: string } }>('/documents/:id/convert', {
    schema: {
      tags: ['documents'], summary: '转笺：把办理中的收文处理笺转为呈阅笺，由我起草；正文、附件（全部版本）和流转日志一并带入，原收文流程结束',
      params: id, response: { 201: { type: 'object', additionalProperties: true }, ...errorResponses },
    },
  }, async (req, reply) => reply.status(201).send(await conversion.toChengyue(req.principal, req.params.id)))

  app.post<{ Params: { id: string }; Body: { from: string[] } }>('/documents/:id/merge', {
    schema: {
      tags: ['documents'], summary: '合并：把相关公文并入此公文；其正文、附件（全部版本）和流转日志一并带入，被并入公文的流程结束',
      params: id,
      body: { type: 'object', required: ['from'], additionalProperties: false, properties: { from: { type: 'array', minItems: 1, maxItems: 20, uniqueItems: true, items: { type: 'string', format: 'uuid' } } } },
      response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
    },
  }, async (req) => conversion.merge(req.principal, req.params.id, req.body.from))
}

export default routes
