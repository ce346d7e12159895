// Login, logout, changing one's own password, and "who am I".
import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import type { Services } from '../app.ts'
import { errorResponses } from '../schemas.ts'
import { LoginRefused } from '../services/org.ts'

const refused = { 423: { $ref: 'Error#', description: '账号已锁定（Retry-After：解锁前的秒数）' }, 429: { $ref: 'Error#', description: '此地址登录失败次数过多（Retry-After：可再试前的秒数）' } }
const password = { type: 'string', minLength: 8, maxLength: 72, description: '新密码，至少 8 位，并须符合本单位的密码规则' }

/** Passes Retry-After on with a refused login. */
function retryAfter(reply: FastifyReply) {
  return (err: unknown): never => {
    if (err instanceof LoginRefused) reply.header('retry-after', String(err.retryAfter))
    throw err
  }
}

const routes: FastifyPluginAsync<Services> = async (app, { org }) => {
  const token = (userId: string, ver: number) => {
    const jti = randomUUID()
    return { jti, token: app.jwt.sign({ sub: userId, ver, jti }) }
  }

  app.post<{ Body: { username: string; password: string } }>('/auth/login', {
    config: { public: true },
    schema: {
      tags: ['auth'],
      summary: '用户名密码登录，返回签名令牌；连续密码错误将锁定账号，同一地址失败过多将暂时拒绝',
      body: { type: 'object', required: ['username', 'password'], additionalProperties: false, properties: { username: { type: 'string', minLength: 1, maxLength: 100 }, password: { type: 'string', minLength: 1, maxLength: 200 } } },
      response: { 200: { type: 'object', properties: { token: { type: 'string' }, user: { type: 'object', additionalProperties: true } } }, ...errorResponses, ...refused },
    },
  }, async (req, reply) => {
    const { principal, tokenVersion } = await org.login(req.body.username, req.body.password, { ip: req.ip, log: req.log }).catch(retryAfter(reply))
    const issued = token(principal.userId, tokenVersion)
    req.log.info({ userId: principal.userId, ip: req.ip, jti: issued.jti }, 'login')
    return { token: issued.token, user: principal }
  })

  app.post('/auth/logout', {
    schema: { tags: ['auth'], summary: '退出登录：本人的所有登录令牌随即失效', response: { 204: { type: 'null' }, ...errorResponses } },
  }, async (req, reply) => {
    // An API key is no session; there is nothing to end.
    if (req.principal.channel === 'web') await org.revokeSessions(req.principal.userId, 'logout', { ip: req.ip, log: req.log })
    return reply.status(204).send()
  })

  app.post<{ Body: { oldPassword: string; newPassword: string } }>('/auth/password', {
    schema: {
      tags: ['auth'],
      summary: '修改本人密码：原有的登录令牌全部失效，返回新令牌',
      body: {
        type: 'object', required: ['oldPassword', 'newPassword'], additionalProperties: false,
        properties: { oldPassword: { type: 'string', minLength: 1, maxLength: 200, description: '原密码' }, newPassword: password },
      },
      response: { 200: { type: 'object', properties: { token: { type: 'string' } } }, ...errorResponses, ...refused },
    },
  }, async (req, reply) => {
    const version = await org.changePassword(req.principal, req.body.oldPassword, req.body.newPassword, { ip: req.ip, log: req.log }).catch(retryAfter(reply))
    return { token: token(req.principal.userId, version).token }
  })

  app.get('/me', {
    schema: { tags: ['auth'], summary: '当前用户', response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses } },
  }, async (req) => req.principal)
}

export default routes
