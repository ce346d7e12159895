// Authentication: a signed login token (Authorization: Bearer) for people, X-API-Key for
// integrators. Every route needs one unless it declares config.public. Tokens are HS256 only and
// must carry an expiry; each carries its person's token version, checked against the database on
// every request, so raising the version (password change, logout, an admin) revokes them.
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

/** The claims of a login token. */
export interface TokenClaims {
  sub: string
  /** The person's token version when it was issued. */
  ver: number
  jti: string
  iat: number
  exp: number
}

export default fp(async function auth(app: FastifyInstance, opts: { secret: string; tokenTtl: string; org: Org }) {
  await app.register(fastifyJwt, {
    secret: opts.secret,
    sign: { algorithm: 'HS256', expiresIn: opts.tokenTtl },
    verify: { algorithms: ['HS256'], requiredClaims: ['sub', 'ver', 'jti', 'iat', 'exp'] },
  })
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
    let claims: TokenClaims
    try {
      claims = await req.jwtVerify<TokenClaims>()
    } catch {
      throw fail('UNAUTHENTICATED', '登录已失效，请重新登录')
    }
    if (typeof claims.sub !== 'string' || !Number.isInteger(claims.ver)) throw fail('UNAUTHENTICATED', '登录已失效，请重新登录')
    req.principal = await opts.org.principal(claims.sub, 'web', claims.ver)
  })
})
