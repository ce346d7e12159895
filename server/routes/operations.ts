// 运行监控: the unit's stuck documents, failing automated steps and engine incidents with 催办, 重试
// and 取消, and the figures (volume, 办结率, overdue by department and month) with a CSV export.
import type { FastifyPluginAsync } from 'fastify'
import type { Logger } from 'pino'
import type { Services } from '../app.ts'
import { errorResponses } from '../schemas.ts'
import { DEFAULT_STUCK_DAYS, Operations } from '../services/operations.ts'
import { OperationsStatistics } from '../services/operations-statistics.ts'

const engineId = { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$' }
const nullableText = { type: ['string', 'null'] }
const documentRef = { type: ['object', 'null'], properties: { id: { type: 'string' }, title: { type: 'string' }, kind: { type: 'string' } } }
const failure = {
  type: 'object',
  properties: {
    id: { type: 'string', description: '异常编号（引擎中的编号）' }, stepId: { type: 'string' }, stepName: { type: 'string', description: '出错的步骤' },
    topic: nullableText, kind: { type: 'string', enum: ['automated', 'job', 'other'], description: 'automated：自动步骤；job：引擎作业（定时器等）' },
    message: nullableText, retries: { type: ['integer', 'null'], description: '剩余重试次数' }, since: { type: ['string', 'null'] }, document: documentRef,
  },
}
const stuck = {
  type: 'object',
  properties: {
    taskKey: { type: 'string' }, stepName: { type: 'string' }, candidateRole: nullableText, assignee: nullableText, assigneeName: nullableText,
    since: { type: 'string', format: 'date-time', description: '到达该步骤的时间' }, deadline: { type: ['string', 'null'], format: 'date-time' },
    days: { type: 'integer', description: '已停留天数' }, documentId: { type: 'string' }, title: { type: 'string' }, kind: { type: 'string' }, docNumber: nullableText,
  },
}
const reasonBody = {
  type: 'object', additionalProperties: false, required: ['reason'],
  properties: { reason: { type: 'string', minLength: 1, maxLength: 500, description: '取消原因，记入流转日志' } },
}
const period = {
  type: 'object', additionalProperties: false,
  properties: {
    from: { type: 'string', format: 'date', description: '起始日期 YYYY-MM-DD（北京时间，含当日）；默认为今年 1 月 1 日' },
    to: { type: 'string', format: 'date', description: '结束日期 YYYY-MM-DD（北京时间，含当日）；期间不超过 5 年' },
  },
}
const measures = {
  type: 'object', additionalProperties: true,
  properties: { created: { type: 'integer', description: '公文量' }, completionRate: { type: ['number', 'null'], description: '办结率' }, overdue: { type: 'integer', description: '超期' } },
}
const departmentRows = { type: 'array', items: { ...measures, properties: { ...measures.properties, departmentId: nullableText, name: { type: 'string' } } } }

const routes: FastifyPluginAsync<Services> = async (app, { knex, engine, notifications }) => {
  const operations = new Operations(knex, engine, notifications, app.log as unknown as Logger)
  const figures = new OperationsStatistics(knex)

  app.get<{ Querystring: { stuckDays: number } }>('/operations/problems', {
    schema: {
      tags: ['operations'], summary: '运行监控：停留超过时限的公文、失败的自动步骤和流程引擎异常；限办公室主任和单位管理员',
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { stuckDays: { type: 'number', minimum: 0, maximum: 3650, default: DEFAULT_STUCK_DAYS, description: `在一个步骤停留超过多少天算滞留，默认 ${DEFAULT_STUCK_DAYS}` } },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            stuckDays: { type: 'number' }, asOf: { type: 'string' }, engineAvailable: { type: 'boolean', description: '流程引擎无应答时为 false，此时只列滞留公文' },
            stuck: { type: 'array', items: stuck }, failing: { type: 'array', items: failure }, incidents: { type: 'array', items: failure },
          },
        },
        ...errorResponses,
      },
    },
  }, async (req) => operations.problems(req.principal, req.query.stuckDays))

  app.post<{ Params: { taskKey: string } }>('/operations/tasks/:taskKey/urge', {
    schema: {
      tags: ['operations'], summary: '催办滞留公文当前步骤的办理人（同一待办 10 分钟内只催一次）',
      params: { type: 'object', required: ['taskKey'], properties: { taskKey: engineId } },
      response: { 200: { type: 'object', properties: { taskKey: { type: 'string' }, urgedAt: { type: 'string' }, notified: { type: 'integer' } } }, ...errorResponses },
    },
  }, async (req) => operations.urge(req.principal, req.params.taskKey))

  app.post<{ Params: { id: string }; Body: { reason: string } }>('/operations/documents/:id/cancel', {
    schema: {
      tags: ['operations'], summary: '取消公文的流转（结束其流程实例），原因记入流转日志',
      params: { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid' } } },
      body: reasonBody,
      response: { 200: { type: 'object', properties: { documentId: { type: 'string' }, status: { type: 'string' }, reason: { type: 'string' } } }, ...errorResponses },
    },
  }, async (req) => operations.cancelDocument(req.principal, req.params.id, req.body.reason))

  app.post<{ Params: { id: string } }>('/operations/incidents/:id/retry', {
    schema: {
      tags: ['operations'], summary: '重试引擎异常中失败的步骤',
      params: { type: 'object', required: ['id'], properties: { id: engineId } },
      response: { 200: { type: 'object', properties: { incidentId: { type: 'string' }, retried: { type: 'boolean' } } }, ...errorResponses },
    },
  }, async (req) => operations.retryIncident(req.principal, req.params.id))

  app.post<{ Params: { id: string }; Body: { reason: string } }>('/operations/incidents/:id/cancel', {
    schema: {
      tags: ['operations'], summary: '放弃引擎异常：取消其公文的流转，原因记入流转日志',
      params: { type: 'object', required: ['id'], properties: { id: engineId } },
      body: reasonBody,
      response: {
        200: { type: 'object', properties: { incidentId: { type: 'string' }, documentId: { type: 'string' }, status: { type: 'string' }, reason: { type: 'string' } } },
        ...errorResponses,
      },
    },
  }, async (req) => operations.cancelIncident(req.principal, req.params.id, req.body.reason))

  app.get<{ Querystring: { from?: string; to?: string } }>('/operations/statistics', {
    schema: {
      tags: ['operations'], summary: '运行监控图表数据：按科室、按月的公文量、办结率、超期（口径同 /statistics）',
      querystring: period,
      response: {
        200: {
          type: 'object',
          properties: {
            unitId: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, asOf: { type: 'string' }, unit: measures, departments: departmentRows,
            months: {
              type: 'array',
              items: { type: 'object', properties: { month: { type: 'string', description: 'YYYY-MM' }, from: { type: 'string' }, to: { type: 'string' }, unit: measures, departments: departmentRows } },
            },
          },
        },
        ...errorResponses,
      },
    },
  }, async (req) => figures.figures(req.principal, req.query))

  app.get<{ Querystring: { from?: string; to?: string } }>('/operations/statistics.csv', {
    schema: { tags: ['operations'], summary: '运行监控图表数据导出为 CSV（UTF-8 带 BOM，Excel 可直接打开）', querystring: period, response: errorResponses },
  }, async (req, reply) => {
    const csv = await figures.csv(req.principal, req.query)
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="operations-${req.principal.unitId}.csv"`)
      .send(csv)
  })
}

export default routes
