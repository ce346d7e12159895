// The unit's settings: 办理时限, 空白签名, 发文字号 prefixes, seal, password policy (read by anyone of
// the unit, changed by its admin).
import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../app.ts'
import { errorResponses } from '../schemas.ts'
import { UnitSettingsService, type UnitSettings } from '../services/unit-settings.ts'

const duration = { type: 'string', pattern: '^P(?!$)(\\d{1,5}D)?(T(?=\\d)(\\d{1,6}H)?(\\d{1,7}M)?(\\d{1,9}S)?)?$', description: 'ISO 8601 时长，如 PT72H' }
const limit = { type: 'object', required: ['limit', 'remindBefore'], additionalProperties: false, properties: { limit: duration, remindBefore: duration } }
const passwordPolicy = {
  type: ['object', 'null'], additionalProperties: false,
  description: '本单位的密码规则（设置或修改密码时检查）；null 为不设规则（密码至少 8 位）',
  properties: {
    minLength: { type: 'integer', minimum: 8, maximum: 72, description: '最短位数' },
    requireLetter: { type: 'boolean', description: '须包含字母' },
    requireDigit: { type: 'boolean', description: '须包含数字' },
    requireSymbol: { type: 'boolean', description: '须包含符号' },
    requireMixedCase: { type: 'boolean', description: '须同时包含大写和小写字母' },
  },
}
const settings = {
  type: 'object',
  additionalProperties: false,
  properties: {
    timeLimits: {
      type: 'object', description: '各紧急程度的每步办理时限及提前提醒量', additionalProperties: false,
      properties: { 特急: limit, 加急: limit, 平件: limit },
    },
    allowBlankSignature: { type: 'boolean', description: '签发是否允许空白签名' },
    docNumberPrefix: { type: 'string', minLength: 1, maxLength: 20, description: '默认发文字号前缀，如 柳政发' },
    docNumberPrefixes: { type: 'object', maxProperties: 50, propertyNames: { minLength: 1, maxLength: 20 }, description: '按文种的发文字号前缀，如 {"函": "柳政函"}', additionalProperties: { type: 'string', minLength: 1, maxLength: 20 } },
    sealName: { type: 'string', minLength: 1, maxLength: 100 },
    passwordPolicy,
  },
}

const routes: FastifyPluginAsync<Services> = async (app, { knex }) => {
  const service = new UnitSettingsService(knex)
  app.get('/settings/unit', {
    schema: { tags: ['settings'], summary: '本单位设置：办理时限、空白签名、发文字号前缀、印章、密码规则', response: { 200: settings, ...errorResponses } },
  }, async (req) => service.get(req.principal))

  app.put<{ Body: Partial<UnitSettings> }>('/settings/unit', {
    schema: { tags: ['settings'], summary: '修改本单位设置（单位管理员）；新公文按新设置办理', body: settings, response: { 200: settings, ...errorResponses } },
  }, async (req) => service.update(req.principal, req.body))
}

export default routes
