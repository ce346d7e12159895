// Notifications: 催办 reaches a task's handler in-app, by webhook and by SMS, exactly once — across
// repeats, several server instances on one database, receiver failures and a server restart.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import pino from 'pino'
import t from 'tap'
import { Notifications } from '../server/services/notifications.ts'
import { Api, draft, inbox, startFawen, startStack, waitFor } from './helpers/stack.ts'

// Each instance claims at most this many outbox rows at once (read when a Notifications is built).
const BATCH = 10
process.env.NOTIFY_BATCH = String(BATCH)
// The receivers here are plain http:// on this machine, which the outbound guard refuses unless allowed.
const outbound = { allowHttp: true, allow: ['127.0.0.1'] }
const stack = await startStack({ env: { OUTBOUND_ALLOW: '127.0.0.1', OUTBOUND_ALLOW_HTTP: 'true' } })
t.teardown(() => stack.close())
const api = new Api(stack)
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'warn' })
const server = () => stack.server!
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** Long enough for several polls (500 ms) to have passed, so a duplicate would have arrived. */
const settle = () => sleep(2000)

interface Received { key: string; body: any; status: number }

/** An HTTP receiver standing in for a webhook or SMS gateway; `answer` decides each status. */
async function receiver(answer: (r: Omit<Received, 'status'>, seen: number) => Promise<number> | number = () => 200) {
  const rx = {
    all: [] as Received[],
    answer,
    inFlight: 0,
    maxInFlight: 0,
    url: '',
    accepted: (key: string) => rx.all.filter((r) => r.key === key && r.status < 300),
    close: () => new Promise((r) => srv.close(r)),
  }
  const srv = createServer(async (req, res) => {
    let text = ''
    for await (const chunk of req) text += chunk
    const r = { key: String(req.headers['idempotency-key']), body: JSON.parse(text) }
    rx.maxInFlight = Math.max(rx.maxInFlight, ++rx.inFlight)
    const status = await rx.answer(r, rx.all.filter((x) => x.key === r.key).length)
    rx.inFlight--
    rx.all.push({ ...r, status })
    res.writeHead(status).end()
  })
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  rx.url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`
  t.teardown(rx.close)
  return rx
}

/** Starts a 发文 as zhangwei and returns his open task on it. */
async function zhangweiTask(title: string) {
  const documentId = await startFawen(api, 'zhangwei', draft({ title }))
  return waitFor(`zhangwei's task on ${title}`, async () => (await inbox(api, 'zhangwei')).find((x) => x.documentId === documentId))
}

const setChannels = (webhookUrl: string | null, smsGatewayUrl: string | null) =>
  api.call('PUT', '/settings/notifications', { as: 'zhouadmin', body: { webhookUrl, smsGatewayUrl } })

const outboxOf = (taskKey: string, kind = 'urge') =>
  server().knex('notification_outbox as o').join('notifications as n', 'n.id', 'o.notification_id').where({ 'n.task_key': taskKey, 'n.kind': kind }).orderBy('o.id').select('o.dedup_key', 'o.channel', 'o.state', 'o.attempts', 'o.last_error')

t.test('催办 gives the handler one unread in-app notification naming the document; a repeat within 10 minutes is refused', async (t) => {
  const title = '关于开展消防安全检查的通知'
  const task = await zhangweiTask(title)
  const before = (await api.as('zhangwei').get('/notifications')).body

  const urged = await api.as('chenjing').post(`/tasks/${task.taskKey}/urge`)
  t.equal(urged.status, 200)
  t.equal(urged.body.notified, 1, 'one handler: zhangwei')

  const after = (await api.as('zhangwei').get('/notifications')).body
  const mine = after.items.filter((n: { taskKey: string; kind: string }) => n.taskKey === task.taskKey && n.kind === 'urge')
  t.equal(mine.length, 1, 'exactly one 催办 notification')
  t.match(mine[0].text, title, 'it names the document')
  t.match(mine[0].text, '催办人：陈静')
  t.equal(mine[0].readAt, null)
  t.equal(after.unread, before.unread + 1, 'one more unread')
  t.equal(after.items[0].id, mine[0].id, 'newest first')
  t.equal((await api.as('zhangwei').get('/notifications?limit=1')).body.items.length, 1, 'paged')

  const again = await api.as('chenjing').post(`/tasks/${task.taskKey}/urge`)
  t.equal(again.status, 409)
  t.match(again.body.message, '10 分钟内已催办过')
  t.equal((await api.as('fengxue').post(`/tasks/${task.taskKey}/urge`)).status, 404, 'another unit’s registry: 404')
  t.equal((await api.as('liuyang').post(`/tasks/${task.taskKey}/urge`)).status, 403, 'a drafter may not 催办')
  t.equal((await api.as('chenjing').post('/tasks/999999999/urge')).status, 404, 'no such task')
  const count = (await api.as('zhangwei').get('/notifications')).body.items.filter((n: { taskKey: string }) => n.taskKey === task.taskKey)
  t.equal(count.length, 1, 'the refused 催办 notified nobody')

  t.equal((await api.as('lina').post(`/notifications/${mine[0].id}/read`)).status, 404, 'someone else’s notification: 404')
  const read = await api.as('zhangwei').post(`/notifications/${mine[0].id}/read`)
  t.equal(read.status, 200)
  t.ok(read.body.readAt)
  t.equal((await api.as('zhangwei').get('/notifications')).body.unread, before.unread)
})

t.test('channel settings are the unit admin’s; bad URLs and phone numbers are refused naming the field', async (t) => {
  t.equal((await api.call('PUT', '/settings/notifications', { as: 'zhangwei', body: { webhookUrl: null, smsGatewayUrl: null } })).status, 403)
  t.equal((await api.as('zhangwei').get('/settings/notifications')).status, 403)
  const bad = await setChannels('ftp://example.org/hook', 'not a url')
  t.equal(bad.status, 400)
  t.same(bad.body.details.map((d: { field: string }) => d.field), ['webhookUrl', 'smsGatewayUrl'])
  t.same((await api.as('zhouadmin').get('/settings/notifications')).body, { webhookUrl: null, smsGatewayUrl: null }, 'nothing changed')
  const phone = await api.call('PUT', '/people/me/phone', { as: 'zhangwei', body: { phone: '12345' } })
  t.equal(phone.status, 400)
  t.equal(phone.body.details[0].field, 'phone')
  t.match(phone.body.message, '手机号')
})

t.test('with a webhook and an SMS gateway set, a 催办 is POSTed to each exactly once', async (t) => {
  const hook = await receiver()
  const gateway = await receiver()
  t.equal((await setChannels(`${hook.url}/hook`, `${gateway.url}/sms`)).status, 200)
  const phone = await api.call('PUT', '/people/me/phone', { as: 'zhangwei', body: { phone: '138 0013 8000' } })
  t.same(phone.body, { phone: '13800138000' })

  const title = '关于印发春季植树活动方案的通知'
  const task = await zhangweiTask(title)
  t.equal((await api.as('chenjing').post(`/tasks/${task.taskKey}/urge`)).status, 200)
  const rows = await outboxOf(task.taskKey)
  t.same(rows.map((r) => r.channel).sort(), ['sms', 'webhook'])
  const hookKey = rows.find((r) => r.channel === 'webhook')!.dedup_key
  const smsKey = rows.find((r) => r.channel === 'sms')!.dedup_key
  await waitFor('both deliveries', async () => hook.accepted(hookKey).length > 0 && gateway.accepted(smsKey).length > 0)
  await settle()

  const [posted, texted] = [hook.all.filter((r) => r.key === hookKey), gateway.all.filter((r) => r.key === smsKey)]
  t.equal(posted.length, 1, 'the webhook got one request')
  t.equal(texted.length, 1, 'the SMS gateway got one request')
  t.match(posted[0].body, { kind: 'urge', taskKey: task.taskKey, title, recipient: { id: 'zhangwei' } })
  t.same(Object.keys(texted[0].body).sort(), ['phone', 'text'])
  t.equal(texted[0].body.phone, '13800138000')
  t.match(texted[0].body.text, title)
  t.same((await outboxOf(task.taskKey)).map((r) => r.state), ['sent', 'sent'])
})

t.test('enqueueForTask in the caller’s transaction: a repeat queues nothing, a rollback leaves nothing', async (t) => {
  const task = await zhangweiTask('关于做好防汛准备工作的通知')
  const { knex, services } = server()
  const [first, second] = await knex.transaction(async (trx) => [
    await services.notifications.enqueueForTask(trx, task.taskKey, 'reminder'),
    await services.notifications.enqueueForTask(trx, task.taskKey, 'reminder'),
  ])
  t.equal(first, true)
  t.equal(second, false, 'the repeat in the same transaction')
  t.equal(await knex.transaction((trx) => services.notifications.enqueueForTask(trx, task.taskKey, 'reminder')), false, 'a later repeat')
  const rows = await knex('notifications').where({ task_key: task.taskKey, kind: 'reminder' })
  t.equal(rows.length, 1, 'one in-app row')
  t.match(rows[0].text, '办理提醒')
  t.equal((await outboxOf(task.taskKey, 'reminder')).length, 2, 'one outbox row per channel')

  await t.rejects(knex.transaction(async (trx) => {
    await services.notifications.enqueueForTask(trx, task.taskKey, 'overdue')
    throw new Error('the job failed')
  }))
  t.equal((await knex('notifications').where({ task_key: task.taskKey, kind: 'overdue' })).length, 0, 'rolled back with the caller')
  t.equal(await services.notifications.enqueueForTask(knex, task.taskKey, 'overdue'), true, 'and queued by the retry')
})

t.test('three instances on one database deliver 20 notifications to a slow webhook, each exactly once', async (t) => {
  const slow = await receiver(() => sleep(1000).then(() => 200))
  t.equal((await setChannels(slow.url, null)).status, 200)
  const extra = [new Notifications(server().knex, log, undefined, outbound), new Notifications(server().knex, log, undefined, outbound)]
  extra.forEach((n) => n.start())
  const instances = [server().services.notifications, ...extra]

  const tasks = []
  for (let i = 1; i <= 7; i++) tasks.push(await zhangweiTask(`并发通知测试第${i}号`))
  const jobs = tasks.flatMap((task) => (['reminder', 'overdue', 'urge'] as const).map((kind) => ({ taskKey: task.taskKey, kind }))).slice(0, 20)
  // Each task and kind is queued by two instances at once, as a retried job would.
  const results = await Promise.all(
    jobs.flatMap(({ taskKey, kind }) => instances.slice(0, 2).map((n) => server().knex.transaction((trx) => n.enqueueForTask(trx, taskKey, kind)))),
  )
  t.equal(results.filter(Boolean).length, 20, 'each of the 20 queued once')

  const keys = (await Promise.all(jobs.map((x) => outboxOf(x.taskKey, x.kind)))).flat().map((r) => r.dedup_key)
  t.equal(keys.length, 20)
  await waitFor('all 20 delivered', async () => keys.every((k) => slow.accepted(k).length > 0))
  await settle()
  t.same(keys.filter((k) => slow.all.filter((r) => r.key === k).length !== 1), [], 'every key received exactly once')
  t.equal(slow.all.filter((r) => keys.includes(r.key)).length, 20, 'twenty requests in all')
  t.ok(slow.maxInFlight > BATCH, `more than one instance was sending at once (${slow.maxInFlight} requests in flight)`)
  await Promise.all(extra.map((n) => n.stop()))
})

t.test('a receiver answering 500 first gets the notification on retry, once', async (t) => {
  const flaky = await receiver((_r, seen) => (seen === 0 ? 500 : 200))
  t.equal((await setChannels(flaky.url, null)).status, 200)
  const task = await zhangweiTask('关于重试投递的测试通知')
  t.equal((await api.as('chenjing').post(`/tasks/${task.taskKey}/urge`)).status, 200)
  const [row] = await outboxOf(task.taskKey)
  await waitFor('delivery after retry', async () => flaky.accepted(row.dedup_key).length > 0)
  await settle()
  t.same(flaky.all.filter((r) => r.key === row.dedup_key).map((r) => r.status), [500, 200], 'one failure, then one delivery')
  t.match(await outboxOf(task.taskKey), [{ state: 'sent', attempts: 2, last_error: null }])
})

t.test('a pending notification survives a server restart and is delivered once', async (t) => {
  let up = false
  const rx = await receiver(() => (up ? 200 : 503))
  t.equal((await setChannels(rx.url, null)).status, 200)
  const task = await zhangweiTask('关于重启后投递的测试通知')
  t.equal((await api.as('chenjing').post(`/tasks/${task.taskKey}/urge`)).status, 200)
  await waitFor('a failed attempt', async () => (await outboxOf(task.taskKey))[0]?.attempts >= 1)

  await stack.stopServer()
  up = true
  await stack.startServer()
  const [row] = await outboxOf(task.taskKey)
  await waitFor('delivery after the restart', async () => rx.accepted(row.dedup_key).length > 0)
  await settle()
  t.equal(rx.accepted(row.dedup_key).length, 1, 'delivered once')
  t.match(await outboxOf(task.taskKey), [{ state: 'sent' }])
})

t.test('the notification routes are in the OpenAPI document', async (t) => {
  const docs = await api.call('GET', '/docs/json')
  t.equal(docs.status, 200)
  for (const path of ['/notifications', '/notifications/{id}/read', '/tasks/{key}/urge', '/settings/notifications', '/people/me/phone']) t.ok(docs.body.paths[path], path)
})
