// Every route is scoped to the caller's unit: another unit's people and API keys see nothing.
import t from 'tap'
import { Api, startFawen, startStack, taskFor, waitFor } from './helpers/stack.ts'

const stack = await startStack()
t.teardown(() => stack.close())
const api = new Api(stack)
const otherKey = 'demo-key-liuzhou-edu'
const ownKey = 'demo-key-liuzhou-gov'

t.test('another unit’s person and API key get 404 on every route that names a document, task or person', async (t) => {
  const id = await startFawen(api)
  const task = await taskFor(api, 'zhangwei', id, 'nigao')
  const outsiders = [{ as: 'wugang' }, { apiKey: otherKey }]
  for (const who of outsiders) {
    const label = who.as ?? 'edu API key'
    for (const [method, path, body] of [
      ['GET', `/documents/${id}`],
      ['GET', `/tasks/${task.taskKey}`],
      ['POST', `/tasks/${task.taskKey}/complete`, { route: '送审核' }],
      ['GET', '/people/zhangwei'],
      ['GET', `/documents/${id}/files`],
      ['GET', `/documents/${id}/diagram`],
      ['GET', `/documents/${id}/jian`],
      ['POST', `/tasks/${task.taskKey}/withdraw`, {}],
      ['POST', `/tasks/${task.taskKey}/transfer`, { to: 'liuyang' }],
    ] as const) {
      const res = await api.call(method, path, { ...who, body })
      t.equal(res.status, 404, `${label}: ${method} ${path}`)
    }
    const lists = await Promise.all(['/tasks', '/tasks/done', '/documents', '/people'].map((p) => api.call('GET', p, who)))
    t.notOk(JSON.stringify(lists.map((l) => l.body)).includes(id), `${label}: no list shows the document`)
    t.notOk(lists[3].body.some((p: { id: string }) => p.id === 'zhangwei'), `${label}: the directory shows only its own unit`)
    const departments = (await api.call('GET', '/departments', who)).body.map((d: { id: string }) => d.id)
    t.ok(departments.length > 0 && departments.every((d: string) => d.startsWith('liuzhou-edu-')), `${label}: only its own departments`)
  }
  t.equal((await api.as('fengxue').post(`/tasks/${task.taskKey}/urge`)).status, 404, 'another unit’s registry cannot 催办 it')
  t.ok((await inbox()).some((x: { taskKey: string }) => x.taskKey === task.taskKey), 'the task is untouched')

  async function inbox() {
    return (await api.as('zhangwei').get('/tasks')).body.items
  }
})

t.test('within the unit, people not involved in a document cannot read or act on it', async (t) => {
  const id = await startFawen(api)
  const task = await taskFor(api, 'zhangwei', id, 'nigao')
  t.equal((await api.as('chenjing').get(`/documents/${id}`)).status, 404)
  t.equal((await api.as('chenjing').get(`/tasks/${task.taskKey}`)).status, 404)
  t.equal((await api.as('liuyang').post(`/tasks/${task.taskKey}/complete`, { route: '送审核' })).status, 403, 'another drafter may not complete it')
})

t.test('no credentials or bad ones → 401', async (t) => {
  t.equal((await api.call('GET', '/tasks')).status, 401)
  t.equal((await api.call('GET', '/tasks', { apiKey: 'nope' })).status, 401)
  t.equal((await api.call('GET', '/tasks', { headers: { authorization: 'Bearer forged.token.here' } })).status, 401)
  t.equal((await api.call('POST', '/auth/login', { body: { username: 'zhangwei', password: 'wrong' } })).status, 401)
  t.equal((await api.call('POST', '/auth/login', { body: { username: 'liuzhou-gov-api', password: '!' } })).status, 401, 'the integrator account has no password login')
  t.equal((await api.call('POST', '/internal/engine-events', { body: { partitionId: 1, records: [] } })).status, 404, 'no engine-feed endpoint exists: the engine writes the inbox in its own transaction')
})

t.test('an integrator starts and follows a flow with the unit’s API key; the channel is recorded', async (t) => {
  const started = await api.call('POST', '/documents', {
    apiKey: ownKey,
    body: { kind: 'fawen', data: { title: '接口来文', docKind: '函', mainRecipients: ['liuzhou-fin'], urgency: '加急', publicity: '不予公开', publicityReason: '涉及内部工作安排' } },
  })
  t.equal(started.status, 201)
  const id = started.body.id
  const task = await waitFor('integrator task', async () => (await api.call('GET', '/tasks', { apiKey: ownKey })).body.items.find((x: { documentId: string }) => x.documentId === id))
  t.equal((await api.call('POST', `/tasks/${task.taskKey}/complete`, { apiKey: ownKey, body: { route: '送审核', nextHandler: 'lina' } })).status, 200)
  const doc = await api.call('GET', `/documents/${id}`, { apiKey: ownKey })
  t.equal(doc.status, 200)
  t.equal(doc.body.log[0].channel, 'api')
  const listed = await api.call('GET', '/documents', { apiKey: ownKey })
  t.ok(listed.body.items.some((d: { id: string }) => d.id === id))
  t.equal((await api.call('GET', `/documents/${id}`, { apiKey: otherKey })).status, 404)
})
