// 运行监控 over REST on the real engine: stuck documents with 催办 and 取消, a failing automated step
// that becomes an incident and is retried or given up, the figures by department and month with CSV,
// and who may see and do what.
import knexFactory from 'knex'
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { Api, draft, startFawen, startStack, taskFor, waitFor } from './helpers/stack.ts'
import { documentAs } from './helpers/flows.ts'

// Three tries before an automated step becomes an incident keeps the wait to a few seconds.
const stack = await startStack({ env: { STEP_RETRIES: '3' } })
const db = knexFactory({ client: 'pg', connection: stack.databaseUrl, pool: { min: 0, max: 2 } })
t.teardown(async () => {
  await db.destroy()
  await stack.close()
})
const api = new Api(stack)
const problems = (as: string, query = '') => api.call('GET', `/operations/problems${query}`, { as })

// A fault the test switches on per document: the database refuses the 临期提醒 notification of a
// listed document, so the automated step 临期提醒 (task.notify) fails in its worker.
await db.raw(`create table if not exists ops_test_faults (document_id uuid primary key)`)
await db.raw(`create or replace function ops_test_fault() returns trigger language plpgsql as $$
  begin
    if exists (select 1 from ops_test_faults where document_id = new.document_id) then
      raise exception 'injected fault: notifications refused for %', new.document_id;
    end if;
    return new;
  end $$`)
await db.raw(`create trigger ops_test_fault before insert on notifications for each row execute function ops_test_fault()`)
t.teardown(async () => {
  await db.raw(`drop trigger if exists ops_test_fault on notifications`).catch(() => undefined)
})

t.test('a document at one step longer than the limit is listed; the office head urges its handler', async (t) => {
  const id = await startFawen(api, 'zhangwei', draft({ title: '运行监控 滞留测试' }))
  const task = await taskFor(api, 'zhangwei', id, 'nigao')

  const fresh = await problems('zhaolei')
  t.equal(fresh.status, 200)
  t.equal(fresh.body.stuckDays, 3, 'three days unless asked otherwise')
  t.notOk(fresh.body.stuck.some((s: any) => s.documentId === id), 'a task of a minute is not stuck at three days')
  t.ok((await problems('zhaolei', '?stuckDays=0')).body.stuck.some((s: any) => s.documentId === id), 'with a limit of 0 every open step is listed')

  // the task arrived five days ago
  await db('tasks').where({ task_key: task.taskKey }).update({ created_at: db.raw(`now() - interval '5 days'`) })
  const res = await problems('zhouadmin')
  const row = res.body.stuck.find((s: any) => s.documentId === id)
  t.ok(row, 'the unit admin sees it at the default limit')
  t.equal(row.taskKey, task.taskKey)
  t.equal(row.stepName, '拟稿')
  t.equal(row.assigneeName, '张伟')
  t.equal(row.days, 5)
  t.notOk((await problems('zhouadmin', '?stuckDays=6')).body.stuck.some((s: any) => s.documentId === id), 'not at a limit of six days')

  for (const bad of ['-1', 'abc', '99999']) {
    const r = await problems('zhouadmin', `?stuckDays=${bad}`)
    t.equal(r.status, 400, `stuckDays=${bad}`)
    t.equal(r.body.details[0].field, 'stuckDays')
  }

  t.equal((await api.as('zhangwei').post(`/operations/tasks/${task.taskKey}/urge`)).status, 403, 'a drafter may not')
  t.equal((await api.as('wugang').post(`/operations/tasks/${task.taskKey}/urge`)).status, 404, 'another unit’s office head finds no such task')
  const urged = await api.as('zhaolei').post(`/operations/tasks/${task.taskKey}/urge`)
  t.equal(urged.status, 200, JSON.stringify(urged.body))
  t.equal(urged.body.notified, 1)
  t.equal((await db('task_urges').where({ task_key: task.taskKey, urged_by: 'zhaolei' })).length, 1, 'the 催办 is recorded')
  const notes = (await api.as('zhangwei').get('/notifications?limit=200')).body.items
  t.ok(notes.some((n: any) => n.kind === 'urge' && n.taskKey === task.taskKey), 'the handler is told')
  t.equal((await api.as('zhaolei').post(`/operations/tasks/${task.taskKey}/urge`)).status, 409, 'once per ten minutes')
})

t.test('a stuck document is canceled with a reason only; the reason is in its log', async (t) => {
  const id = await startFawen(api, 'zhangwei', draft({ title: '运行监控 取消测试' }))
  await taskFor(api, 'zhangwei', id, 'nigao')
  const cancel = (as: string, body: unknown, doc = id) => api.call('POST', `/operations/documents/${doc}/cancel`, { as, body })

  const missing = await cancel('zhouadmin', {})
  t.equal(missing.status, 400)
  t.equal(missing.body.details[0].field, 'reason')
  const blank = await cancel('zhouadmin', { reason: '   ' })
  t.equal(blank.status, 400)
  t.equal(blank.body.details[0].field, 'reason')
  t.equal((await cancel('zhangwei', { reason: '重复' })).status, 403, 'a drafter may not')
  t.equal((await cancel('chenjing', { reason: '重复' })).status, 403, 'nor a registry clerk')
  t.equal((await cancel('wugang', { reason: '重复' })).status, 404, 'another unit’s office head finds no such document')
  t.equal((await cancel('zhouadmin', { reason: '重复' }, randomUUID())).status, 404)
  t.equal((await api.call('POST', `/operations/documents/${id}/cancel`, { apiKey: 'demo-key-liuzhou-gov', body: { reason: '重复' } })).status, 403, 'an integrator key may not')
  t.equal((await documentAs(api, 'zhangwei', id)).status, 'running', 'nothing refused changed anything')

  const done = await cancel('zhaolei', { reason: '与另一份公文重复，不再办理' })
  t.equal(done.status, 200, JSON.stringify(done.body))
  t.equal(done.body.status, 'canceled')
  const doc = await documentAs(api, 'zhangwei', id)
  t.equal(doc.status, 'canceled')
  t.same(doc.currentSteps, [], 'its open step is gone')
  const entry = doc.log.find((l: any) => l.stepName === '取消流转')
  t.equal(entry?.opinion, '与另一份公文重复，不再办理')
  t.equal(entry?.actorName, '赵磊')
  t.equal((await cancel('zhaolei', { reason: '再次' })).status, 409, 'a canceled document cannot be canceled again')
})

t.test('a failing automated step is listed, becomes an incident, and is retried; another is given up', async (t) => {
  // 特急 documents get a 临期提醒 three seconds after each step starts.
  const set = await api.call('PUT', '/settings/unit', { as: 'zhouadmin', body: { timeLimits: { 特急: { limit: 'PT3600S', remindBefore: 'PT3597S' } } } })
  t.equal(set.status, 200, JSON.stringify(set.body))

  const started = await api.as('zhangwei').post('/documents', { kind: 'fawen', data: draft({ title: '运行监控 故障测试', urgency: '特急' }) })
  t.equal(started.status, 201)
  const docId: string = started.body.id
  await db('ops_test_faults').insert({ document_id: docId })

  const failing = await waitFor('the failing 临期提醒', async () => (await problems('zhouadmin')).body.failing.find((f: any) => f.document?.id === docId), 20_000)
  t.equal(failing.stepName, '临期提醒')
  t.equal(failing.topic, 'task.notify')
  t.equal(failing.kind, 'automated')
  t.match(failing.message, /injected fault/)
  t.ok(failing.retries > 0, 'tries left')

  const incident = await waitFor('the incident', async () => (await problems('zhaolei')).body.incidents.find((i: any) => i.document?.id === docId), 30_000)
  t.equal(incident.stepName, '临期提醒')
  t.equal(incident.retries, 0)
  t.equal(incident.document.title, '运行监控 故障测试')
  t.match(incident.message, /injected fault/)

  t.equal((await api.as('wugang').post(`/operations/incidents/${incident.id}/retry`)).status, 404, 'another unit’s incident is not found (the engine’s tenant wall)')
  t.equal((await api.as('zhangwei').post(`/operations/incidents/${incident.id}/retry`)).status, 403)
  t.equal((await api.as('zhouadmin').post('/operations/incidents/no-such-incident/retry')).status, 404)
  const stillThere = (await problems('wugang')).body
  t.notOk([...stillThere.incidents, ...stillThere.failing].some((i: any) => i.id === incident.id), 'another unit does not see it')

  // the cause is fixed, then 重试
  await db('ops_test_faults').where({ document_id: docId }).del()
  const retried = await api.as('zhouadmin').post(`/operations/incidents/${incident.id}/retry`)
  t.equal(retried.status, 200, JSON.stringify(retried.body))
  const task = await taskFor(api, 'zhangwei', docId, 'nigao')
  await waitFor('the reminder after the retry', async () => (await api.as('zhangwei').get('/notifications?limit=200')).body.items.some((n: any) => n.kind === 'reminder' && n.taskKey === task.taskKey), 20_000)
  // the notification is written before the worker completes the step: wait for the step to be done
  const after = await waitFor('the retried step done', async () => {
    const body = (await problems('zhouadmin')).body
    return !body.failing.some((f: any) => f.document?.id === docId) && body
  }, 10_000)
  t.notOk(after.incidents.some((i: any) => i.id === incident.id), 'the incident is resolved')
  t.equal((await documentAs(api, 'zhangwei', docId)).status, 'running', 'the document runs on')

  // a second one is given up: its document is canceled
  const second = (await api.as('zhangwei').post('/documents', { kind: 'fawen', data: draft({ title: '运行监控 放弃测试', urgency: '特急' }) })).body.id
  await db('ops_test_faults').insert({ document_id: second })
  const other = await waitFor('the second incident', async () => (await problems('zhaolei')).body.incidents.find((i: any) => i.document?.id === second), 40_000)
  const noReason = await api.as('zhaolei').post(`/operations/incidents/${other.id}/cancel`, {})
  t.equal(noReason.status, 400)
  t.equal(noReason.body.details[0].field, 'reason')
  t.equal((await api.as('wugang').post(`/operations/incidents/${other.id}/cancel`, { reason: '放弃' })).status, 404)
  const gaveUp = await api.as('zhaolei').post(`/operations/incidents/${other.id}/cancel`, { reason: '通知渠道故障，改为线下通知' })
  t.equal(gaveUp.status, 200, JSON.stringify(gaveUp.body))
  t.equal(gaveUp.body.documentId, second)
  t.equal((await documentAs(api, 'zhangwei', second)).status, 'canceled')
  t.notOk((await problems('zhaolei')).body.incidents.some((i: any) => i.id === other.id), 'the incident went with its instance')
  await api.call('PUT', '/settings/unit', { as: 'zhouadmin', body: { timeLimits: { 特急: { limit: 'PT24H', remindBefore: 'PT4H' } } } })
})

t.test('figures by department and month count known documents; the CSV has a BOM and Chinese headers', async (t) => {
  const at = (date: string) => `${date}T12:00:00+08:00`
  const ZONGHE = 'liuzhou-gov-zonghe'
  const MISHU = 'liuzhou-gov-mishu'
  const fixtures = [
    { dept: ZONGHE, status: 'completed', created: at('2024-01-05'), completed: at('2024-01-20') },
    { dept: ZONGHE, status: 'running', created: at('2024-01-10') },
    { dept: ZONGHE, status: 'completed', created: at('2024-02-03'), completed: at('2024-02-04') },
    { dept: MISHU, status: 'running', created: at('2024-01-15'), deadline: at('2024-01-25') },
    { dept: MISHU, status: 'running', created: at('2024-02-15'), deadline: at('2024-02-25') },
    { dept: MISHU, status: 'canceled', created: at('2024-02-16'), completed: at('2024-02-17') },
  ]
  for (const [i, f] of fixtures.entries()) {
    await db('documents').insert({
      id: randomUUID(), unit_id: 'liuzhou-gov', kind: 'fawen', title: `图表夹具 ${i}`, status: f.status, department_id: f.dept, created_by: 'zhangwei',
      created_at: f.created, completed_at: f.completed ?? null, deadline: f.deadline ?? null,
    })
  }
  const res = await api.as('zhaolei').get('/operations/statistics?from=2024-01-01&to=2024-03-31')
  t.equal(res.status, 200, JSON.stringify(res.body))
  t.strictSame(res.body.months.map((m: any) => m.month), ['2024-01', '2024-02', '2024-03'])
  const dept = (m: any, id: string) => m.departments.find((d: any) => d.departmentId === id)
  const [jan, feb, mar] = res.body.months
  t.match(dept(jan, ZONGHE), { created: 2, createdCompleted: 1, completionRate: 0.5, overdue: 0 })
  t.match(dept(jan, MISHU), { created: 1, completionRate: 0, overdue: 1 })
  t.match(jan.unit, { created: 3, completionRate: 0.3333, overdue: 1 })
  t.match(dept(feb, ZONGHE), { created: 1, completionRate: 1, overdue: 0 })
  t.match(dept(feb, MISHU), { created: 1, overdue: 1 }, 'a canceled document is no volume')
  t.match(mar.unit, { created: 0, completionRate: null, overdue: 0 })
  t.match(dept(res.body, ZONGHE), { created: 3, createdCompleted: 2, completionRate: 0.6667 })
  t.match(res.body.unit, { created: 5, overdue: 2 })

  const csv = await fetch(`${stack.url}/operations/statistics.csv?from=2024-01-01&to=2024-03-31`, { headers: { authorization: `Bearer ${await api.token('zhouadmin')}` } })
  t.equal(csv.status, 200)
  t.match(csv.headers.get('content-type'), /text\/csv; charset=utf-8/)
  const bytes = new Uint8Array(await csv.arrayBuffer())
  t.strictSame([...bytes.slice(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 byte-order mark')
  const lines = new TextDecoder().decode(bytes).replace(/^\uFEFF/, '').trim().split('\r\n')
  t.equal(lines[0], '月份,科室,公文量,发文,收文,呈阅笺,在办,超期,办结,办结率')
  t.ok(lines.includes('2024-01,综合科,2,2,0,0,1,0,1,50.00%'), 'January, 综合科')
  t.ok(lines.includes('2024-01,合计,3,3,0,0,2,1,1,33.33%'), 'January, the unit')
  t.ok(lines.includes('2024-03,合计,0,0,0,0,0,0,0,'), 'an empty month has no rate')
  t.ok(lines.includes('2024-01-01至2024-03-31,合计,5,5,0,0,3,2,2,40.00%'), 'the whole period')

  const bad = await api.as('zhaolei').get('/operations/statistics?from=2024-13-01')
  t.equal(bad.status, 400)
  t.equal(bad.body.details[0].field, 'from')
  const reversed = await api.as('zhaolei').get('/operations/statistics?from=2024-03-01&to=2024-01-01')
  t.equal(reversed.status, 400)
  t.equal(reversed.body.details[0].field, 'to')
})

t.test('only the office head and the unit admin of the unit; keys read the figures only', async (t) => {
  for (const who of ['zhangwei', 'lina', 'chenjing', 'wangqiang']) {
    t.equal((await problems(who)).status, 403, `${who} may not see problems`)
    t.equal((await api.as(who).get('/operations/statistics')).status, 403, `${who} may not see the figures`)
  }
  const key = { apiKey: 'demo-key-liuzhou-gov' }
  t.equal((await api.call('GET', '/operations/problems', key)).status, 403, 'a key does not see problems')
  t.equal((await api.call('POST', '/operations/incidents/x/retry', key)).status, 403)
  const keyFigures = await api.call('GET', '/operations/statistics?from=2024-01-01&to=2024-03-31', key)
  t.equal(keyFigures.status, 200, 'statistics:read fits the figures')
  t.equal(keyFigures.body.unit.created, 5)
  const edu = await api.as('wugang').get('/operations/statistics?from=2024-01-01&to=2024-03-31')
  t.equal(edu.status, 200)
  t.equal(edu.body.unitId, 'liuzhou-edu')
  t.equal(edu.body.unit.created, 0, 'another unit sees its own figures, not these')
  t.ok(edu.body.departments.every((d: any) => !d.departmentId || d.departmentId.startsWith('liuzhou-edu')))
  t.equal((await api.call('GET', '/operations/problems')).status, 401)
})
