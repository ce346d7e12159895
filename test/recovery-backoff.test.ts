// Recovery never blocks: a stored completion the engine keeps refusing, and a notification whose
// receiver keeps failing, retry on their own growing backoff and end as dead letters for the unit
// admin (失败待处理), while the completions and deliveries behind them go through promptly.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { Api, draft, inbox, startFawen, startStack, taskFor, waitFor } from './helpers/stack.ts'

const BASE_MS = 400
const MAX_DELAY_MS = 1600
const MAX_ATTEMPTS = 4
const env = {
  RETRY_BASE_MS: String(BASE_MS),
  RETRY_MAX_DELAY_MS: String(MAX_DELAY_MS),
  RETRY_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
  // The receivers below listen on this machine over http://.
  OUTBOUND_ALLOW: '127.0.0.1',
  OUTBOUND_ALLOW_HTTP: 'true',
}
Object.assign(process.env, env, { NOTIFY_POLL_MS: '100' })

// This file stops its engine node, so it gets one of its own rather than the run's shared one.
const stack = await startStack({ ownEngine: true, env })
t.teardown(() => stack.close())
const api = new Api(stack)
const knex = () => stack.server!.knex
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
// 教育局's registry clerk is also its unit admin here: another unit's admin.
await knex()('user_roles').insert({ user_id: 'fengxue', role: 'unit_admin' })

async function toShenhe(title: string) {
  const id = await startFawen(api, 'zhangwei', draft({ title }))
  const nigao = await taskFor(api, 'zhangwei', id, 'nigao')
  const res = await api.as('zhangwei').post(`/tasks/${nigao.taskKey}/complete`, { route: '送审核', nextHandler: 'lina' })
  if (res.status !== 200) throw new Error(`拟稿 not completed: ${res.status} ${JSON.stringify(res.body)}`)
  return { id, shenhe: await taskFor(api, 'lina', id, 'shenhe') }
}

/**
 * A completion stored for a flow that no longer has the route it names (as after a flow change):
 * the engine runs it, finds no way out of the 办理方式 gateway, refuses it and would again.
 */
async function poison(taskKey: string) {
  await knex()('tasks').where({ task_key: taskKey, state: 'open' }).update({
    state: 'completing', completed_by: 'lina', route: '转呈', opinion: '此办理方式已从流程中删去', form_data: JSON.stringify({}),
    channel: 'web', engine_variables: JSON.stringify({ route: '转呈', nextHandler: '' }), submitted_at: new Date(), completion_next_at: new Date(),
  })
}

const row = (taskKey: string) => knex()('tasks').where({ task_key: taskKey }).first(
  'state', 'completion_attempts as attempts', 'completion_error as error', 'completion_dead_at as deadAt',
  knex().raw('extract(epoch from completion_next_at - now()) * 1000 as "dueInMs"'),
)

/** Watches a completion until it is a dead letter; answers the wait scheduled after each counted failure. */
async function watchUntilDead(taskKey: string) {
  const waits = new Map<number, number>()
  let last = await row(taskKey)
  for (const deadline = Date.now() + 180_000; !last.deadAt && Date.now() < deadline; await sleep(25)) {
    last = await row(taskKey)
    // (a larger wait is the lease of the next attempt under way: that one was seen too late)
    if (last.attempts > 0 && !waits.has(last.attempts) && !last.deadAt && Number(last.dueInMs) <= MAX_DELAY_MS + 100) waits.set(last.attempts, Number(last.dueInMs))
  }
  return { waits, last }
}

t.test('a completion the engine keeps refusing backs off, ends as a dead letter, and holds nobody up', async (t) => {
  const bad = await toShenhe('关于毒性提交测试的通知')
  const good = [await toShenhe('关于引擎恢复后补交的通知（一）'), await toShenhe('关于引擎恢复后补交的通知（二）')]
  await poison(bad.shenhe.taskKey)

  // The engine goes down; two real completions are saved (202) behind the poisoned one.
  await stack.engine.stop()
  for (const g of good) {
    const res = await api.as('lina').post(`/tasks/${g.shenhe.taskKey}/complete`, { route: '送签发', opinion: '同意（引擎停机时提交）' })
    t.equal(res.status, 202, JSON.stringify(res.body))
  }
  await sleep(1500)
  t.match(await row(bad.shenhe.taskKey), { state: 'completing', attempts: 0 }, 'an outage is not counted against the completion')
  // Watched from before the engine is back, so each refusal's wait is seen as soon as it is stored.
  const watching = watchUntilDead(bad.shenhe.taskKey)
  await stack.engine.start()

  const back = Date.now()
  for (const g of good) await taskFor(api, 'wangqiang', g.id, 'qianfa')
  const took = Date.now() - back
  t.ok(took < 10_000, `the saved completions reached the engine promptly (${took} ms after it was back)`)
  for (const g of good) {
    const log = (await api.as('zhangwei').get(`/documents/${g.id}`)).body.log
    t.equal(log.filter((e: { step: string; opinion: string }) => e.step === 'shenhe' && e.opinion === '同意（引擎停机时提交）').length, 1, 'logged once, with the opinion entered')
  }

  const { waits, last } = await watching
  t.match(last, { state: 'completing', attempts: MAX_ATTEMPTS }, `a dead letter after ${MAX_ATTEMPTS} refusals, still 'completing' (stuck), not reopened`)
  t.ok(last.deadAt)
  t.ok(last.error, `the reason is kept: ${last.error}`)
  const expected = [1, 2, 3].map((n) => Math.min(BASE_MS * 2 ** (n - 1), MAX_DELAY_MS))
  t.same([...waits.keys()], [1, 2, 3], 'each refusal was seen')
  for (const [n, wait] of waits) t.ok(wait <= expected[n - 1] + 50 && wait > expected[n - 1] - 400, `wait after refusal ${n}: ${Math.round(wait)} ms ≈ ${expected[n - 1]} ms`)
  t.ok(waits.get(3)! > waits.get(1)!, 'the waits grow')

  const view = await api.as('lina').get(`/tasks/${bad.shenhe.taskKey}`)
  t.match(view.body, { state: 'completing', stuck: true }, 'the handler sees the task stuck')
  t.notOk((await inbox(api, 'lina')).some((x) => x.taskKey === bad.shenhe.taskKey), 'not silently back in the 待办')

  // 失败待处理: the unit admin sees it with the whole submission and the reason.
  const list = await api.as('zhouadmin').get('/admin/dead-letters')
  t.equal(list.status, 200)
  const item = list.body.completions.find((c: { id: string }) => c.id === bad.shenhe.taskKey)
  t.match(item, { documentId: bad.id, stepName: '科室审核', handlerName: '李娜', route: '转呈', opinion: '此办理方式已从流程中删去', attempts: MAX_ATTEMPTS })
  t.ok(item.lastError)
  t.equal((await api.as('lina').get('/admin/dead-letters')).status, 403, 'not for a handler')
  t.notOk((await api.as('fengxue').get('/admin/dead-letters')).body.completions.some((c: { id: string }) => c.id === bad.shenhe.taskKey), 'not in another unit’s list')
  t.equal((await api.as('fengxue').post(`/admin/dead-letters/completion/${bad.shenhe.taskKey}/retry`)).status, 404, 'another unit’s admin: 404')
  t.equal((await api.as('fengxue').post(`/admin/dead-letters/completion/${bad.shenhe.taskKey}/discard`)).status, 404)
  t.equal((await api.as('zhouadmin').post('/admin/dead-letters/letter/1/retry')).status, 400, 'an unknown kind is refused')
  t.equal((await api.as('zhouadmin').post('/admin/dead-letters/completion/nope/retry')).status, 404)

  // Retry: pending again from the first attempt; the engine refuses it again, so it comes back.
  const retried = await api.as('zhouadmin').post(`/admin/dead-letters/completion/${bad.shenhe.taskKey}/retry`)
  t.match(retried, { status: 200, body: { kind: 'completion', state: 'pending' } })
  t.equal((await api.as('zhouadmin').post(`/admin/dead-letters/completion/${bad.shenhe.taskKey}/retry`)).status, 404, 'no longer a dead letter')
  const again = await watchUntilDead(bad.shenhe.taskKey)
  t.match(again.last, { attempts: MAX_ATTEMPTS }, 'retried from the first attempt up to the last')

  // Discard: the task is back with its handler, the submission offered as a draft; a real completion goes through.
  const discarded = await api.as('zhouadmin').post(`/admin/dead-letters/completion/${bad.shenhe.taskKey}/discard`)
  t.match(discarded, { status: 200, body: { kind: 'completion', state: 'open' } })
  const reopened = await api.as('lina').get(`/tasks/${bad.shenhe.taskKey}`)
  t.match(reopened.body, { state: 'open', stuck: false, savedSubmission: { route: '转呈', opinion: '此办理方式已从流程中删去' } })
  t.ok((await inbox(api, 'lina')).some((x) => x.taskKey === bad.shenhe.taskKey), 'back in the handler’s 待办')
  t.equal((await api.as('lina').post(`/tasks/${bad.shenhe.taskKey}/complete`, { route: '送签发', opinion: '同意' })).status, 200)
  await taskFor(api, 'wangqiang', bad.id, 'qianfa')
})

interface Received { key: string; status: number; at: number }

async function receiver(answer: (key: string) => number | Promise<number>) {
  const all: Received[] = []
  const srv = createServer(async (req, res) => {
    for await (const _ of req);
    const key = String(req.headers['idempotency-key'])
    const status = await answer(key)
    all.push({ key, status, at: Date.now() })
    res.writeHead(status).end()
  })
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise((r) => srv.close(r)))
  return { all, url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}` }
}

t.test('a webhook that always fails ends as a dead letter while the SMS deliveries go through', async (t) => {
  let hookUp = false
  const hook = await receiver(() => (hookUp ? 200 : 500))
  // A slow gateway for the first message only: it holds one slot, not the others.
  let first = true
  const sms = await receiver(async () => {
    if (first) {
      first = false
      await sleep(3000)
    }
    return 200
  })
  t.equal((await api.call('PUT', '/settings/notifications', { as: 'zhouadmin', body: { webhookUrl: `${hook.url}/hook`, smsGatewayUrl: `${sms.url}/sms` } })).status, 200)
  t.equal((await api.call('PUT', '/people/me/phone', { as: 'zhangwei', body: { phone: '13800138000' } })).status, 200)

  const tasks: Array<{ taskKey: string }> = []
  for (let i = 1; i <= 3; i++) {
    const id = await startFawen(api, 'zhangwei', draft({ title: `关于投递失败测试的通知（${i}）` }))
    tasks.push(await taskFor(api, 'zhangwei', id, 'nigao'))
  }
  const started = Date.now()
  for (const task of tasks) t.equal((await api.as('chenjing').post(`/tasks/${task.taskKey}/urge`)).status, 200)
  const outbox = () => knex()('notification_outbox as o').join('notifications as n', 'n.id', 'o.notification_id')
    .whereIn('n.task_key', tasks.map((x) => x.taskKey)).orderBy('o.id').select('o.id', 'o.channel', 'o.state', 'o.attempts', 'o.last_error', 'o.dead_at')

  const smsRows = (await outbox()).filter((r) => r.channel === 'sms')
  await waitFor('the SMS deliveries', async () => (await outbox()).filter((r) => r.channel === 'sms' && r.state === 'sent').length === 3)
  const quick = sms.all.filter((r) => r.at - started < 2500)
  t.ok(quick.length >= 2, `the other SMS went out while the slow one was still being sent (${quick.length} within 2.5 s)`)
  t.equal(sms.all.length, 3, 'each SMS once')

  const dead = await waitFor('the webhook deliveries as dead letters', async () => {
    const rows = (await outbox()).filter((r) => r.channel === 'webhook')
    return rows.length === 3 && rows.every((r) => r.state === 'failed') && rows
  }, 60_000)
  for (const r of dead) t.match(r, { attempts: MAX_ATTEMPTS, last_error: /500/ })
  t.ok(dead.every((r) => r.dead_at))
  const gaps = hook.all.filter((r) => r.key.endsWith(':webhook')).reduce<Record<string, number[]>>((acc, r) => ((acc[r.key] ??= []).push(r.at), acc), {})
  for (const times of Object.values(gaps)) {
    t.equal(times.length, MAX_ATTEMPTS, 'tried exactly the maximum')
    t.ok(times[3] - times[2] > times[1] - times[0], 'with growing waits')
  }
  t.ok(smsRows.length === 3)

  const list = await api.as('zhouadmin').get('/admin/dead-letters')
  const listed = list.body.deliveries.filter((d: { id: string }) => dead.some((r) => String(r.id) === d.id))
  t.equal(listed.length, 3, 'the unit admin sees the three')
  t.match(listed[0], { channel: 'webhook', recipientName: '张伟', attempts: MAX_ATTEMPTS, lastError: /500/ })
  const [a, b] = dead.map((r) => String(r.id))
  t.equal((await api.as('fengxue').post(`/admin/dead-letters/delivery/${a}/discard`)).status, 404, 'another unit’s admin: 404')
  t.equal((await api.as('fengxue').get('/admin/dead-letters')).body.deliveries.length, 0, 'and sees none of them')

  hookUp = true
  t.match(await api.as('zhouadmin').post(`/admin/dead-letters/delivery/${a}/retry`), { status: 200, body: { state: 'pending' } })
  t.match(await api.as('zhouadmin').post(`/admin/dead-letters/delivery/${b}/discard`), { status: 200, body: { state: 'discarded' } })
  await waitFor('the retried delivery', async () => (await outbox()).find((r) => String(r.id) === a)?.state === 'sent')
  const after = await outbox()
  t.match(after.find((r) => String(r.id) === a), { state: 'sent', attempts: 1 }, 'sent on the first attempt after the reset')
  t.match(after.find((r) => String(r.id) === b), { state: 'discarded' })
  const remaining = (await api.as('zhouadmin').get('/admin/dead-letters')).body.deliveries.map((d: { id: string }) => d.id)
  t.notOk(remaining.includes(a) || remaining.includes(b), 'both left the list')
})
