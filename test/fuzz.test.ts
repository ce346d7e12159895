// Bad input is always a 4xx that names the field, never a 500, and changes nothing. A fuzzer reads
// the OpenAPI document the server serves and sends every route bad requests (each carries at least
// one part the route must refuse: wrong types, NUL bytes, huge strings, bad dates, unknown enum
// values, malformed JSON, bad path ids, wrong content types, broken multipart), as people of the
// demo unit and with its API key. Every answer must be a 4xx within the per-request timeout, and a
// fingerprint of every table must be the same before and after. Then each bad input an attacker
// once turned into a 500 is tried on its own. FUZZ_SEED=<n> repeats a run; FUZZ_RUNS sets its size.
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import fc from 'fast-check'
import t from 'tap'
import { strictDateFormat } from '../server/plugins/input.ts'
import { Api, startFawen, startStack, taskFor, waitFor } from './helpers/stack.ts'

const stack = await startStack()
t.teardown(() => stack.close())
const api = new Api(stack)
const knex = stack.server!.knex

const apiKey = 'demo-key-liuzhou-gov'
const people = ['zhangwei', 'zhouadmin', 'lina', 'chenjing']
const others = ['fengxue']
const requestTimeoutMs = 15_000
const runs = Number(process.env.FUZZ_RUNS ?? 2000)
const timeLimitMs = 90_000
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31)

// ---- what exists: a document with its 正文, its open task, and tokens for everyone -------------

const documentId = await startFawen(api)
const nigao = await taskFor(api, 'zhangwei', documentId, 'nigao')
const uploaded = await api.upload('zhangwei', `/documents/${documentId}/files`, { bytes: Buffer.from('正文内容'), name: '正文.txt', type: 'text/plain' }, { kind: '正文' })
if (uploaded.status !== 201) throw new Error(`upload failed: ${uploaded.status} ${JSON.stringify(uploaded.body)}`)
const { fileId, versionId } = uploaded.body as { fileId: string; versionId: string }
if ((await api.call('GET', '/me', { apiKey })).status !== 200) throw new Error('the demo API key does not authenticate')
const tokens = Object.fromEntries(await Promise.all([...people, ...others].map(async (p) => [p, await api.token(p)] as const)))

/** Real ids for each path param name, so that many requests reach past the lookup of their target. */
const realIds: Record<string, string[]> = {
  id: [documentId, 'zhangwei', 'liuzhou-gov-zonghe', '1'],
  fileId: [fileId],
  versionId: [versionId],
  key: [nigao.taskKey],
  baseId: ['fawen'],
  kind: ['completion', 'delivery'],
}

// ---- the fingerprint: count and hash of every table's rows -------------------------------------

/** Columns that record use, not content: an API key's last use is noted when it authenticates. */
const bookkeeping: Record<string, string[]> = { api_keys: ['last_used_at'] }

/**
 * Every table's row count and hash (without its bookkeeping columns). The audit trail (行为审计)
 * records refused attempts too, by design: its rows up to `trailMark` must stay as they were, and
 * rows after it may only record refusals (4xx); its chain head moves with each entry.
 */
async function fingerprint(trailMark?: number): Promise<Record<string, string>> {
  const tables = await knex('information_schema.tables')
    .where({ table_schema: knex.raw('current_schema()'), table_type: 'BASE TABLE' })
    .orderBy('table_name')
    .pluck('table_name')
  const out: Record<string, string> = {}
  for (const table of tables as string[]) {
    if (table === 'audit_heads') continue
    const trail = table === 'audit_log' && trailMark !== undefined
    const { rows } = await knex.raw(
      `select count(*)::int as n, md5(coalesce(string_agg(r.row, E'\\n' order by r.row), '')) as h
         from (select (to_jsonb(t) - ?::text[])::text as row from ?? t ${trail ? 'where id <= ?' : ''}) r`,
      [`{${(bookkeeping[table] ?? []).join(',')}}`, table, ...(trail ? [trailMark] : [])],
    )
    out[table] = `${rows[0].n} rows, md5 ${rows[0].h}`
    if (trail) {
      const bad = await knex(table).where('id', '>', trailMark).whereNot((q) => q.whereBetween('status', [400, 499])).select('action', 'target', 'status')
      if (bad.length) out[`${table} (new entries that are no refusal)`] = JSON.stringify(bad)
    }
  }
  return out
}

/** The last entry of the audit trail, if the trail exists. */
async function trailMark(): Promise<number | undefined> {
  if (!(await knex.schema.hasTable('audit_log'))) return undefined
  return Number((await knex('audit_log').max('id as id').first())?.id ?? 0)
}

/** Waits until nothing moves any more (the engine has settled the document's start). */
async function quietFingerprint(): Promise<Record<string, string>> {
  let last = await fingerprint()
  return waitFor('the database to settle', async () => {
    await new Promise((r) => setTimeout(r, 1000))
    const now = await fingerprint()
    const same = JSON.stringify(now) === JSON.stringify(last)
    last = now
    return same ? now : null
  })
}

// ---- the OpenAPI document: routes, params, bodies ----------------------------------------------

interface Schema {
  type?: string | string[]
  properties?: Record<string, Schema>
  required?: string[]
  additionalProperties?: boolean | Schema
  items?: Schema
  enum?: unknown[]
  format?: string
  pattern?: string
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  minItems?: number
  maxItems?: number
  $ref?: string
  allOf?: Schema[]
  [k: string]: unknown
}
interface Operation {
  method: string
  path: string
  pathParams: Record<string, Schema>
  query: Record<string, Schema>
  body: Schema | null
  multipart: boolean
}

const docRes = await fetch(`${stack.url}/docs/json`)
const openapi = (await docRes.json()) as { paths: Record<string, Record<string, any>>; components: { schemas: Record<string, Schema> } }
const deref = (s: Schema): Schema => {
  if (s.$ref) return deref(openapi.components.schemas[s.$ref.replace('#/components/schemas/', '')])
  if (s.allOf) return s.allOf.map(deref).reduce((a, b) => ({ ...a, ...b, properties: { ...a.properties, ...b.properties } }), {})
  return s
}

const operations: Operation[] = []
for (const [path, item] of Object.entries(openapi.paths)) {
  // Web pages and the API's own documentation are no JSON API.
  if (path === '/' || path.startsWith('/app') || path.startsWith('/docs') || path.startsWith('/assets')) continue
  for (const [method, op] of Object.entries(item)) {
    if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue
    const params = (op.parameters ?? []) as Array<{ in: string; name: string; schema: Schema }>
    const content = op.requestBody?.content ?? {}
    operations.push({
      method: method.toUpperCase(),
      path,
      pathParams: Object.fromEntries(params.filter((p) => p.in === 'path').map((p) => [p.name, p.schema ?? {}])),
      query: Object.fromEntries(params.filter((p) => p.in === 'query').map((p) => [p.name, p.schema ?? {}])),
      body: content['application/json']?.schema ? deref(content['application/json'].schema) : null,
      multipart: Boolean(content['multipart/form-data']) || (op.description ?? '').includes('multipart/form-data'),
    })
  }
}

// The server's validator, rebuilt here (same options and formats) to make sure each mutation is invalid.
// Params and query are coerced from text; a JSON body is taken as typed (no coercion).
const validator = (coerceTypes: 'array' | false) => {
  const ajv = new Ajv({ allErrors: true, coerceTypes, useDefaults: true, strict: false })
  ;(addFormats as unknown as (a: Ajv) => void)(ajv)
  strictDateFormat(ajv)
  for (const [name, s] of Object.entries(openapi.components.schemas)) ajv.addSchema(s, `#/components/schemas/${name}`)
  return ajv
}
const ajv = validator('array')
const typedAjv = validator(false)
const validCache = new Map<Schema, ReturnType<Ajv['compile']>>()
const typedCache = new Map<Schema, ReturnType<Ajv['compile']>>()
/** Whether `value` passes `schema` as the server checks params and query (on a copy: ajv coerces in place). */
function passes(schema: Schema, value: unknown): boolean {
  let validate = validCache.get(schema)
  if (!validate) validCache.set(schema, (validate = ajv.compile(schema)))
  return validate(structuredClone({ v: value }).v) as boolean
}
/** Whether `value` passes `schema` as the server checks a JSON body. */
function bodyPasses(schema: Schema, value: unknown): boolean {
  let validate = typedCache.get(schema)
  if (!validate) typedCache.set(schema, (validate = typedAjv.compile(schema)))
  return validate(structuredClone({ v: value }).v) as boolean
}
const queryObject = (op: Operation): Schema => ({ type: 'object', properties: op.query })

// ---- generators --------------------------------------------------------------------------------

const typeOf = (s: Schema) => (Array.isArray(s.type) ? s.type.find((x) => x !== 'null') : s.type)

/** Strings matching a pattern (fast-check cannot generate from lookaheads: then a few samples). */
function patterned(pattern: string, maxLength: number): fc.Arbitrary<string> {
  try {
    return fc.stringMatching(new RegExp(pattern)).filter((x) => x.length <= maxLength)
  } catch {
    return fc.constantFrom('PT72H', 'P3D', 'abc', 'fawen')
  }
}

/** Values the schema (mostly) accepts: the well-formed rest of a bad request. */
function valid(schema: Schema): fc.Arbitrary<unknown> {
  const s = deref(schema)
  if (s.enum) return fc.constantFrom(...s.enum.filter((v) => v !== null))
  switch (typeOf(s)) {
    case 'string':
      if (s.format === 'uuid') return fc.uuid()
      if (s.format === 'date') return fc.constantFrom('2026-01-01', '2025-12-31', '2024-02-29')
      if (s.format === 'date-time') return fc.constant('2026-01-01T08:00:00Z')
      if (s.pattern) return patterned(s.pattern, s.maxLength ?? 200)
      return fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 20, 20) })
    case 'integer':
      return fc.integer({ min: s.minimum ?? -5, max: Math.min(s.maximum ?? 500, 500) })
    case 'number':
      return fc.double({ noNaN: true, min: -1e6, max: 1e6 })
    case 'boolean':
      return fc.boolean()
    case 'array':
      return fc.array(valid(s.items ?? {}), { minLength: s.minItems ?? 0, maxLength: Math.min(s.maxItems ?? 3, 3) })
    case 'object': {
      const props = s.properties ?? {}
      return fc.record(Object.fromEntries(Object.entries(props).map(([k, v]) => [k, valid(v)])), { requiredKeys: (s.required ?? []).filter((k) => k in props) })
    }
    default:
      return fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.boolean())
  }
}

const badDates = ['0000-01-01', '10000-01-01', '2026-02-30', '2026-13-01', '2026-00-10', '2026-01-00', '1899-12-31', '3000-01-01', '2026-1-1', '20260101', '2025-02-29', 'yesterday', '2026-01-01T00:00:00Z', '+002026-01-01']
const unstorable = ['a\u0000b', '\u0000', '标题\u0000', '\ud800', 'x\udc00y', '\udfff\ud800']
/** Strings with a NUL byte only (URLs cannot carry lone surrogates: they are sent as UTF-8). */
const nulText = fc.constantFrom('a\u0000b', '\u0000', '标题\u0000', '\u0000\u0000x')
/** Anything that may stand where a value should be; mutations keep only what the schema refuses. */
function junk(schema: Schema): fc.Arbitrary<unknown> {
  const s = deref(schema)
  const long = 'x'.repeat((s.maxLength ?? 1000) + 1)
  return fc.oneof(
    fc.constantFrom<unknown>({}, [1, 2], { a: 1 }, 'abc', '', -1, 0, 1.5, 2 ** 53, true, 'maybe', long, '２０２６-０１-０１', '__proto__', 'constructor'),
    fc.constantFrom(...badDates),
    fc.string({ minLength: 1, maxLength: 30 }),
    fc.constant(s.maxItems ? Array.from({ length: s.maxItems + 1 }, (_, i) => `item${i}`) : [{}, {}]),
  )
}
const junkQueryValues = (schema: Schema) => ['abc', '', '-1', '1.5', '0', '99999999999999999999', 'maybe', 'x'.repeat((deref(schema).maxLength ?? 1000) + 1), '%FF', '１', ...badDates]
const junkQuery = (schema: Schema) => fc.oneof(fc.constantFrom(...junkQueryValues(schema)), fc.string({ maxLength: 20 }))

interface Req {
  method: string
  url: string
  who: string
  contentType?: string
  body?: string | Buffer
  /** What is wrong with it, for the report. */
  what: string
}

const enc = (v: unknown) => encodeURIComponent(String(v))
function url(op: Operation, path: Record<string, unknown>, query: Record<string, unknown>, extraQuery = ''): string {
  const p = op.path.replace(/\{([^}]+)\}/g, (_, name) => enc(path[name]))
  const q = [...Object.entries(query).filter(([, v]) => v !== undefined).map(([k, v]) => `${enc(k)}=${enc(v)}`), extraQuery].filter(Boolean).join('&')
  return q ? `${p}?${q}` : p
}

const hasBody = (op: Operation) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(op.method)
const who = fc.constantFrom(...people, ...people, 'api-key')

/** Broken multipart bodies: none of them is an upload that may be stored. */
function brokenMultipart(): fc.Arbitrary<{ contentType: string; body: Buffer; what: string }> {
  const b = 'fuzzboundary'
  const ct = `multipart/form-data; boundary=${b}`
  const part = (headers: string, content: string) => `--${b}\r\n${headers}\r\n\r\n${content}\r\n`
  const file = (name = 'a.txt') => part(`Content-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: text/plain`, '正文内容')
  const kind = part('Content-Disposition: form-data; name="kind"', '附件')
  const end = `--${b}--\r\n`
  const cases: Array<[string, string, string]> = [
    ['truncated body', ct, kind + file().slice(0, -8)],
    ['truncated after a part', ct, kind + file()],
    ['no boundary', 'multipart/form-data', kind + file() + end],
    ['another boundary', 'multipart/form-data; boundary=other', kind + file() + end],
    ['a file part without a name', ct, kind + part('Content-Disposition: form-data; filename="a.txt"\r\nContent-Type: text/plain', 'x') + end],
    ['a file part without a file name', ct, kind + part('Content-Disposition: form-data; name="file"\r\nContent-Type: text/plain', 'x') + end],
    ['an empty file name', ct, kind + part('Content-Disposition: form-data; name="file"; filename=""\r\nContent-Type: text/plain', 'x') + end],
    ['NUL in the file name', ct, kind + file('a\u0000.txt') + end],
    ['NUL in the encoded file name', ct, kind + part(`Content-Disposition: form-data; name="file"; filename*=UTF-8''a%00b.txt\r\nContent-Type: text/plain`, 'x') + end],
    ['NUL in a field', ct, part('Content-Disposition: form-data; name="kind"', '附\u0000件') + file() + end],
    ['NUL in a field name', ct, part('Content-Disposition: form-data; name="ki\u0000nd"', '附件') + file() + end],
    ['an oversized field', ct, part('Content-Disposition: form-data; name="kind"', '附'.repeat(2000)) + file() + end],
    ['too many fields', ct, Array.from({ length: 12 }, (_, i) => part(`Content-Disposition: form-data; name="f${i}"`, 'x')).join('') + file() + end],
    ['two files', ct, kind + file() + file('b.txt') + end],
    ['a malformed part header', ct, `--${b}\r\nContent-Disposition form-data name=file\r\n\r\nx\r\n` + end],
    ['garbage', ct, 'garbage without any boundary'],
    ['no parts', ct, end],
    ['no body', ct, ''],
    ['a JSON body', 'application/json', '{"kind":"附件"}'],
    ['a text body', 'text/plain', '附件'],
  ]
  return fc.constantFrom(...cases).map(([what, contentType, body]) => ({ what, contentType, body: Buffer.from(body, 'utf8') }))
}

/** One operation's bad requests: a well-formed base with one part made bad. */
function badRequests(op: Operation): fc.Arbitrary<Req> {
  const pathNames = Object.keys(op.pathParams)
  const basePath = fc.record(Object.fromEntries(pathNames.map((n) => [n, fc.oneof(fc.constantFrom(...(realIds[n] ?? ['x'])), valid(op.pathParams[n]))])))
  const baseQuery = fc.record(Object.fromEntries(Object.entries(op.query).map(([k, s]) => [k, valid(s)])), { requiredKeys: [] })
  const baseBody = op.body ? valid(op.body) : fc.constant(undefined)
  const base = fc.record({ path: basePath, query: baseQuery, body: baseBody, who })
  const json = (b: unknown) => (b === undefined ? {} : { contentType: 'application/json', body: JSON.stringify(b) })
  const mutations: Array<fc.Arbitrary<Req>> = []
  type Base = { path: Record<string, unknown>; query: Record<string, unknown>; body: unknown; who: string }
  const req = (op: Operation, b: Base, what: string, parts: Partial<Req> = {}, extraQuery = ''): Req => ({
    method: op.method, url: url(op, b.path, b.query, extraQuery), who: b.who, what, ...(op.multipart ? {} : json(b.body)), ...parts,
  })

  // A NUL byte in a query parameter, known or not: every route refuses it.
  const queryNames = [...Object.keys(op.query), 'x', 'q']
  mutations.push(fc.tuple(base, fc.constantFrom(...queryNames), nulText).map(([b, name, v]) => req(op, { ...b, query: { ...b.query, [name]: v } }, `NUL in query ${name}`)))
  if (pathNames.length) {
    // A NUL byte, or an id the param's schema refuses.
    mutations.push(fc.tuple(base, fc.constantFrom(...pathNames), nulText).map(([b, n, v]) => req(op, { ...b, path: { ...b.path, [n]: v } }, `NUL in path ${n}`)))
    const badIds = ['1', 'abc', '-1', "'; drop table documents;--", '%2e%2e', '%', ' ', 'x'.repeat(300), '１２３', '00000000-0000-0000-0000-00000000000g', `${documentId}x`, '\u200b']
    const checked = pathNames.filter((n) => badIds.some((v) => !passes(op.pathParams[n], v)))
    if (checked.length) mutations.push(
      fc.tuple(base, fc.constantFrom(...checked), fc.constantFrom(...badIds))
        .filter(([, n, v]) => !passes(op.pathParams[n], v))
        .map(([b, n, v]) => req(op, { ...b, path: { ...b.path, [n]: v } }, `bad path ${n}=${String(v).slice(0, 40)}`)),
    )
  }
  // Only for params that refuse something (a filter that can never pass would spin forever).
  for (const [name, s] of Object.entries(op.query).filter(([n, s]) => junkQueryValues(s).some((v) => !passes(queryObject(op), { [n]: v })))) {
    mutations.push(
      fc.tuple(base, junkQuery(s))
        .filter(([b, v]) => !passes(queryObject(op), { ...b.query, [name]: v }))
        .map(([b, v]) => req(op, { ...b, query: { ...b.query, [name]: v } }, `bad query ${name}=${String(v).slice(0, 40)}`)),
    )
  }
  if (op.multipart) {
    mutations.push(fc.tuple(base, brokenMultipart()).map(([b, m]) => req(op, { ...b, who: 'zhangwei' }, `multipart: ${m.what}`, { contentType: m.contentType, body: m.body })))
  } else if (hasBody(op)) {
    const malformed = fc.constantFrom('{', '{"a":', '[1,]', "{'a':1}", 'nul', '{"a":1}}', '\u0000', '{"a":"\\u00"}', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}', '', ' ')
    mutations.push(fc.tuple(base, malformed).map(([b, raw]) => req(op, b, `malformed JSON ${JSON.stringify(raw)}`, { contentType: 'application/json', body: raw })))
    mutations.push(fc.tuple(base, fc.constantFrom('application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'image/png'))
      .map(([b, ct]) => req(op, b, `content type ${ct}`, { contentType: ct, body: b.body === undefined ? '{}' : JSON.stringify(b.body) })))
    // NUL bytes and lone surrogates anywhere in a JSON body: in a value or a key, at any depth.
    mutations.push(
      fc.tuple(base, fc.constantFrom(...unstorable), fc.constantFrom('value', 'key', 'nested', 'bare'))
        .map(([b, bad, where]) => {
          const body = (b.body && typeof b.body === 'object' ? b.body : {}) as Record<string, unknown>
          const keys = Object.keys(body).filter((k) => typeof body[k] === 'string')
          const mutated = where === 'bare' ? bad
            : where === 'key' ? { ...body, [`k${bad}`]: 'v' }
            : where === 'nested' ? { ...body, data: { title: '标题', list: [{ text: bad }] } }
            : { ...body, [keys[0] ?? 'title']: bad }
          return req(op, b, `unstorable text in the body (${where})`, json(mutated))
        }),
    )
    mutations.push(base.map((b) => req(op, b, 'a body nested 40 deep', json(Array.from({ length: 40 }).reduce<unknown>((inner) => ({ a: inner }), 'x')))))
    mutations.push(base.map((b) => req(op, b, 'a body over the 1 MiB limit', { contentType: 'application/json', body: JSON.stringify({ text: 'x'.repeat(1_100_000) }) })))
    if (op.body) {
      const body = op.body
      const props = Object.entries(deref(body).properties ?? {}).filter(([, s]) => [{}, 'abc', -1].some((v) => !bodyPasses(s, v)))
      if (props.length) {
        mutations.push(
          fc.tuple(base, fc.constantFrom(...props).chain(([k, s]) => fc.tuple(fc.constant(k), junk(s))))
            .map(([b, [k, v]]) => ({ b, body: { ...(b.body as object), [k]: v } }))
            .filter(({ body: x }) => !bodyPasses(body, x))
            .map(({ b, body: x }) => req(op, b, `bad body field ${Object.keys(x).at(-1)}`, json(x))),
        )
      }
      // Nested fields (arrays of ids, 笺 data, time limits): one leaf made bad.
      const leaves = [...badDates, 'x'.repeat(6000), -1, {}, [[]]]
      const nested = (b: unknown, v: unknown) => ({ ...(b as object), data: { title: v, deadline: v, mainRecipients: [v] }, from: [v], timeLimits: { 平件: { limit: v, remindBefore: 'PT1H' } } })
      if (leaves.some((v) => !bodyPasses(body, nested({}, v)))) mutations.push(
        fc.tuple(base, fc.constantFrom(...leaves))
          .map(([b, v]) => ({ b, body: nested(b.body, v) }))
          .filter(({ body: x }) => !bodyPasses(body, x))
          .map(({ b, body: x }) => req(op, b, 'bad nested fields', json(x))),
      )
      if (deref(body).additionalProperties === false) {
        mutations.push(base.map((b) => req(op, b, 'an unknown body field', json({ ...(b.body as object), unknownField: 1 }))))
      }
      for (const k of deref(body).required ?? []) {
        mutations.push(base.map((b) => {
          const { [k]: _, ...rest } = (b.body ?? {}) as Record<string, unknown>
          return req(op, b, `no ${k}`, json(rest))
        }))
      }
      mutations.push(fc.tuple(base, fc.constantFrom<unknown>([], 'text', 42, null, true, [{}]))
        .filter(([, v]) => !bodyPasses(body, v))
        .map(([b, v]) => req(op, b, `a body of type ${JSON.stringify(v)}`, json(v))))
    }
  }
  return fc.oneof(...mutations)
}

async function send(r: Req): Promise<{ status: number; body: any; ms: number }> {
  const headers: Record<string, string> = r.who === 'api-key' ? { 'x-api-key': apiKey } : { authorization: `Bearer ${tokens[r.who]}` }
  if (r.contentType) headers['content-type'] = r.contentType
  const started = Date.now()
  try {
    const res = await fetch(stack.url + r.url, { method: r.method, headers, body: r.body === undefined ? undefined : new Uint8Array(Buffer.from(r.body)), signal: AbortSignal.timeout(requestTimeoutMs) })
    const text = await res.text()
    let body: any = text
    try {
      body = JSON.parse(text)
    } catch {}
    return { status: res.status, body, ms: Date.now() - started }
  } catch (err) {
    // A timeout is a hang; a connection the server closed after answering early is read as such.
    return { status: (err as Error).name === 'TimeoutError' ? 0 : -1, body: String(err), ms: Date.now() - started }
  }
}

const failures: string[] = []
const statuses = new Map<number, number>()

t.test('every route refuses bad input with a 4xx and changes nothing', async (t) => {
  t.ok(operations.length >= 40, `${operations.length} operations from /docs/json`)
  await quietFingerprint()
  const mark = await trailMark()
  const before = await fingerprint(mark)
  const arbitrary = fc.oneof(...operations.map((op) => badRequests(op).map((r) => ({ op: `${op.method} ${op.path}`, r }))))
  let sent = 0
  const started = Date.now()
  await fc.assert(
    fc.asyncProperty(arbitrary, async ({ op, r }) => {
      sent++
      const res = await send(r)
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
      const ok = res.status >= 400 && res.status < 500
      if (!ok) failures.push(`${op} [${r.what}] as ${r.who}: ${r.method} ${r.url.slice(0, 200)} ${r.contentType ?? ''} ${String(r.body ?? '').slice(0, 200)} → ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`)
      // FUZZ_COLLECT=1 goes on after a failure (to list them all) instead of shrinking it.
      return ok || process.env.FUZZ_COLLECT === '1'
    }),
    { numRuns: runs, seed, plugins: [fc.interruptAfterTimeLimit(timeLimitMs)] },
  ).catch((err) => {
    t.fail(`seed ${seed}: ${String(err).slice(0, 3000)}`)
  })
  t.comment(`seed ${seed}: ${sent} requests in ${Math.round((Date.now() - started) / 1000)} s; statuses ${JSON.stringify(Object.fromEntries(statuses))}`)
  t.same(failures, [], 'every answer is a 4xx within the timeout')
  t.ok(sent >= Math.min(runs, 500), `${sent} requests sent`)
  const after = await fingerprint(mark)
  t.same(after, before, 'no row of any table changed')
})

// ---- the bad inputs that once answered 500, one by one -----------------------------------------

/** Sends one request and checks: a 4xx with the project's error body naming `field`, nothing changed. */
async function refused(t: Pick<typeof import('tap').default, 'equal' | 'match' | 'ok' | 'same'>, r: Omit<Req, 'what' | 'who'> & { who?: string }, status: number, field: string) {
  const mark = await trailMark()
  const before = await fingerprint(mark)
  const res = await send({ who: 'zhangwei', what: '', ...r })
  t.equal(res.status, status, `${r.method} ${r.url.slice(0, 80)} → ${status}`)
  t.match(res.body, { statusCode: status, code: String, error: String, message: String }, 'the usual error body')
  t.ok(res.body?.details?.some((d: { field: string }) => d.field === field), `names ${field}: ${JSON.stringify(res.body?.details)}`)
  t.same(await fingerprint(mark), before, 'nothing changed')
}

const multipart = (parts: string, boundary = 'b0undary') => ({ contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.from(parts, 'utf8') })
const filePart = (name: string, content = '正文内容', b = 'b0undary') => `--${b}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: text/plain\r\n\r\n${content}\r\n`
const kindPart = (kind: string, b = 'b0undary') => `--${b}\r\nContent-Disposition: form-data; name="kind"\r\n\r\n${kind}\r\n`

t.test('the nine bad inputs that once answered 500', async (t) => {
  await refused(t, { method: 'GET', url: '/tasks?q=a%00b' }, 400, 'q')
  await refused(t, { method: 'GET', url: '/documents?q=%00' }, 400, 'q')
  await refused(t, { method: 'GET', url: '/people/zhang%00wei' }, 400, 'id')
  await refused(t, { method: 'GET', url: '/tasks/done?from=0000-01-01' }, 400, 'from')
  await refused(t, { method: 'GET', url: '/documents?to=10000-01-01' }, 400, 'to')
  await refused(t, { method: 'GET', url: '/tasks?from=2026-02-30' }, 400, 'from')
  await refused(t, { method: 'GET', url: '/statistics?from=2026-13-01', who: 'zhouadmin' }, 400, 'from')
  const upload = `/documents/${documentId}/files`
  await refused(t, { method: 'POST', url: upload, ...multipart(kindPart('附件') + filePart('正文\u0000.txt') + '--b0undary--\r\n') }, 400, 'file.filename')
  await refused(t, { method: 'POST', url: upload, ...multipart(kindPart('附件') + filePart('a.txt').slice(0, -6)) }, 400, 'file')
})

t.test('more bad input: bodies, uploads, dates', async (t) => {
  const upload = `/documents/${documentId}/files`
  await refused(t, { method: 'POST', url: upload, ...multipart(kindPart('附件') + filePart('a.txt') + '--b0undary--\r\n'), contentType: 'multipart/form-data' }, 400, 'file')
  await refused(t, { method: 'POST', url: upload, ...multipart(kindPart('附件') + '--b0undary\r\nContent-Disposition: form-data; filename="a.txt"\r\n\r\nx\r\n--b0undary--\r\n') }, 400, 'file')
  await refused(t, { method: 'POST', url: upload, ...multipart(kindPart('附'.repeat(2000)) + filePart('a.txt') + '--b0undary--\r\n') }, 413, 'kind')
  await refused(t, { method: 'POST', url: upload, ...multipart(kindPart('附\u0000件') + filePart('a.txt') + '--b0undary--\r\n') }, 400, 'kind')
  await refused(t, { method: 'POST', url: '/documents', contentType: 'application/json', body: JSON.stringify({ kind: 'fawen', data: { title: '标题\u0000' } }) }, 400, 'data.title')
  await refused(t, { method: 'POST', url: '/documents', contentType: 'application/json', body: '{"kind":"fawen","data":{"title":"\\ud800"}}' }, 400, 'data.title')
  const shouwen = { title: '关于开展校园安全检查的函', sourceUnit: '柳州市应急管理局', urgency: '平件' }
  await refused(t, { method: 'POST', url: '/documents', who: 'fengxue', contentType: 'application/json', body: JSON.stringify({ kind: 'shouwen', data: { ...shouwen, deadline: '0000-01-01' } }) }, 400, 'deadline')
  await refused(t, { method: 'POST', url: `/tasks/${nigao.taskKey}/complete`, contentType: 'application/json', body: JSON.stringify({ route: '送审核', opinion: 'x'.repeat(5001) }) }, 400, 'opinion')
  await refused(t, { method: 'POST', url: '/people/me/phrases', contentType: 'application/json', body: JSON.stringify({ text: 'x'.repeat(2001) }) }, 400, 'text')
  await refused(t, { method: 'PUT', url: '/settings/unit', who: 'zhouadmin', contentType: 'application/json', body: JSON.stringify({ timeLimits: { 平件: { limit: 'PT99999999999999H', remindBefore: 'PT1H' } } }) }, 400, 'timeLimits.平件.limit')
})
