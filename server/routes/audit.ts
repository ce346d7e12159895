// 行为审计 (unit admins): the unit's trail, filtered, exported as CSV, and its hash chain checked.
// Nobody can change the trail through any route: there is none that writes it.
import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../app.ts'
import { errorResponses } from '../schemas.ts'
import type { AuditQuery } from '../services/audit.ts'

const filters = {
  type: 'object',
  additionalProperties: false,
  properties: {
    actor: { type: 'string', maxLength: 100, description: '人员编号或姓名' },
    action: { type: 'string', maxLength: 100, description: '操作（路由）中包含的文字，如 complete、/auth/login' },
    from: { type: 'string', format: 'date', description: '起始日期（北京时间，含当日）' },
    to: { type: 'string', format: 'date', description: '结束日期（北京时间，含当日）' },
    limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
    offset: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 0 },
  },
}
const entry = {
  type: 'object',
  properties: {
    id: { type: 'string' }, at: { type: 'string', format: 'date-time' }, actorId: { type: ['string', 'null'] }, actorName: { type: ['string', 'null'] },
    channel: { type: ['string', 'null'] }, ip: { type: ['string', 'null'] }, action: { type: 'string' }, target: { type: ['string', 'null'] },
    status: { type: 'integer' }, detail: { type: ['object', 'null'], additionalProperties: true }, hash: { type: 'string' },
    actionName: { type: 'string', description: '操作名称，如“办理”' }, channelName: { type: ['string', 'null'], description: '渠道名称，如“网页”' },
  },
}

const routes: FastifyPluginAsync<Services> = async (app, { audit }) => {
  app.get<{ Querystring: AuditQuery }>('/admin/audit', {
    schema: {
      tags: ['admin'], summary: '行为审计：本单位的操作记录（新的在前），可按人员、操作、日期筛选', querystring: filters,
      response: { 200: { type: 'object', properties: { total: { type: 'integer' }, items: { type: 'array', items: entry } } }, ...errorResponses },
    },
  }, async (req) => audit.list(req.principal, req.query))

  app.get<{ Querystring: AuditQuery }>('/admin/audit.csv', {
    schema: { tags: ['admin'], summary: '行为审计导出为 CSV（筛选同上）', querystring: filters, response: errorResponses },
  }, async (req, reply) => {
    const csv = await audit.csv(req.principal, req.query)
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="audit-${req.principal.unitId}.csv"`)
      .send(csv)
  })

  app.get('/admin/audit/verify', {
    schema: {
      tags: ['admin'], summary: '校验本单位行为审计的哈希链：被删除或修改的记录会在此显出',
      response: {
        200: {
          type: 'object',
          properties: {
            intact: { type: 'boolean' }, checked: { type: 'integer' },
            brokenAt: { type: 'object', properties: { id: { type: 'string' }, reason: { type: 'string' } } },
          },
        },
        ...errorResponses,
      },
    },
  }, async (req) => audit.verify(req.principal))
}

export default routes
