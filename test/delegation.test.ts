// 委托/代理 on the real engine and database, through the REST API: a delegation gives new tasks to
// the delegate, the log says "X 代 Y", the delegator sees it; who may set one; bad periods refused.
import t from 'tap'
import { act, documentAs } from './helpers/flows.ts'
import { Api, inbox, startFawen, startStack, taskFor, waitFor } from './helpers/stack.ts'

const stack = await startStack()
t.teardown(() => stack.close())
const api = new Api(stack)
const knex = () => stack.server!.knex

/** Today and a day offset from it, as calendar days in China. */
const day = (offset = 0) => new Date(Date.now() + offset * 86_400_000).toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' })
const count = async () => Number((await knex()('delegations').count<{ count: string }[]>('* as count'))[0].count)

// A unit admin of another unit, to show a delegation is never set across units.
await knex().raw(`insert into users (id, unit_id, department_id, username, name, password_hash)
  select 'eduadmin', 'liuzhou-edu', 'liuzhou-edu-bangong', 'eduadmin', '教育局管理员', password_hash from users where id = 'huangmei'`)
await knex()('user_roles').insert({ user_id: 'eduadmin', role: 'unit_admin' })

t.test('a delegation limited to another flow leaves a 发文 task with the delegator', async (t) => {
  const set = await api.as('lina').post('/delegations', { delegate: 'zhaolei', from: day(), to: day(3), flows: ['chengyue'] })
  t.equal(set.status, 201, JSON.stringify(set.body))
  t.same(set.body.flows, ['chengyue'])
  t.equal(set.body.active, true)
  const id = await startFawen(api)
  await act(api, 'zhangwei', id, 'nigao', { route: '送审核', nextHandler: 'lina' })
  await taskFor(api, 'lina', id, 'shenhe')
  t.notOk((await inbox(api, 'zhaolei')).some((x) => x.documentId === id), 'the delegate does not get a 发文 task')
  t.equal((await api.call('POST', `/delegations/${set.body.id}/revoke`, { as: 'liuyang' })).status, 403, 'a bystander cannot end it')
  t.equal((await api.call('POST', `/delegations/${set.body.id}/revoke`, { as: 'eduadmin' })).status, 404, 'another unit’s admin does not find it')
  t.equal((await api.call('POST', `/delegations/${set.body.id}/revoke`, { as: 'lina' })).status, 200, 'the delegator ends it')
  t.equal((await api.call('POST', `/delegations/${set.body.id}/revoke`, { as: 'lina' })).status, 404, 'once')
})

t.test('during a delegation new tasks go to the delegate, who acts as "X 代 Y"; the delegator sees it', async (t) => {
  // given lina away, delegating to zhaolei for every flow
  const set = await api.as('lina').post('/delegations', { delegate: 'zhaolei', from: day(-1), to: day(1) })
  t.equal(set.status, 201, JSON.stringify(set.body))
  t.equal(set.body.flows, null)
  const listed = await api.as('zhaolei').get('/delegations')
  t.ok(listed.body.some((d: { id: string; delegatorName: string }) => d.id === set.body.id && d.delegatorName === '李娜'), 'the delegate sees it too')

  // when the drafter sends a 发文 to lina
  const id = await startFawen(api)
  await act(api, 'zhangwei', id, 'nigao', { route: '送审核', nextHandler: 'lina' })

  // then zhaolei has the task, lina does not
  const task = await taskFor(api, 'zhaolei', id, 'shenhe')
  t.notOk((await inbox(api, 'lina')).some((x) => x.documentId === id), 'the delegator’s inbox does not show it')
  const mine = await api.as('lina').get('/delegations/on-my-behalf')
  t.ok(mine.body.open.some((x: { documentId: string; delegateName: string }) => x.documentId === id && x.delegateName === '赵磊'), 'lina sees it is with her delegate')

  // and when zhaolei completes it, the log says 赵磊 代 李娜
  const done = await api.as('zhaolei').post(`/tasks/${task.taskKey}/complete`, { route: '送签发', opinion: '同意' })
  t.equal(done.status, 200, JSON.stringify(done.body))
  await taskFor(api, 'wangqiang', id, 'qianfa')
  const doc = await documentAs(api, 'zhangwei', id)
  const entry = doc.log.find((e: { step: string }) => e.step === 'shenhe')
  t.equal(entry.actorName, '赵磊 代 李娜')
  t.equal(entry.actorId, 'zhaolei')

  const after = await api.as('lina').get('/delegations/on-my-behalf')
  t.match(after.body.actions, [{ documentId: id, stepName: '科室审核', actorName: '赵磊 代 李娜', route: '送签发', opinion: '同意' }], 'lina sees what was done in her name')
  t.notOk(after.body.open.some((x: { documentId: string }) => x.documentId === id))
  t.same((await api.as('zhaolei').get('/delegations/on-my-behalf')).body.actions, [], 'nothing was done in zhaolei’s name')
  t.same((await api.as('huangmei').get('/delegations/on-my-behalf')).body, { actions: [], open: [] }, 'another unit sees nothing')

  // a task sent to lina after the delegation ends stays with her
  t.equal((await api.call('POST', `/delegations/${set.body.id}/revoke`, { as: 'lina' })).status, 200)
  const id2 = await startFawen(api)
  await act(api, 'zhangwei', id2, 'nigao', { route: '送审核', nextHandler: 'lina' })
  await taskFor(api, 'lina', id2, 'shenhe')
  t.notOk((await inbox(api, 'zhaolei')).some((x) => x.documentId === id2))
})

t.test('the unit admin may set a delegation for someone of the unit; nobody else may', async (t) => {
  const before = await count()
  const forOther = { delegator: 'liuyang', delegate: 'zhangwei', from: day(), to: day(2) }
  t.equal((await api.as('lina').post('/delegations', forOther)).status, 403, 'a colleague may not')
  t.equal((await api.as('eduadmin').post('/delegations', forOther)).status, 404, 'another unit’s admin does not find the person')
  t.equal((await api.as('huangmei').post('/delegations', { delegate: 'lina', from: day(), to: day() })).status, 400, 'nor name a delegate of another unit')
  t.equal(await count(), before, 'nothing was stored')
  const set = await api.as('zhouadmin').post('/delegations', forOther)
  t.equal(set.status, 201, JSON.stringify(set.body))
  t.equal(set.body.delegatorId, 'liuyang')
  t.equal(set.body.createdBy, 'zhouadmin')
  const all = await api.as('zhouadmin').get('/delegations?all=true')
  t.ok(all.body.some((d: { id: string }) => d.id === set.body.id), 'the admin lists the unit’s delegations')
  t.equal((await api.as('liuyang').get('/delegations?all=true')).status, 403, 'others may not list them all')
  t.notOk((await api.as('eduadmin').get('/delegations?all=true')).body.some((d: { id: string }) => d.id === set.body.id), 'another unit’s admin does not see it')
  t.equal((await api.call('POST', `/delegations/${set.body.id}/revoke`, { as: 'zhouadmin' })).status, 200, 'the admin may end it')
})

t.test('bad delegations are refused with a 400 naming the field, and nothing is stored', async (t) => {
  const existing = await api.as('sunli').post('/delegations', { delegate: 'wangqiang', from: day(), to: day(5) })
  t.equal(existing.status, 201)
  const before = await count()
  const cases: Array<[string, string, Record<string, unknown>, string]> = [
    ['to before from', 'liuyang', { delegate: 'zhangwei', from: day(2), to: day(1) }, 'to'],
    ['a period already over', 'liuyang', { delegate: 'zhangwei', from: day(-5), to: day(-2) }, 'to'],
    ['delegate = self', 'liuyang', { delegate: 'liuyang', from: day(), to: day() }, 'delegate'],
    ['delegate of another unit', 'liuyang', { delegate: 'huangmei', from: day(), to: day() }, 'delegate'],
    ['unknown delegate', 'liuyang', { delegate: 'nobody', from: day(), to: day() }, 'delegate'],
    ['circular, overlapping', 'wangqiang', { delegate: 'sunli', from: day(3), to: day(8) }, 'delegate'],
    ['overlapping one of one’s own', 'sunli', { delegate: 'zhaolei', from: day(4), to: day(9) }, 'from'],
    ['not a date', 'liuyang', { delegate: 'zhangwei', from: '2026-13-01', to: day() }, 'from'],
    ['unknown flow', 'liuyang', { delegate: 'zhangwei', from: day(), to: day(), flows: ['shouwen'] }, 'flows'],
    ['missing delegate', 'liuyang', { from: day(), to: day() }, 'delegate'],
  ]
  for (const [what, who, body, field] of cases) {
    const res = await api.as(who).post('/delegations', body)
    t.equal(res.status, 400, `${what}: ${JSON.stringify(res.body)}`)
    t.ok(JSON.stringify(res.body).includes(field), `${what}: names ${field}`)
  }
  t.equal(await count(), before, 'nothing was stored')
  const later = await api.as('wangqiang').post('/delegations', { delegate: 'sunli', from: day(6), to: day(8) })
  t.equal(later.status, 201, 'the reverse delegation after the period is fine')
})

t.test('a task offered to a role (no assignee) is not delegated: the role’s other holders cover it', async (t) => {
  // sunli delegates to wangqiang (previous test); 签发 without a chosen handler is offered to every leader.
  const id = await startFawen(api)
  await act(api, 'zhangwei', id, 'nigao', { route: '送审核', nextHandler: 'zhaolei' })
  await act(api, 'zhaolei', id, 'shenhe', { route: '送签发' })
  const qianfa = await waitFor('签发 task', async () => (await inbox(api, 'wangqiang')).find((x) => x.documentId === id))
  t.ok((await inbox(api, 'sunli')).some((x) => x.taskKey === qianfa.taskKey), 'both leaders still see the role task')
})
