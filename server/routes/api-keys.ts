// 接口密钥: the unit admin's integrator keys — list (never a secret), create with scopes, change a
// key's name or scopes, rotate its secret, revoke it. The secret is in the answer to create and
// rotate only. Unit admins only (logged in, not with a key); another unit's key answers 404.
import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../app.ts'
import { apiScopes, scopeNames } from '../api-scopes.ts'
import { errorResponses } from '../schemas.ts'
import { ApiKeys } from '../services/api-keys.ts'

const name = { type: 'string', minLength: 1, maxLength: 50, pattern: '\\S', description: '密钥名称，如对接的系统名' }
const scopes = {
  type: 'array', maxItems: apiScopes.length, uniqueItems: true, items: { type: 'string', enum: [...apiScopes] },
  description: `权限：${apiScopes.map((s) => `${s}（${scopeNames[s]}）`).join('；')}`,
}
const id = { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid' } } }
const key = {
  type: 'object',
  properties: {
    id: { type: 'string' }, name: { type: 'string' },
    prefix: { type: ['string', 'null'], description: '密钥的前几位，用于辨认（完整密钥只在新建和轮换时显示一次）' },
    scopes: { type: 'array', items: { type: 'string' } },
    accountId: { type: 'string', description: '密钥所用的接口账号（流转日志中的办理人）' }, accountName: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' }, createdBy: { type: ['string', 'null'] },
    lastUsedAt: { type: ['string', 'null'], format: 'date-time' }, rotatedAt: { type: ['string', 'null'], format: 'date-time' },
    revokedAt: { type: ['string', 'null'], format: 'date-time' }, revokedBy: { type: ['string', 'null'] },
  },
}
const withSecret = { type: 'object', properties: { ...key.properties, secret: { type: 'string', description: '完整密钥，只显示这一次，请立即保存（请求头 X-API-Key）' } } }

const routes: FastifyPluginAsync<Services> = async (app, { knex }) => {
  const keys = new ApiKeys(knex)
  const ctx = (req: { ip: string; log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void } }) => ({ ip: req.ip, log: req.log })

  app.get('/admin/api-keys', {
    schema: { tags: ['admin'], summary: '本单位的接口密钥（单位管理员；不含密钥本身）', response: { 200: { type: 'array', items: key }, ...errorResponses } },
  }, async (req) => keys.list(req.principal))

  app.post<{ Body: { name: string; scopes: string[] } }>('/admin/api-keys', {
    schema: {
      tags: ['admin'], summary: '新建接口密钥并选择其权限（单位管理员）；完整密钥只在此次返回',
      body: { type: 'object', required: ['name', 'scopes'], additionalProperties: false, properties: { name, scopes } },
      response: { 201: withSecret, ...errorResponses },
    },
  }, async (req, reply) => reply.status(201).send(await keys.create(req.principal, { name: req.body.name.trim(), scopes: req.body.scopes }, ctx(req))))

  app.patch<{ Params: { id: string }; Body: { name?: string; scopes?: string[] } }>('/admin/api-keys/:id', {
    schema: {
      tags: ['admin'], summary: '修改接口密钥的名称或权限（单位管理员；权限整组替换，立即生效）', params: id,
      body: { type: 'object', minProperties: 1, additionalProperties: false, properties: { name, scopes } },
      response: { 200: key, ...errorResponses },
    },
  }, async (req) => keys.update(req.principal, req.params.id, { ...req.body, name: req.body.name?.trim() }, ctx(req)))

  app.post<{ Params: { id: string } }>('/admin/api-keys/:id/rotate', {
    schema: { tags: ['admin'], summary: '轮换接口密钥：生成新密钥（只显示这一次），原密钥立即失效（单位管理员）', params: id, response: { 200: withSecret, ...errorResponses } },
  }, async (req) => keys.rotate(req.principal, req.params.id, ctx(req)))

  app.post<{ Params: { id: string } }>('/admin/api-keys/:id/revoke', {
    schema: { tags: ['admin'], summary: '吊销接口密钥：立即且永久失效（单位管理员）', params: id, response: { 200: key, ...errorResponses } },
  }, async (req) => keys.revoke(req.principal, req.params.id, ctx(req)))
}

export default routes
