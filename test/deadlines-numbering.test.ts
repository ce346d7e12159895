// Deadlines fire from the BPMN timers exactly once across a server restart; 发文字号 stay unique and
// gapless under concurrency; 分发 delivers to each unit exactly once across a crash and retries.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { Api, draft, inbox, startFawen, startStack, taskFor, waitFor } from './helpers/stack.ts'
import { act, documentAs } from './helpers/flows.ts'
import { allocateNumber, deliver } from '../server/services/automation.ts'

const stack = await startStack()
t.teardown(() => stack.close())
const api = new Api(stack)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

t.test('a reminder and an overdue notice fire once each, though the server was down when the reminder fell due', async (t) => {
  const set = await api.call('PUT', '/settings/unit', { as: 'zhouadmin', body: { timeLimits: { 平件: { limit: 'PT120S', remindBefore: 'PT90S' } } } })
  t.equal(set.status, 200, JSON.stringify(set.body))
  t.equal((await api.call('PUT', '/settings/unit', { as: 'zhangwei', body: { allowBlankSignature: true } })).status, 403, 'only the unit admin changes settings')
  const bad = await api.call('PUT', '/settings/unit', { as: 'zhouadmin', body: { timeLimits: { 特急: { limit: 'PT1H', remindBefore: 'PT2H' } } } })
  t.equal(bad.status, 400)
  t.equal(bad.body.details[0].field, 'timeLimits.特急.remindBefore')

  const id = await startFawen(api)
  const task = await taskFor(api, 'zhangwei', id, 'nigao')
  const createdAt = Date.now()
  t.equal(((await inbox(api, 'zhangwei')) as any[]).find((x) => x.taskKey === task.taskKey).light, 'green')

  // the server (and the engine node it supervises) is down when the reminder falls due at 30 s;
  // the timer's job waits in the database and fires when the engine is back
  await stack.stopServer()
  await sleep(Math.max(0, createdAt + 31_000 - Date.now()))
  await stack.startServer()

  const mine = async () => (await api.as('zhangwei').get('/notifications?limit=200')).body.items.filter((n: any) => n.taskKey === task.taskKey)
  await waitFor('the reminder', async () => (await mine()).some((n: any) => n.kind === 'reminder'), 30_000)
  t.equal(((await inbox(api, 'zhangwei')) as any[]).find((x) => x.taskKey === task.taskKey).light, 'yellow', 'yellow after the reminder time')
  await waitFor('the overdue notice', async () => (await mine()).some((n: any) => n.kind === 'overdue'), 120_000)
  t.equal(((await inbox(api, 'zhangwei')) as any[]).find((x) => x.taskKey === task.taskKey).light, 'red', 'red once overdue')
  t.equal((await api.as('zhangwei').get(`/tasks/${task.taskKey}`)).body.light, 'red', 'the task page shows the same light')

  // a repeated step (the engine delivers at least once) notifies nobody again
  const { automationHandlers } = await import('../server/services/automation.ts')
  const handlers = automationHandlers(stack.server!.knex, stack.server!.engine, stack.server!.services.notifications)
  await handlers['task.notify']({ id: '1', topic: 'task.notify', instanceId: '1', tenant: 'liuzhou-gov', retries: 3, variables: { documentId: id, step: 'nigao', notifyKind: 'reminder' } })
  await sleep(1000)
  t.same((await mine()).map((n: any) => n.kind).sort(), ['overdue', 'reminder'], 'exactly one of each')
  await api.call('PUT', '/settings/unit', { as: 'zhouadmin', body: { timeLimits: { 平件: { limit: 'PT72H', remindBefore: 'PT12H' } } } })
})

t.test('50 documents numbered at once get 50 distinct, consecutive 发文字号; a 文种 may have its own prefix', async (t) => {
  const knex = stack.server!.knex
  const ids = Array.from({ length: 50 }, () => randomUUID())
  await knex('documents').insert(ids.map((id) => ({ id, unit_id: 'liuzhou-fin', kind: 'fawen', title: '编号测试', status: 'running', data: JSON.stringify(draft()), created_by: 'hejun' })))
  const numbers = await Promise.all(ids.map((id) => allocateNumber(knex, id)))
  const year = new Intl.DateTimeFormat('en', { year: 'numeric', timeZone: 'Asia/Shanghai' }).format(new Date())
  const seq = numbers.map((n) => Number(new RegExp(`^柳财发〔${year}〕(\\d+)号$`).exec(n)?.[1])).sort((a, b) => a - b)
  t.same(seq, Array.from({ length: 50 }, (_, i) => i + 1), 'numbers 1..50, none skipped or repeated')
  t.same(await Promise.all(ids.slice(0, 5).map((id) => allocateNumber(knex, id))), numbers.slice(0, 5), 'a repeat keeps the number')

  const set = await api.call('PUT', '/settings/unit', { as: 'hejun', body: {} })
  t.equal(set.status, 403, 'hejun is not the unit admin')
  await knex('doc_number_prefixes').insert({ unit_id: 'liuzhou-fin', doc_kind: '函', prefix: '柳财函' })
  const letter = randomUUID()
  await knex('documents').insert({ id: letter, unit_id: 'liuzhou-fin', kind: 'fawen', title: '函', status: 'running', data: JSON.stringify(draft({ docKind: '函' })), created_by: 'hejun' })
  t.equal(await allocateNumber(knex, letter), `柳财函〔${year}〕1号`, 'its own series')
})

t.test('分发 after a crash between delivery and start, and under repeats, delivers to each unit exactly once', async (t) => {
  const knex = stack.server!.knex
  const id = await startFawen(api, 'zhangwei', draft({ mainRecipients: ['liuzhou-edu'], ccRecipients: ['liuzhou-fin'] }))
  // a previous attempt recorded the delivery to 教育局 and died before it could start their flow
  const crashed = await deliver(knex, id, { unitId: 'liuzhou-edu', kind: '主送' })
  const [a, b] = await Promise.all([deliver(knex, id, { unitId: 'liuzhou-edu', kind: '主送' }), deliver(knex, id, { unitId: 'liuzhou-edu', kind: '主送' })])
  t.equal(a.id, crashed.id)
  t.equal(b.id, crashed.id, 'concurrent repeats find the same incoming document')

  await act(api, 'zhangwei', id, 'nigao', { route: '送审核', nextHandler: 'lina' })
  await act(api, 'lina', id, 'shenhe', { route: '送签发' })
  await act(api, 'sunli', id, 'qianfa', { route: '签发' })
  await act(api, 'chenjing', id, 'gaizhang', { route: '用印' })
  await waitFor('archived', async () => (await documentAs(api, 'zhangwei', id)).status === 'completed')
  const deliveries = await knex('deliveries').where({ document_id: id }).orderBy('recipient_unit_id').select('recipient_unit_id', 'incoming_document_id')
  t.same(deliveries.map((d) => d.recipient_unit_id), ['liuzhou-edu', 'liuzhou-fin'], 'one delivery per unit')
  t.equal(deliveries[0].incoming_document_id, crashed.id, 'the crashed attempt’s incoming document is the one used')
  t.equal(Number((await knex('documents').where({ source_document_id: id }).count('* as c'))[0].c), 2, 'two incoming documents in all')
  for (const d of deliveries) {
    await waitFor(`签收 task at ${d.recipient_unit_id}`, async () => knex('tasks').where({ document_id: d.incoming_document_id, element_id: 'qianshou' }).first())
  }
  await sleep(1500)
  // the message sent again for a delivered document (an answer lost, a retry) starts nothing
  const again = await stack.server!.engine
    .correlateMessage('liuzhou-edu', 'gongwen.incoming', crashed.id, crashed.variables)
    .then(() => 'started', (err: Error) => err.message)
  t.match(again, /already runs in flow instance/, 'a second 分文报批 for the same document is refused in the engine transaction')
  for (const d of deliveries) {
    const instances = await knex('tasks').where({ document_id: d.incoming_document_id }).countDistinct('process_instance_key as c')
    t.equal(Number(instances[0].c), 1, `one 分文报批 at ${d.recipient_unit_id}`)
  }
})
