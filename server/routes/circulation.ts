// 传阅: send a document for reading, my 待阅/已阅, mark 已阅, who has read it, 催阅.
import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../app.ts'
import { errorResponses } from '../schemas.ts'
import { Circulation, type CirculationInput, type ReadingQuery } from '../services/circulation.ts'
import { listQuery } from './tasks.ts'

const id = { type: 'object', properties: { id: { type: 'string', format: 'uuid' } } }
const readerId = { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]{1,18}$' } } }
const time = { type: ['string', 'null'], format: 'date-time' }
const reader = {
  type: 'object',
  properties: {
    userId: { type: 'string' }, name: { type: 'string' }, viaDepartment: { type: ['string', 'null'], description: '经由哪个部门传阅（按人员传阅时为空）' },
    status: { type: 'string', enum: ['已阅', '未阅'] }, readAt: time, comment: { type: ['string', 'null'] },
  },
}
const circulation = {
  type: 'object',
  properties: {
    id: { type: 'string' }, documentId: { type: 'string' }, sentBy: { type: 'string' }, senderName: { type: 'string' }, note: { type: ['string', 'null'] },
    sentAt: { type: 'string', format: 'date-time' }, urgedAt: time, urgeCount: { type: 'integer' }, readCount: { type: 'integer' },
    notified: { type: 'integer' }, readers: { type: 'array', items: reader },
  },
}
const mineItem = {
  type: 'object',
  properties: {
    id: { type: 'string', description: '待阅事项编号' }, circulationId: { type: 'string' }, senderName: { type: 'string' }, note: { type: ['string', 'null'] },
    sentAt: { type: 'string', format: 'date-time' }, readAt: time, comment: { type: ['string', 'null'] },
  },
}
const readingItem = {
  type: 'object',
  properties: {
    ...mineItem.properties,
    documentId: { type: 'string' }, documentKind: { type: 'string' }, title: { type: 'string' }, docNumber: { type: ['string', 'null'] },
    urgency: { type: ['string', 'null'] }, documentStatus: { type: 'string' },
  },
}
const userIds = { type: 'array', maxItems: 500, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 100 } }

const routes: FastifyPluginAsync<Services> = async (app, { knex, documents, notifications }) => {
  const service = new Circulation(knex, documents, notifications)

  app.post<{ Params: { id: string }; Body: CirculationInput }>('/documents/:id/circulations', {
    schema: {
      tags: ['circulation'],
      summary: '传阅：把公文送本单位人员或部门（部门内全部人员）阅知，可附言。该公文的办理人，或领导批示后的办公室可以传阅；传阅不影响流程',
      params: id,
      body: {
        type: 'object', additionalProperties: false,
        properties: { people: userIds, departments: userIds, note: { type: ['string', 'null'], maxLength: 500, description: '附言' } },
      },
      response: { 201: circulation, ...errorResponses },
    },
  }, async (req, reply) => reply.status(201).send(await service.send(req.principal, req.params.id, req.body)))

  app.get<{ Params: { id: string } }>('/documents/:id/circulations', {
    schema: {
      tags: ['circulation'], summary: '公文的传阅情况：我发起的传阅及每位传阅对象的已阅/未阅、时间和意见；我在该公文上的待阅事项', params: id,
      response: {
        200: { type: 'object', properties: { maySend: { type: 'boolean' }, sent: { type: 'array', items: circulation }, mine: { type: 'array', items: mineItem } } },
        ...errorResponses,
      },
    },
  }, async (req) => service.ofDocument(req.principal, req.params.id))

  app.post<{ Params: { id: string } }>('/circulations/:id/urge', {
    schema: {
      tags: ['circulation'], summary: '催阅：提醒尚未阅的传阅对象（传阅人；同一传阅 10 分钟内限一次）', params: id,
      response: { 200: { type: 'object', properties: { circulationId: { type: 'string' }, urgedAt: { type: 'string', format: 'date-time' }, notified: { type: 'integer' } } }, ...errorResponses },
    },
  }, async (req) => service.urge(req.principal, req.params.id))

  app.get<{ Querystring: ReadingQuery }>('/reading', {
    schema: {
      tags: ['circulation'], summary: '我的待阅（state=unread，默认）、已阅（read）或全部（all），最新在前；可按标题、发文字号、传阅日期、公文类型查找',
      querystring: { ...listQuery, properties: { ...listQuery.properties, state: { type: 'string', enum: ['unread', 'read', 'all'], default: 'unread', description: 'unread 待阅，read 已阅，all 全部' } } },
      response: { 200: { type: 'object', properties: { total: { type: 'integer' }, items: { type: 'array', items: readingItem } } }, ...errorResponses },
    },
  }, async (req) => service.mine(req.principal, req.query))

  app.post<{ Params: { id: string }; Body: { comment?: string | null } }>('/reading/:id/read', {
    schema: {
      tags: ['circulation'], summary: '已阅：将我的一项待阅标为已阅，可附阅读意见（记入流转日志）', params: readerId,
      body: { type: 'object', additionalProperties: false, properties: { comment: { type: ['string', 'null'], maxLength: 2000 } } },
      response: {
        200: { type: 'object', properties: { id: { type: 'string' }, circulationId: { type: 'string' }, documentId: { type: 'string' }, readAt: { type: 'string', format: 'date-time' }, comment: { type: ['string', 'null'] } } },
        ...errorResponses,
      },
    },
  }, async (req) => service.markRead(req.principal, req.params.id, req.body ?? {}))
}

export default routes
