// GET /statistics: every measure per unit and department, periods in Beijing time, unit scoping, who may ask.
import { randomUUID } from 'node:crypto'
import knexFactory from 'knex'
import t from 'tap'
import { demoUnits } from '../server/db/seed.ts'
import { Api, draft, startStack } from './helpers/stack.ts'

const stack = await startStack()
const db = knexFactory({ client: 'pg', connection: stack.databaseUrl, pool: { min: 0, max: 2 } })
t.teardown(async () => {
  await db.destroy()
  await stack.close()
})
const api = new Api(stack)

const Y = new Date(Date.now() + 8 * 3_600_000).getUTCFullYear() // the current year in Asia/Shanghai
const at = (date: string, time = '12:00') => `${date}T${time}:00+08:00`
// Overdue is judged against now, so past and future deadlines are relative to the run.
const PAST = new Date(Date.now() - 3_600_000).toISOString()
const FUTURE = at(`${Y + 1}-06-01`)
const ZONGHE = 'liuzhou-gov-zonghe'
const MISHU = 'liuzhou-gov-mishu'
const LINGDAO = 'liuzhou-gov-lingdao'
const EDU = 'liuzhou-edu-bangong'
/** Row keys a unit's answer must hold: each of its departments, and 未分配. */
const rowKeys = (unit: string) => [...demoUnits.find((u) => u.id === unit)!.departments.map((d) => d.id), '未分配'].sort()

// Given three 发文 started through REST (running, created now) ...
const restIds: string[] = []
for (const who of ['zhangwei', 'zhangwei', 'liuyang']) {
  const res = await api.as(who).post('/documents', { kind: 'fawen', data: draft({ title: `统计测试 ${who}` }) })
  if (res.status !== 201) throw new Error(`start failed: ${res.status} ${JSON.stringify(res.body)}`)
  restIds.push(res.body.id)
}
// ... and fixtures for what the flows do not reach quickly.
type Doc = { kind: string; status: string; dept: string | null; created: string; completed?: string; deadline?: string; unit?: string; tasks?: Array<{ state: string; deadline: string | null }> }
const fixtures: Record<string, Doc> = {
  A1: { kind: 'fawen', status: 'completed', dept: ZONGHE, created: at(`${Y}-02-01`), completed: at(`${Y}-02-10`) },
  A2: { kind: 'fawen', status: 'running', dept: ZONGHE, created: at(`${Y}-03-01`), tasks: [{ state: 'open', deadline: PAST }] },
  A3: { kind: 'fawen', status: 'canceled', dept: ZONGHE, created: at(`${Y}-03-05`), completed: at(`${Y}-03-06`) },
  A4: { kind: 'fawen', status: 'failed', dept: ZONGHE, created: at(`${Y}-03-07`) },
  A5: { kind: 'chengyue', status: 'running', dept: ZONGHE, created: at(`${Y}-04-01`), deadline: FUTURE, tasks: [{ state: 'open', deadline: FUTURE }] },
  // created the last minute before the period, 办结 in it: counts as completed, not in the rate
  A6: { kind: 'fawen', status: 'completed', dept: ZONGHE, created: at(`${Y - 1}-12-31`, '23:59'), completed: at(`${Y}-01-05`) },
  A7: { kind: 'fawen', status: 'running', dept: ZONGHE, created: at(`${Y - 1}-06-01`), tasks: [{ state: 'open', deadline: at(`${Y - 1}-06-04`) }] },
  A8: { kind: 'fawen', status: 'completed', dept: ZONGHE, created: at(`${Y + 1}-01-01`, '00:00'), completed: at(`${Y + 1}-01-02`) },
  // 00:00 on 1 January in Beijing is still the previous year in UTC
  B1: { kind: 'shouwen', status: 'running', dept: MISHU, created: at(`${Y}-01-01`, '00:00'), deadline: PAST },
  B2: { kind: 'shouwen', status: 'completed', dept: MISHU, created: at(`${Y}-05-01`), completed: at(`${Y}-05-03`) },
  B3: { kind: 'shouwen', status: 'running', dept: MISHU, created: at(`${Y}-05-02`), tasks: [{ state: 'completed', deadline: PAST }, { state: 'open', deadline: null }] },
  C1: { kind: 'shouwen', status: 'running', dept: null, created: at(`${Y}-06-01`) },
  C2: { kind: 'shouwen', status: 'canceled', dept: null, created: at(`${Y}-06-02`), completed: at(`${Y}-06-03`) },
  E1: { unit: 'liuzhou-edu', kind: 'fawen', status: 'running', dept: EDU, created: at(`${Y}-02-01`), tasks: [{ state: 'open', deadline: PAST }] },
  E2: { unit: 'liuzhou-edu', kind: 'shouwen', status: 'completed', dept: EDU, created: at(`${Y}-03-01`), completed: at(`${Y}-03-02`) },
}
let taskSeq = 0
for (const [name, f] of Object.entries(fixtures)) {
  const id = randomUUID()
  const unit = f.unit ?? 'liuzhou-gov'
  await db('documents').insert({
    id, unit_id: unit, kind: f.kind, title: `统计夹具 ${name}`, status: f.status, department_id: f.dept,
    created_by: unit === 'liuzhou-gov' ? (f.kind === 'shouwen' ? 'chenjing' : 'zhangwei') : 'huangmei',
    created_at: f.created, completed_at: f.completed ?? null, deadline: f.deadline ?? null,
  })
  for (const task of f.tasks ?? []) {
    taskSeq++
    await db('tasks').insert({
      task_key: `stat-${taskSeq}`, process_instance_key: `stat-pi-${name}`, process_definition_key: 'stat', document_id: id, unit_id: unit,
      element_id: 'step', step_name: '步骤', state: task.state, deadline: task.deadline, created_at: f.created,
      closed_at: task.state === 'open' ? null : f.created,
    })
  }
}
// Where start() files a 发文 (the drafter's department, or none if it does not record one yet).
const restDept: string | null = (await db('documents').where({ id: restIds[0] }).first('department_id')).department_id

const zero = { sent: 0, received: 0, chengyue: 0, created: 0, open: 0, overdue: 0, completed: 0, createdCompleted: 0 }
type Counts = typeof zero
const rate = (c: Counts) => (c.created === 0 ? null : Math.round((c.createdCompleted / c.created) * 10_000) / 10_000)
const row = (c: Partial<Counts>) => {
  const full = { ...zero, ...c }
  return { ...full, completionRate: rate(full) }
}
const plus = (a: Partial<Counts>, b: Partial<Counts>) => Object.fromEntries(Object.keys(zero).map((k) => [k, ((a as any)[k] ?? 0) + ((b as any)[k] ?? 0)])) as Counts
const rest = { sent: 3, created: 3, open: 3 }

const statistics = (who: { as?: string; apiKey?: string }, query = '') => api.call('GET', `/statistics${query}`, who)
const byDept = (body: any) => Object.fromEntries(body.departments.map((d: any) => [d.departmentId ?? '未分配', d]))
const strip = ({ departmentId: _d, name: _n, ...measures }: any) => measures

t.test('the unit admin sees the current year: the unit row and every department row, measure by measure', async (t) => {
  const res = await statistics({ as: 'zhouadmin' })
  t.equal(res.status, 200)
  t.equal(res.body.from, `${Y}-01-01`)
  t.equal(res.body.to, `${Y}-12-31`)
  t.equal(res.body.unitId, 'liuzhou-gov')

  const zonghe = { sent: 2, chengyue: 1, created: 3, open: 2, overdue: 1, completed: 2, createdCompleted: 1 } // A1 A2 A5; A6 completed
  const mishu = { received: 3, created: 3, open: 2, overdue: 1, completed: 1, createdCompleted: 1 } // B1 B2 B3
  const none = { received: 2, created: 1, open: 1 } // C1; C2 canceled: received, not created
  const expected: Record<string, Partial<Counts>> = { [ZONGHE]: zonghe, [MISHU]: mishu, [LINGDAO]: {}, 未分配: none }
  const restKey = restDept ?? '未分配'
  expected[restKey] = plus(expected[restKey], rest)

  t.strictSame(strip(res.body.unit), row({ sent: 5, received: 5, chengyue: 1, created: 10, open: 8, overdue: 2, completed: 3, createdCompleted: 2 }))
  t.equal(res.body.unit.completionRate, 0.2, '办结率 = 2 of the 10 documents created this year')
  const rows = byDept(res.body)
  t.strictSame(Object.keys(rows).sort(), rowKeys('liuzhou-gov'), 'every department, the empty one too, and 未分配')
  for (const key of Object.keys(rows)) t.strictSame(strip(rows[key]), row(expected[key] ?? {}), `row ${key}`)
  t.equal(rows[MISHU].completionRate, 0.3333, 'rounded to 4 places')
  t.equal(rows[LINGDAO].completionRate, null, 'no documents: no rate')
  t.equal(rows[MISHU].name, '秘书科')
  t.equal(rows['未分配'].name, '未分配')
})

t.test('an explicit period counts by Beijing days, inclusive at both ends', async (t) => {
  const res = await statistics({ as: 'wangqiang' }, `?from=${Y}-01-01&to=${Y}-01-31`)
  t.equal(res.status, 200)
  // B1 (00:00 on 1 January, overdue by its own deadline) and A6 (办结 on 5 January, created the day before)
  t.strictSame(strip(res.body.unit), row({ received: 1, created: 1, open: 1, overdue: 1, completed: 1 }))
  const previous = await statistics({ as: 'wangqiang' }, `?from=${Y - 1}-12-31&to=${Y - 1}-12-31`)
  t.strictSame(strip(previous.body.unit), row({ sent: 1, created: 1 }), 'A6 belongs to the day it was created; B1 does not')
  t.equal(previous.body.unit.completionRate, 0, 'not 办结 before that day ended')
  const one = await statistics({ as: 'wangqiang' }, `?from=${Y}-01-01&to=${Y}-01-31&departmentId=${MISHU}`)
  t.strictSame(one.body.departments.map((d: any) => d.departmentId), [MISHU], 'departmentId keeps one row')
  t.strictSame(strip(one.body.departments[0]), row({ received: 1, created: 1, open: 1, overdue: 1 }))
  t.strictSame(one.body.unit, res.body.unit, 'the unit row stays the whole unit')
  const onlyFrom = await statistics({ as: 'wangqiang' }, `?from=${Y - 1}-03-01`)
  t.equal(onlyFrom.body.to, `${Y - 1}-12-31`, 'a missing end closes the year of the other')
  t.equal(onlyFrom.body.unit.open, 1, 'A7, created last year, still running')
  t.equal(onlyFrom.body.unit.overdue, 1, 'A7 has an open task past its deadline')
})

t.test('registry clerks and integrator keys see their own unit only', async (t) => {
  const admin = (await statistics({ as: 'zhouadmin' })).body.unit
  t.strictSame((await statistics({ as: 'chenjing' })).body.unit, admin, 'registry')
  t.strictSame((await statistics({ apiKey: 'demo-key-liuzhou-gov' })).body.unit, admin, 'integrator key')

  const edu = row({ sent: 1, received: 1, created: 2, open: 1, overdue: 1, completed: 1, createdCompleted: 1 })
  for (const who of [{ as: 'fengxue' }, { apiKey: 'demo-key-liuzhou-edu' }]) {
    const res = await statistics(who)
    t.equal(res.status, 200)
    t.equal(res.body.unitId, 'liuzhou-edu')
    t.strictSame(strip(res.body.unit), edu, `${who.as ?? 'edu key'}: only liuzhou-edu documents`)
    const rows = byDept(res.body)
    t.strictSame(Object.keys(rows).sort(), rowKeys('liuzhou-edu'), 'only its own departments')
    for (const key of Object.keys(rows)) if (key !== EDU) t.strictSame(strip(rows[key]), row({}), `${key} is empty`)
    t.strictSame(strip(rows[EDU]), edu)
  }
  t.equal((await statistics({ as: 'fengxue' }, `?departmentId=${ZONGHE}`)).status, 404, 'another unit’s department: 404')
  const fin = await statistics({ as: 'hejun' })
  t.strictSame(strip(fin.body.unit), row({}), 'liuzhou-fin has nothing')
})

t.test('drafters and department heads may not see statistics', async (t) => {
  for (const who of ['zhangwei', 'lina', 'huangmei']) {
    const res = await statistics({ as: who })
    t.equal(res.status, 403, who)
    t.equal(res.body.code, 'FORBIDDEN')
  }
  t.equal((await statistics({})).status, 401, 'no credentials')
})

t.test('bad periods get 400 naming the field', async (t) => {
  const cases: Array<[string, string]> = [
    [`?from=${Y}-13-01`, 'from'],
    [`?from=${Y}-02-30&to=${Y}-03-01`, 'from'],
    [`?to=${Y}/03/01`, 'to'],
    [`?from=${Y}-03-02&to=${Y}-03-01`, 'to'],
    [`?from=${Y - 5}-01-01&to=${Y}-01-01`, 'to'],
    [`?limit=3`, 'limit'],
  ]
  for (const [query, field] of cases) {
    const res = await statistics({ as: 'zhouadmin' }, query)
    t.equal(res.status, 400, query)
    t.ok(res.body.details?.some((d: { field: string }) => d.field === field), `${query} names ${field}: ${JSON.stringify(res.body.details)}`)
  }
  const five = await statistics({ as: 'zhouadmin' }, `?from=${Y - 5}-01-01&to=${Y - 1}-12-31`)
  t.equal(five.status, 200, 'exactly five years is allowed')
  t.equal(five.body.unit.open, 1, 'A7')
})
