// 行为审计, recorded for every route in one place: after each answer, who did what to which
// object, from where, with what result. Recorded: every change (any method but GET/HEAD) by a
// logged-in person or an integrator key, every login and password attempt (the name tried, never
// the password), and the reads that matter: a document opened, a file downloaded, a 笺 printed,
// the trail itself read or exported. Inbox and list polling is not recorded.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Knex } from 'knex'
import { Audit } from '../services/audit.ts'

/** GET routes whose every call is recorded. */
const AUDITED_READS = new Set([
  '/documents/:id',
  '/documents/:id/files',
  '/files/versions/:versionId',
  '/documents/:id/jian',
  '/documents/:id/jian.pdf',
  '/admin/audit',
  '/admin/audit.csv',
  '/admin/audit/verify',
])

/** Public routes whose attempts are recorded although nobody is logged in yet. */
const ATTEMPTS = new Set(['/auth/login'])

export default fp(async function audit(app: FastifyInstance, opts: { knex: Knex; audit: Audit }) {
  app.addHook('onResponse', async (req: FastifyRequest, reply: FastifyReply) => {
    const route = req.routeOptions.url
    if (!route) return
    const read = req.method === 'GET' || req.method === 'HEAD'
    if (!(req.principal ? !read || AUDITED_READS.has(route) : ATTEMPTS.has(route))) return
    try {
      await opts.audit.record({ ...(await actorOf(opts.knex, req)), ip: req.ip, action: `${req.method} ${route}`, target: targetOf(req), status: reply.statusCode, detail: detailOf(req) })
    } catch (err) {
      // The answer has gone out; a trail entry that could not be written is an operator's alarm.
      req.log.error({ err, route, status: reply.statusCode }, 'could not write the audit trail entry')
    }
  })
})

async function actorOf(knex: Knex, req: FastifyRequest) {
  const p = req.principal
  if (p) return { unitId: p.unitId, actorId: p.userId, actorName: p.apiKey ? `${p.name}（密钥 ${p.apiKey.name}）` : p.name, channel: p.channel }
  // A login: the person the name belongs to, if any (their unit's trail shows the attempt).
  const username = typeof (req.body as { username?: unknown } | undefined)?.username === 'string' ? (req.body as { username: string }).username.slice(0, 100) : null
  const user = username ? await knex('users').where({ username }).first('id', 'unit_id', 'name') : null
  return { unitId: user?.unit_id ?? null, actorId: user?.id ?? null, actorName: user?.name ?? username, channel: null }
}

/** The object acted on: the route's parameters, e.g. "id=…" or "key=…". */
function targetOf(req: FastifyRequest): string | null {
  const params = req.params as Record<string, string> | undefined
  const entries = Object.entries(params ?? {})
  return entries.length ? entries.map(([k, v]) => `${k}=${String(v).slice(0, 200)}`).join('&') : null
}

/** What was chosen, without what was written: a route, a handler, the names of 笺 fields changed. */
function detailOf(req: FastifyRequest): Record<string, unknown> | null {
  const body = req.body
  if (!body || typeof body !== 'object' || Buffer.isBuffer(body)) return null
  const b = body as Record<string, unknown>
  const detail: Record<string, unknown> = {}
  for (const k of ['route', 'nextHandler', 'kind', 'to', 'toTaskKey', 'username']) if (typeof b[k] === 'string') detail[k] = (b[k] as string).slice(0, 200)
  if (b.data && typeof b.data === 'object') detail.fields = Object.keys(b.data as object).slice(0, 50)
  if (Array.isArray(b.roles)) detail.roles = b.roles.slice(0, 20)
  if (Array.isArray(b.scopes)) detail.scopes = b.scopes.slice(0, 20)
  return Object.keys(detail).length ? detail : null
}
