// Authentication: a signed login token (Authorization: Bearer) for people, X-API-Key for
// integrators. Every route needs one unless it declares config.public.
import fastifyJwt from '@fastify/jwt'
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { fail } from '../errors.ts'
import type { Org } from '../services/org.ts'
import type { Principal } from '../services/principal.ts'

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal
  }
  interface FastifyContextConfig {
    public?: boolean
  }
}

export default fp(async function auth(app: FastifyInstance, opts: { secret: string; tokenTtl: string; org: Org }) {
  await app.register(fastifyJwt, { secret: opts.secret, sign: { expiresIn: opts.tokenTtl } })
  app.decorateRequest('principal', null as unknown as Principal)
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const url = req.routeOptions.url
    if (req.routeOptions.config?.public || !url || url === '/docs' || url.startsWith('/docs/')) return
    const apiKey = req.headers['x-api-key']
    if (typeof apiKey === 'string' && apiKey) {
      req.principal = await opts.org.fromApiKey(apiKey)
      return
    }
    if (!req.headers.authorization) throw fail('UNAUTHENTICATED')
    let payload: { sub: string }
    try {
      payload = await req.jwtVerify<{ sub: string }>()
    } catch {
      throw fail('UNAUTHENTICATED', '登录已失效，请重新登录')
    }
    req.principal = await opts.org.principal(payload.sub, 'web')
  })
})
