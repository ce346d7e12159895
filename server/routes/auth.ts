// Login and "who am I".
import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../app.ts'
import { errorResponses } from '../schemas.ts'

const routes: FastifyPluginAsync<Services> = async (app, { org }) => {
  app.post<{ Body: { username: string; password: string } }>('/auth/login', {
    config: { public: true },
    schema: {
      tags: ['auth'],
      summary: '用户名密码登录，返回签名令牌',
      body: { type: 'object', required: ['username', 'password'], additionalProperties: false, properties: { username: { type: 'string', minLength: 1, maxLength: 100 }, password: { type: 'string', minLength: 1, maxLength: 200 } } },
      response: { 200: { type: 'object', properties: { token: { type: 'string' }, user: { type: 'object', additionalProperties: true } } }, ...errorResponses },
    },
  }, async (req) => {
    const p = await org.login(req.body.username, req.body.password)
    return { token: app.jwt.sign({ sub: p.userId }), user: p }
  })

  app.get('/me', {
    schema: { tags: ['auth'], summary: '当前用户', response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses } },
  }, async (req) => req.principal)
}

export default routes
