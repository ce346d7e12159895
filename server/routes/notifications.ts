// Notifications: my in-app list, marking read, 催办 of a task, the unit's channel settings, my phone.
import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../app.ts'
import { errorResponses, taskKeyParams } from '../schemas.ts'

const notification = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', description: 'reminder 办理提醒 · overdue 超期 · urge 催办 · arrival 新待办' },
    taskKey: { type: 'string' },
    documentId: { type: ['string', 'null'] },
    title: { type: 'string' },
    stepName: { type: 'string' },
    text: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    readAt: { type: ['string', 'null'], format: 'date-time' },
  },
}
const settings = {
  type: 'object',
  properties: {
    webhookUrl: { type: ['string', 'null'], description: 'Webhook 地址：每条通知以 JSON POST 至此，带 Idempotency-Key 头' },
    smsGatewayUrl: { type: ['string', 'null'], description: '短信网关地址：以 JSON {phone, text} POST 至此，带 Idempotency-Key 头' },
  },
}
const taskKey = taskKeyParams

const routes: FastifyPluginAsync<Services> = async (app, { notifications }) => {
  app.get<{ Querystring: { limit: number; offset: number } }>('/notifications', {
    schema: {
      tags: ['notifications'], summary: '我的通知（最新在前），含未读数', querystring: { $ref: 'Page#' },
      response: { 200: { type: 'object', properties: { total: { type: 'integer' }, unread: { type: 'integer' }, items: { type: 'array', items: notification } } }, ...errorResponses },
    },
  }, async (req) => notifications.list(req.principal, req.query))

  app.post<{ Params: { id: string } }>('/notifications/:id/read', {
    schema: {
      tags: ['notifications'], summary: '将我的一条通知标为已读',
      params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]{1,18}$' } } },
      response: { 200: notification, ...errorResponses },
    },
  }, async (req) => notifications.markRead(req.principal, req.params.id))

  app.post<{ Params: { key: string } }>('/tasks/:key/urge', {
    schema: {
      tags: ['notifications'], summary: '催办：通知该待办的办理人（机要室、单位管理员或领导；同一待办 10 分钟内限一次）', params: taskKey,
      response: { 200: { type: 'object', properties: { taskKey: { type: 'string' }, urgedAt: { type: 'string', format: 'date-time' }, notified: { type: 'integer' } } }, ...errorResponses },
    },
  }, async (req) => notifications.urge(req.principal, req.params.key))

  app.get('/settings/notifications', {
    schema: { tags: ['notifications'], summary: '本单位的通知通道设置（单位管理员）', response: { 200: settings, ...errorResponses } },
  }, async (req) => notifications.settings(req.principal))

  app.put<{ Body: { webhookUrl: string | null; smsGatewayUrl: string | null } }>('/settings/notifications', {
    schema: {
      tags: ['notifications'], summary: '设置本单位的 Webhook 与短信网关地址（单位管理员；填 null 停用）',
      body: {
        type: 'object', required: ['webhookUrl', 'smsGatewayUrl'], additionalProperties: false,
        properties: { webhookUrl: { type: ['string', 'null'], maxLength: 2000 }, smsGatewayUrl: { type: ['string', 'null'], maxLength: 2000 } },
      },
      response: { 200: settings, ...errorResponses },
    },
  }, async (req) => notifications.updateSettings(req.principal, req.body))

  app.put<{ Body: { phone: string | null } }>('/people/me/phone', {
    schema: {
      tags: ['people'], summary: '设置我接收短信通知的手机号（填 null 清除）',
      body: { type: 'object', required: ['phone'], additionalProperties: false, properties: { phone: { type: ['string', 'null'], maxLength: 20, description: '11 位中国大陆手机号码' } } },
      response: { 200: { type: 'object', properties: { phone: { type: ['string', 'null'] } } }, ...errorResponses },
    },
  }, async (req) => notifications.setPhone(req.principal, req.body.phone))
}

export default routes
