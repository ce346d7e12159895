// 加签: add a signer before or after oneself at a step that allows it; the added signer signs; the signers added on a document.
import type { FastifyPluginAsync } from 'fastify'
import type { Logger } from 'pino'
import type { Services } from '../app.ts'
import { errorResponses, taskKeyParams } from '../schemas.ts'
import { Jiaqian, addSignerModes, type AddSignerMode } from '../services/jiaqian.ts'

const opinion = { type: 'string', maxLength: 2000 }

const routes: FastifyPluginAsync<Services> = async (app, { knex, engine, models, documents }) => {
  const jiaqian = new Jiaqian(knex, engine, models, app.log as unknown as Logger)

  app.get<{ Params: { key: string } }>('/tasks/:key/signers', {
    schema: {
      tags: ['tasks'], summary: '加签：本步骤可用的加签方式，及尚未签署的前加签人', params: taskKeyParams,
      response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
    },
  }, async (req) => jiaqian.options(req.principal, req.params.key))

  app.post<{ Params: { key: string }; Body: { signer: string; mode: AddSignerMode; opinion?: string } }>('/tasks/:key/signers', {
    schema: {
      tags: ['tasks'], summary: '加签：在本人之前（before，加签人先签署后回到本人）或之后（after，本人先签意见，由加签人继续办理）增加一位本单位人员，或并行（parallel，加签人同时审核，签署后本人方可办理）',
      params: taskKeyParams,
      body: {
        type: 'object', required: ['signer', 'mode'], additionalProperties: false,
        properties: {
          signer: { type: 'string', minLength: 1, maxLength: 100, description: '加签人：本单位人员' },
          mode: { type: 'string', enum: Object.keys(addSignerModes), description: 'before 前加签，after 后加签，parallel 并行加签' },
          opinion: { ...opinion, description: '本人意见（后加签必填）' },
        },
      },
      response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
    },
  }, async (req) => jiaqian.add(req.principal, req.params.key, req.body))

  app.post<{ Params: { key: string }; Body: { opinion: string } }>('/tasks/:key/sign', {
    schema: {
      tags: ['tasks'], summary: '加签人签署意见：前加签的待办回到原办理人；并行加签的待办结束', params: taskKeyParams,
      body: { type: 'object', required: ['opinion'], additionalProperties: false, properties: { opinion: { ...opinion, minLength: 1, pattern: '\\S' } } },
      response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
    },
  }, async (req) => jiaqian.sign(req.principal, req.params.key, req.body))

  app.get<{ Params: { id: string } }>('/documents/:id/signers', {
    schema: {
      tags: ['documents'], summary: '公文各步骤的加签人及其签署情况（流程图标注用）',
      params: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } } },
      response: { 200: { type: 'array', items: { type: 'object', additionalProperties: true } }, ...errorResponses },
    },
  }, async (req) => {
    if (!(await documents.canRead(req.principal, req.params.id))) return []
    return jiaqian.ofDocument(req.principal, req.params.id)
  })
}

export default routes
