// 委托/代理: a person (or the unit admin for them) names a delegate for a period; the delegator sees what was done in their name.
import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../app.ts'
import { errorResponses } from '../schemas.ts'
import { Delegations, delegableFlows, type DelegationInput } from '../services/delegation.ts'

const personId = { type: 'string', minLength: 1, maxLength: 100 }
const delegation = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    delegatorId: { type: 'string' }, delegatorName: { type: 'string' },
    delegateId: { type: 'string' }, delegateName: { type: 'string' },
    from: { type: 'string' }, to: { type: 'string' },
    flows: { type: ['array', 'null'], items: { type: 'string' }, description: '限定的流程；null 为全部流程' },
    createdBy: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' },
    active: { type: 'boolean', description: '今天在委托期内' },
  },
}
const body = {
  type: 'object',
  required: ['delegate', 'from', 'to'],
  additionalProperties: false,
  properties: {
    delegator: { ...personId, description: '委托人（默认本人；为他人设置须为单位管理员）' },
    delegate: { ...personId, description: '受托人：本单位其他人员' },
    from: { type: 'string', format: 'date', description: '开始日期（含），如 2026-12-01' },
    to: { type: 'string', format: 'date', description: '结束日期（含）' },
    flows: {
      type: 'array', maxItems: 3, uniqueItems: true, items: { type: 'string', enum: Object.keys(delegableFlows) },
      description: `限定流程：${Object.entries(delegableFlows).map(([k, v]) => `${k}（${v}）`).join('、')}；不填为全部流程`,
    },
  },
}

const routes: FastifyPluginAsync<Services> = async (app, { knex }) => {
  const delegations = new Delegations(knex)

  app.get<{ Querystring: { all?: boolean } }>('/delegations', {
    schema: {
      tags: ['delegation'], summary: '我的委托（作为委托人或受托人）；单位管理员加 all=true 看本单位全部',
      querystring: { type: 'object', additionalProperties: false, properties: { all: { type: 'boolean', default: false } } },
      response: { 200: { type: 'array', items: delegation }, ...errorResponses },
    },
  }, async (req) => delegations.list(req.principal, req.query.all))

  app.post<{ Body: DelegationInput }>('/delegations', {
    schema: { tags: ['delegation'], summary: '设置委托：期内分配给委托人的新待办转给受托人办理', body, response: { 201: delegation, ...errorResponses } },
  }, async (req, reply) => reply.code(201).send(await delegations.create(req.principal, req.body)))

  app.post<{ Params: { id: string } }>('/delegations/:id/revoke', {
    schema: {
      tags: ['delegation'], summary: '撤销委托（委托人或单位管理员）',
      params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9]{1,15}$' } } },
      response: { 200: { type: 'object', properties: { id: { type: 'string' }, revoked: { type: 'boolean' } } }, ...errorResponses },
    },
  }, async (req) => delegations.revoke(req.principal, req.params.id))

  app.get('/delegations/on-my-behalf', {
    schema: {
      tags: ['delegation'], summary: '受托人以我的名义办理的事项，及正由受托人办理的待办',
      response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
    },
  }, async (req) => delegations.onMyBehalf(req.principal))
}

export default routes
