// Integrator keys carry scopes and act as themselves: every route of the OpenAPI document tried
// with a key of each single scope (and of none) — allowed only where the scope opens it, 403 naming
// the scope elsewhere; a key never acts on a document it did not start; the unit admin creates,
// lists (no secret), changes, rotates and revokes keys, and another unit's admin sees none of them.
import { randomUUID } from 'node:crypto'
import knexFactory from 'knex'
import t from 'tap'
import { Api, draft, startFawen, startStack, taskFor, waitFor } from './helpers/stack.ts'
import { act } from './helpers/flows.ts'

const stack = await startStack()
const db = knexFactory({ client: 'pg', connection: stack.databaseUrl, pool: { min: 0, max: 2 } })
t.teardown(async () => {
  await db.destroy()
  await stack.close()
})
const api = new Api(stack)
// 财政局's all-rounder becomes its unit admin: another unit's admin.
await db('user_roles').insert({ user_id: 'hejun', role: 'unit_admin' })

type Key = { id: string; name: string; prefix: string; scopes: string[]; secret: string; accountId: string }
async function makeKey(name: string, scopes: string[], admin = 'zhouadmin'): Promise<Key> {
  const res = await api.call('POST', '/admin/api-keys', { as: admin, body: { name, scopes } })
  if (res.status !== 201) throw new Error(`key ${name}: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body
}
const asKey = (key: string) => ({
  get: (path: string) => api.call('GET', path, { apiKey: key }),
  post: (path: string, body?: unknown) => api.call('POST', path, { apiKey: key, body }),
})
const fawen = { kind: 'fawen', data: draft({ title: '接口起草的通知', mainRecipients: ['liuzhou-fin'], ccRecipients: [] }) }

// What each route lets a key do: the spec this test holds the server to. A route of the OpenAPI
// document that is not here must refuse every key.
const any = 'any'
const open = 'public'
const expected: Record<string, string[] | typeof any | typeof open> = {
  'POST /auth/login': open,
  'GET /health': open,
  'GET /me': any,
  'POST /documents': ['documents:start'],
  'POST /documents/{id}/convert': ['documents:start'],
  'POST /documents/{id}/merge': ['documents:start'],
  'POST /documents/{id}/files': ['documents:start'],
  'POST /documents/{id}/files/{fileId}/versions': ['documents:start'],
  'GET /tasks': ['documents:start'],
  'GET /tasks/done': ['documents:start'],
  'GET /tasks/{key}': ['documents:start'],
  'POST /tasks/{key}/complete': ['documents:start'],
  'POST /tasks/{key}/withdraw': ['documents:start'],
  'POST /tasks/{key}/return': ['documents:start'],
  'POST /tasks/{key}/transfer': ['documents:start'],
  'POST /tasks/{key}/urge': ['documents:start'],
  'GET /documents': ['documents:read'],
  'GET /documents/{id}': ['documents:read'],
  'GET /documents/{id}/diagram': ['documents:read'],
  'GET /documents/{id}/jian': ['documents:read'],
  'GET /documents/{id}/jian.pdf': ['documents:read'],
  'GET /documents/{id}/files': ['documents:read'],
  'GET /files/versions/{versionId}': ['documents:read'],
  'GET /forms': ['documents:start', 'documents:read'],
  'GET /forms/{key}': ['documents:start', 'documents:read'],
  'GET /people': ['documents:start', 'documents:read'],
  'GET /people/{id}': ['documents:start', 'documents:read'],
  'GET /departments': ['documents:start', 'documents:read'],
  'GET /units': ['documents:start', 'documents:read'],
  'GET /recipient-groups': ['documents:start', 'documents:read'],
  'GET /recipient-lists': ['documents:start', 'documents:read'],
  'POST /recipients/resolve': ['documents:start', 'documents:read'],
  'GET /statistics': ['statistics:read'],
  'GET /operations/statistics': ['statistics:read'],
  'GET /operations/statistics.csv': ['statistics:read'],
  'GET /notifications': ['events:receive'],
  'POST /notifications/{id}/read': ['events:receive'],
}

t.test('every route of the OpenAPI document, with a key of each single scope and of none', async (t) => {
  const scopes = ['documents:start', 'documents:read', 'statistics:read', 'events:receive']
  const keys: Record<string, string> = { '(none)': (await makeKey('无权限', [])).secret }
  for (const s of scopes) keys[s] = (await makeKey(`仅 ${s}`, [s])).secret
  // Real ids for the path: a document the documents:start key started, and its 拟稿 task.
  const started = await asKey(keys['documents:start']).post('/documents', fawen)
  t.equal(started.status, 201, JSON.stringify(started.body))
  const own = started.body.id as string
  const task = await waitFor('the key’s 拟稿 task', async () => (await asKey(keys['documents:start']).get('/tasks')).body.items.find((x: { documentId: string }) => x.documentId === own))

  const doc = (await api.call('GET', '/docs/json')).body
  const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
    Object.keys(ops).filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m)).map((m) => `${m.toUpperCase()} ${path}`))
  t.ok(routes.length > 50, `the OpenAPI document lists ${routes.length} routes`)
  for (const r of Object.keys(expected)) t.ok(routes.includes(r), `${r} is in the OpenAPI document`)
  for (const r of ['GET /admin/api-keys', 'POST /admin/api-keys', 'POST /admin/api-keys/{id}/rotate', 'POST /admin/api-keys/{id}/revoke']) t.ok(routes.includes(r), `${r} is in the OpenAPI document`)

  const fill = (path: string) => path
    .replace('{key}', path.startsWith('/tasks/') ? task.taskKey : path.startsWith('/forms/') ? 'fawen-gaozhi' : 'fawen')
    .replace('{id}', path.startsWith('/documents/') ? own : path.startsWith('/people/{') ? 'zhangwei' : path.startsWith('/notifications/') ? '1' : randomUUID())
    .replace(/\{(fileId|versionId)\}/, randomUUID())
    .replace('{kind}', 'completion')
    .replace('{baseId}', 'fawen')
    .replace(/\{[^}]+\}/g, 'x')

  let allowed = 0
  let refused = 0
  for (const route of routes) {
    const [method, path] = route.split(' ')
    const rule = expected[route]
    for (const [scope, key] of Object.entries(keys)) {
      const res = await api.call(method, fill(path), { apiKey: key })
      const label = `${route} with ${scope}`
      const ok = rule === open || rule === any || (Array.isArray(rule) && rule.includes(scope))
      if (ok) {
        allowed++
        if (res.status === 401 || res.body?.code === 'SCOPE_MISSING') t.fail(`${label}: allowed, got ${res.status} ${JSON.stringify(res.body)}`)
      } else {
        refused++
        const named = Array.isArray(rule) ? rule.every((s) => res.body?.message?.includes(`“${s}”`)) : /不能调用此接口/.test(res.body?.message ?? '')
        if (res.status !== 403 || res.body?.code !== 'SCOPE_MISSING' || !named) t.fail(`${label}: refused, got ${res.status} ${JSON.stringify(res.body)}`)
      }
    }
  }
  t.ok(allowed > 0 && refused > 0, `${allowed} calls allowed, ${refused} refused as the scopes say`)
  const refusal = await asKey(keys['statistics:read']).post('/documents', fawen)
  t.equal(refusal.body.message, '此 API 密钥没有“documents:start”权限', 'the refusal names the missing scope')
  t.equal((await asKey(keys['(none)']).get('/me')).body.apiKey.scopes.length, 0, 'GET /me tells a key its scopes')
  t.equal((await asKey(keys['statistics:read']).get('/statistics')).status, 200)
  t.equal((await asKey(keys['events:receive']).get('/notifications')).status, 200)
  t.equal((await asKey(keys['documents:read']).get(`/documents/${own}`)).status, 200)
  // An integrator sends to a group of the organisation tree, as the web page does.
  const groups = (await asKey(keys['documents:read']).get('/recipient-groups')).body
  const group = groups.find((g: { id: string; count: number }) => g.count > 0)
  t.ok(group, 'a key lists the recipient groups')
  const resolved = await asKey(keys['documents:start']).post('/recipients/resolve', { groups: [group.id] })
  t.equal(resolved.status, 200)
  t.equal(resolved.body.unitIds.length, group.count, 'and resolves one to its units')
  const byGroup = await asKey(keys['documents:start']).post('/documents', { kind: 'fawen', data: draft({ title: '接口按分组分发', mainRecipients: { groups: [group.id] }, ccRecipients: [] }) })
  t.equal(byGroup.status, 201, JSON.stringify(byGroup.body))
  t.same((await asKey(keys['documents:read']).get(`/documents/${byGroup.body.id}`)).body.data.mainRecipients, resolved.body.unitIds, 'a 发文 started by key with a group names its units')
})

t.test('a key acts as itself: it cannot merge, convert, withdraw or complete what it did not start', async (t) => {
  const key = (await makeKey('对接系统', ['documents:start', 'documents:read'])).secret
  const demo = 'demo-key-liuzhou-gov'
  const a = await startFawen(api)
  const b = await startFawen(api)
  const sent = await act(api, 'zhangwei', a, 'nigao', { route: '送审核', nextHandler: 'lina' })
  const shenhe = await taskFor(api, 'lina', a, 'shenhe')
  const shouwen = (await api.as('chenjing').post('/documents', { kind: 'shouwen', data: { title: '关于报送材料的函', sourceUnit: '柳州市应急管理局', urgency: '平件' } })).body.id
  for (const [label, k] of [['a new key', key], ['the demo key', demo]]) {
    for (const [path, body] of [
      [`/documents/${a}/merge`, { from: [b] }],
      [`/documents/${shouwen}/convert`, undefined],
      [`/tasks/${sent}/withdraw`, {}],
      [`/tasks/${shenhe.taskKey}/complete`, { route: '送签发', nextHandler: 'wangqiang', opinion: '同意' }],
      [`/tasks/${shenhe.taskKey}/return`, { toTaskKey: sent }],
      [`/tasks/${shenhe.taskKey}/transfer`, { to: 'zhaolei' }],
      [`/tasks/${shenhe.taskKey}/urge`, undefined],
    ] as const) {
      const res = await asKey(k).post(path, body)
      t.equal(res.status, 403, `${label}: POST ${path}`)
      t.equal(res.body.message, '此 API 密钥只能办理它自己发起的公文')
    }
    t.equal((await asKey(k).get(`/tasks/${shenhe.taskKey}`)).status, 403, `${label}: cannot open another’s task`)
    t.equal((await asKey(k).get(`/documents/${a}`)).status, 200, `${label}: documents:read reads the unit’s documents`)
  }
  const other = await asKey('demo-key-liuzhou-edu').post(`/documents/${a}/merge`, { from: [b] })
  t.equal(other.status, 404, 'another unit’s key: 404')

  // its own documents: a merge of them works, and a merge that pulls in another's is refused
  const own = await Promise.all([1, 2].map(async () => (await asKey(key).post('/documents', fawen)).body.id as string))
  t.equal((await asKey(key).post(`/documents/${own[0]}/merge`, { from: [b] })).status, 403, 'another’s document cannot be merged into its own')
  const merged = await asKey(key).post(`/documents/${own[0]}/merge`, { from: [own[1]] })
  t.equal(merged.status, 200, JSON.stringify(merged.body))

  // nothing of zhangwei's moved
  const docA = (await api.as('zhangwei').get(`/documents/${a}`)).body
  const docB = (await api.as('zhangwei').get(`/documents/${b}`)).body
  t.equal(docA.status, 'running')
  t.equal(docB.mergedInto, null, 'b was not merged')
  t.ok((await api.as('lina').get('/tasks')).body.items.some((x: { taskKey: string }) => x.taskKey === shenhe.taskKey), 'lina still has her task')
  t.equal((await api.as('chenjing').get(`/documents/${shouwen}`)).body.mergedInto, null, 'the 收文 was not converted')
  const tasks = (await asKey(key).get('/tasks')).body.items as Array<{ documentId: string }>
  t.ok(tasks.every((x) => own.includes(x.documentId)), 'its 待办 holds only its own documents')

  // and its own flow: it completes its 拟稿, then takes it back (撤回)
  const mine = (await asKey(key).post('/documents', fawen)).body.id
  const nigao = await waitFor('its 拟稿', async () => (await asKey(key).get('/tasks')).body.items.find((x: { documentId: string }) => x.documentId === mine))
  t.equal((await asKey(key).post(`/tasks/${nigao.taskKey}/complete`, { route: '送审核', nextHandler: 'lina' })).status, 200)
  await taskFor(api, 'lina', mine, 'shenhe')
  const back = await asKey(key).post(`/tasks/${nigao.taskKey}/withdraw`, {})
  t.equal(back.status, 200, `it withdraws its own: ${JSON.stringify(back.body)}`)
})

t.test('the unit admin creates, lists, changes, rotates and revokes keys; the secret is shown once', async (t) => {
  t.equal((await api.as('zhangwei').get('/admin/api-keys')).status, 403, 'a drafter may not')
  const byKey = await asKey('demo-key-liuzhou-gov').get('/admin/api-keys')
  t.equal(byKey.status, 403, 'nor a key')
  t.equal(byKey.body.code, 'SCOPE_MISSING')

  const made = await makeKey('档案系统', ['documents:read'])
  t.match(made.secret, /^gw_[A-Za-z0-9_-]{43}$/, 'a long random secret')
  t.equal(made.prefix, made.secret.slice(0, 10))
  t.same(made.scopes, ['documents:read'])
  t.equal((await asKey(made.secret).get('/documents')).status, 200, 'the key works')
  t.equal((await asKey(made.secret).post('/documents', fawen)).status, 403, 'within its scopes only')

  const list = await api.as('zhouadmin').get('/admin/api-keys')
  t.equal(list.status, 200)
  const stored = await db('api_keys').where({ id: made.id }).first('key_hash')
  t.match(stored.key_hash, /^[0-9a-f]{64}$/, 'only a sha256 is stored')
  t.notOk(JSON.stringify(list.body).includes(made.secret), 'the list never shows a secret')
  t.notOk(JSON.stringify(list.body).includes(stored.key_hash), 'nor its hash')
  const listed = list.body.find((k: { id: string }) => k.id === made.id)
  t.match(listed, { name: '档案系统', prefix: made.prefix, scopes: ['documents:read'], revokedAt: null, createdBy: '周敏' })
  t.ok(listed.lastUsedAt, 'last use is noted')
  t.ok(list.body.some((k: { id: string; scopes: string[] }) => k.id === 'liuzhou-gov-demo' && k.scopes.includes('documents:start')), 'the demo key is listed')
  t.notOk(list.body.some((k: { id: string }) => k.id === 'liuzhou-edu-demo'), 'no key of another unit')

  // scopes changed: at once
  const changed = await api.call('PATCH', `/admin/api-keys/${made.id}`, { as: 'zhouadmin', body: { scopes: ['statistics:read'] } })
  t.same(changed.body.scopes, ['statistics:read'])
  t.equal((await asKey(made.secret).get('/documents')).status, 403, 'documents:read is gone')
  t.equal((await asKey(made.secret).get('/statistics')).status, 200)

  // rotated: the old secret stops at once, the new one works
  const rotated = await api.as('zhouadmin').post(`/admin/api-keys/${made.id}/rotate`)
  t.equal(rotated.status, 200)
  t.not(rotated.body.secret, made.secret)
  t.not(rotated.body.prefix, made.prefix)
  t.ok(rotated.body.rotatedAt)
  t.equal((await asKey(made.secret).get('/statistics')).status, 401, 'the old secret: 401')
  t.equal((await asKey(rotated.body.secret).get('/statistics')).status, 200, 'the new one works')

  // revoked: 401, and it cannot be rotated back
  const revoked = await api.as('zhouadmin').post(`/admin/api-keys/${made.id}/revoke`)
  t.equal(revoked.status, 200)
  t.ok(revoked.body.revokedAt)
  t.equal(revoked.body.revokedBy, '周敏')
  t.equal((await asKey(rotated.body.secret).get('/statistics')).status, 401, 'a revoked key: 401')
  t.equal((await api.as('zhouadmin').post(`/admin/api-keys/${made.id}/rotate`)).status, 409, 'a revoked key is not rotated')
  t.equal((await api.as('zhouadmin').post(`/admin/api-keys/${made.id}/revoke`)).status, 200, 'revoking twice changes nothing')

  // bad input names the field
  for (const [body, field] of [
    [{ name: '', scopes: [] }, 'name'],
    [{ name: '   ', scopes: [] }, 'name'],
    [{ name: 'x', scopes: ['documents:write'] }, 'scopes'],
    [{ name: 'x' }, 'scopes'],
    [{ name: 'x', scopes: ['documents:read', 'documents:read'] }, 'scopes'],
  ] as const) {
    const res = await api.as('zhouadmin').post('/admin/api-keys', body)
    t.equal(res.status, 400, JSON.stringify(body))
    t.ok(res.body.details?.some((d: { field: string }) => d.field.startsWith(field)), `names ${field}: ${JSON.stringify(res.body.details)}`)
  }
  t.equal((await api.as('zhouadmin').post('/admin/api-keys/not-a-uuid/rotate')).status, 400)
  t.equal((await api.as('zhouadmin').post(`/admin/api-keys/${randomUUID()}/revoke`)).status, 404)
})

t.test('another unit’s admin gets 404 on this unit’s keys', async (t) => {
  const key = await makeKey('政务网', ['documents:read'])
  t.notOk((await api.as('hejun').get('/admin/api-keys')).body.some((k: { id: string }) => k.id === key.id), 'not listed')
  for (const path of [`/admin/api-keys/${key.id}/rotate`, `/admin/api-keys/${key.id}/revoke`]) {
    t.equal((await api.as('hejun').post(path)).status, 404, path)
  }
  t.equal((await api.call('PATCH', `/admin/api-keys/${key.id}`, { as: 'hejun', body: { scopes: ['documents:start'] } })).status, 404)
  t.equal((await asKey(key.secret).get('/documents')).status, 200, 'the key still works')
  const own = await makeKey('财政对接', ['statistics:read'], 'hejun')
  const stats = await asKey(own.secret).get('/statistics')
  t.equal(stats.body.unitId, 'liuzhou-fin', 'a key acts in its own unit')
})
