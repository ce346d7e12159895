// 拒收/退文: the recipient registry refuses an 电子来文 with a reason; the sender lists what was
// refused and re-sends a corrected version to a unit that refused it.
import type { FastifyPluginAsync } from 'fastify'
import type { Logger } from 'pino'
import type { Services } from '../app.ts'
import { errorResponses } from '../schemas.ts'
import { Refusals } from '../services/refusal.ts'

const uuid = { type: 'string', format: 'uuid' } as const
const unitIdString = { type: 'string', minLength: 1, maxLength: 100 } as const
const text = { type: 'string', maxLength: 2000 } as const

const routes: FastifyPluginAsync<Services> = async (app, { knex, engine, models, completion }) => {
  const refusals = new Refusals(knex, engine, models, completion, app.log as unknown as Logger)

  app.post<{ Params: { id: string }; Body: { reason?: string } }>('/documents/:id/refuse', {
    schema: {
      tags: ['documents'], summary: '拒收：本单位收文人员在签收时退回电子来文，须写明理由；来文单位看到“已退文”及理由',
      params: { type: 'object', properties: { id: uuid } },
      body: { type: 'object', required: ['reason'], additionalProperties: false, properties: { reason: text } },
      response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
    },
  }, async (req) => refusals.refuse(req.principal, req.params.id, req.body))

  app.get<{ Params: { id: string } }>('/documents/:id/refusals', {
    schema: {
      tags: ['documents'], summary: '退文记录：各收文单位的拒收理由及重新分发情况',
      params: { type: 'object', properties: { id: uuid } },
      response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
    },
  }, async (req) => refusals.history(req.principal, req.params.id))

  app.post<{ Params: { id: string; unitId: string }; Body: { note?: string } }>('/documents/:id/recipients/:unitId/resend', {
    schema: {
      tags: ['documents'], summary: '重新分发：本单位办公室把更正后的公文再次分发给退文的单位（新的电子来文，关联被退回的来文），须写明更正说明；发文字号不变',
      params: { type: 'object', properties: { id: uuid, unitId: unitIdString } },
      body: { type: 'object', required: ['note'], additionalProperties: false, properties: { note: text } },
      response: { 201: { type: 'object', additionalProperties: true }, ...errorResponses },
    },
  }, async (req, reply) => reply.status(201).send(await refusals.resend(req.principal, req.params.id, req.params.unitId, req.body)))
}

export default routes
