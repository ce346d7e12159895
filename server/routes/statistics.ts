// Statistics: per unit and department, for a period (发文, 收文, 呈阅笺, 在办, 超期, 办结, 办结率).
import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../app.ts'
import { errorResponses } from '../schemas.ts'
import { Statistics } from '../services/statistics.ts'

const count = (description: string) => ({ type: 'integer', description })
const row = {
  type: 'object',
  properties: {
    sent: count('发文数：期间内起草的发文（不含失败、已撤销）'),
    received: count('收文数：期间内登记或接收的收文'),
    chengyue: count('呈阅笺数：期间内起草的呈阅笺'),
    created: count('期间内新建的公文（不含失败、已撤销），办结率的分母'),
    open: count('在办：期间内新建、至今仍在流转的公文'),
    overdue: count('超期：在办公文中，公文办理时限已过或有待办超过时限的'),
    completed: count('办结数：办结时间在期间内的公文（不论何时新建）'),
    createdCompleted: count('期间内新建且在期末前办结的公文，办结率的分子'),
    completionRate: { type: ['number', 'null'], description: '办结率 = createdCompleted / created，保留 4 位小数；无公文时为 null' },
  },
} as const

const routes: FastifyPluginAsync<Services> = async (app, { knex }) => {
  // Statistics is not (yet) one of the shared Services; it needs nothing but the database.
  const statistics = new Statistics(knex)

  app.get<{ Querystring: { from?: string; to?: string; departmentId?: string } }>('/statistics', {
    schema: {
      tags: ['statistics'],
      summary: '本单位及各科室的公文统计（发文、收文、呈阅笺、在办、超期、办结、办结率）；限单位管理员、机要/收发人员、领导和集成方',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          from: { type: 'string', format: 'date', description: '起始日期 YYYY-MM-DD（北京时间，含当日）；默认为 to 所在年或今年的 1 月 1 日' },
          to: { type: 'string', format: 'date', description: '结束日期 YYYY-MM-DD（北京时间，含当日）；默认为 from 所在年或今年的 12 月 31 日；期间不超过 5 年' },
          departmentId: { type: 'string', maxLength: 100, description: '只列出该科室的一行（单位合计不变）' },
        },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            unitId: { type: 'string' },
            from: { type: 'string', format: 'date' },
            to: { type: 'string', format: 'date' },
            asOf: { type: 'string', format: 'date-time', description: '统计时刻：在办、超期按此时刻计算' },
            unit: row,
            departments: {
              type: 'array',
              items: { type: 'object', properties: { departmentId: { type: ['string', 'null'], description: '科室编号；未分配科室的公文为 null' }, name: { type: 'string' }, ...row.properties } },
            },
          },
        },
        ...errorResponses,
      },
    },
  }, async (req) => statistics.forUnit(req.principal, req.query))
}

export default routes
