// Authentication: a signed login token (Authorization: Bearer) for people, X-API-Key for
// integrators. Every route needs one unless it declares config.public. Tokens are HS256 only and
// must carry an expiry; each carries its person's token version, checked against the database on
// every request, so raising the version (password change, logout, an admin) revokes them.
// An API key may call only the routes its scopes open (api-scopes.ts; any other route is 403), and
// acts only on documents it started (checked once the request's params and body are parsed).
import fastifyJwt from '@fastify/jwt'
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { keyRouteFor, keyRouteNote } from '../api-scopes.ts'
import { AppError, fail } from '../errors.ts'
import type { ApiKeys } from '../services/api-keys.ts'
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

export default fp(async function auth(app: FastifyInstance, opts: { secret: string; tokenTtl: string; org: Org; apiKeys: ApiKeys }) {
  await app.register(fastifyJwt, {
    secret: opts.secret,
    sign: { algorithm: 'HS256', expiresIn: opts.tokenTtl },
    verify: { algorithms: ['HS256'], requiredClaims: ['sub', 'ver', 'jti', 'iat', 'exp'] },
  })
  app.decorateRequest('principal', null as unknown as Principal)
  // The OpenAPI document says, route by route, what a key needs.
  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat()
    if (route.config?.public || !route.schema || methods.includes('HEAD')) return
    const note = keyRouteNote(keyRouteFor(String(methods[0]), route.url))
    const schema = route.schema as { description?: string }
    if (!schema.description?.includes(note)) schema.description = schema.description ? `${schema.description}\n\n${note}` : note
  })
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const url = req.routeOptions.url
    if (req.routeOptions.config?.public || !url || url === '/docs' || url.startsWith('/docs/')) return
    const apiKey = req.headers['x-api-key']
    if (typeof apiKey === 'string' && apiKey) {
      req.principal = await opts.org.fromApiKey(apiKey)
      checkScope(req)
      clientChannel(req)
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
    clientChannel(req)
  })
  // A key acts only on documents it started: the route's document, a merge's sources, a task's document.
  app.addHook('preHandler', async (req: FastifyRequest) => {
    const key = req.principal?.apiKey
    if (!key) return
    const route = keyRouteFor(req.method, req.routeOptions.url ?? '')
    if (!route?.actsOn) return
    const params = (req.params ?? {}) as Record<string, string>
    try {
      if (route.actsOn === 'task') return await opts.apiKeys.checkActsOn(req.principal, { task: params.key })
      const from = (req.body as { from?: unknown } | undefined)?.from
      await opts.apiKeys.checkActsOn(req.principal, { documents: [params.id, ...(Array.isArray(from) ? from.map(String) : [])] })
    } catch (err) {
      if (err instanceof AppError && err.code === 'FORBIDDEN') req.log.warn({ keyId: key.id, userId: req.principal.userId, route: `${req.method} ${req.routeOptions.url}`, params }, 'api key refused: not its document')
      throw err
    }
  })
})

/** 403 unless one of the key's scopes opens the route; routes not in the table open to no key. */
function checkScope(req: FastifyRequest) {
  const key = req.principal.apiKey!
  const url = req.routeOptions.url ?? ''
  const route = keyRouteFor(req.method, url)
  if (route && (route.scopes === 'any' || route.scopes.some((s) => key.scopes.includes(s)))) return
  const missing = route && route.scopes !== 'any' ? route.scopes : []
  req.log.info({ keyId: key.id, userId: req.principal.userId, route: `${req.method} ${url}`, scopes: key.scopes, missing }, 'api key refused: missing scope')
  if (!missing.length) throw fail('SCOPE_MISSING', `API 密钥不能调用此接口（${req.method} ${url}），请用登录账号操作`)
  throw fail('SCOPE_MISSING', `此 API 密钥没有${missing.map((s) => `“${s}”`).join('或')}权限`)
}

/**
 * The channel a caller's actions are recorded with. A key is always 接口; a person's session is
 * 网页, or 移动端 when its client sends `X-Gongwen-Channel: mobile` (the web app does on a phone).
 * Neither may claim the other's: a session cannot say api, a key cannot say web or mobile.
 */
function clientChannel(req: FastifyRequest) {
  const header = req.headers['x-gongwen-channel']
  if (header === undefined) return
  const value = String(header).trim().toLowerCase()
  const field = [{ field: 'X-Gongwen-Channel', message: req.principal.channel === 'api' ? 'API 密钥的调用只记录为“接口”（api）' : '登录账号只能是 web（网页）或 mobile（移动端）' }]
  if (req.principal.channel === 'api') {
    if (value !== 'api') throw fail('VALIDATION', '请求头 X-Gongwen-Channel 不正确：API 密钥的调用只记录为“接口”', field)
    return
  }
  if (value === 'mobile') req.principal = { ...req.principal, client: 'mobile' }
  else if (value !== 'web') throw fail('VALIDATION', '请求头 X-Gongwen-Channel 不正确：登录账号只能是 web 或 mobile', field)
}
