// The inbox stays equal to what the engine waits on across restarts of the server and of the
// engine, and a task removed by the engine (instance cancelled) leaves the inbox.
import t from 'tap'
import { Api, startFawen, startStack, taskFor, waitFor } from './helpers/stack.ts'
import { ensureZhengwen } from './helpers/flows.ts'

// This file stops and kills its engine node, so it gets one of its own rather than the run's shared one.
const stack = await startStack({ ownEngine: true })
t.teardown(() => stack.close())
const api = new Api(stack)

async function openTasks(documentId: string) {
  return stack.server!.knex('tasks').where({ document_id: documentId, state: 'open' }).select('task_key', 'element_id')
}

async function finish(t: { equal: (...a: any[]) => void; same: (...a: any[]) => void }, id: string) {
  const qianfa = await taskFor(api, 'wangqiang', id, 'qianfa')
  t.equal((await api.as('wangqiang').post(`/tasks/${qianfa.taskKey}/complete`, { route: '签发', opinion: '同意' })).status, 200)
  const gaizhang = await taskFor(api, 'chenjing', id, 'gaizhang')
  await ensureZhengwen(api, 'chenjing', id)
  t.equal((await api.as('chenjing').post(`/tasks/${gaizhang.taskKey}/complete`, { route: '用印' })).status, 200)
  const doc = await waitFor('completed', async () => {
    const res = await api.as('zhangwei').get(`/documents/${id}`)
    return res.body.status === 'completed' && res.body
  })
  t.equal(doc.deliveries.length, 2, 'delivered once to each recipient')
  t.same(await openTasks(id), [], 'no task left open')
}

async function toShenhe(id: string) {
  const nigao = await taskFor(api, 'zhangwei', id, 'nigao')
  await api.as('zhangwei').post(`/tasks/${nigao.taskKey}/complete`, { route: '送审核', nextHandler: 'lina' })
  return taskFor(api, 'lina', id, 'shenhe')
}

t.test('server restarted mid-flow: the inbox is intact and the flow completes', async (t) => {
  const id = await startFawen(api)
  const shenhe = await toShenhe(id)
  // complete and stop at once, so the next task's record may arrive while the server is down
  t.equal((await api.as('lina').post(`/tasks/${shenhe.taskKey}/complete`, { route: '送签发', opinion: '同意' })).status, 200)
  await stack.stopServer()
  await stack.startServer()
  const qianfa = await taskFor(api, 'wangqiang', id, 'qianfa')
  t.same((await openTasks(id)).map((x: { element_id: string }) => x.element_id), ['qianfa'], 'exactly the 签发 task is open')
  t.ok(qianfa)
  await finish(t, id)
})

t.test('a task completed on the engine outside our API: the inbox follows in the same transaction', async (t) => {
  const id = await startFawen(api)
  const shenhe = await toShenhe(id)
  // An operator completes the task straight on the engine (as the server's own client does).
  await stack.server!.engine.as('liuzhou-gov').completeTask(shenhe.taskKey, { route: '送签发', nextHandler: '' })
  t.same((await openTasks(id)).map((x: { element_id: string }) => x.element_id), ['qianfa'], 'the 审核 task is closed and 签发 open as soon as the engine answered')
  const log = (await api.as('zhangwei').get(`/documents/${id}`)).body.log
  t.equal(log[1].actorName, '（流程引擎外办理）', 'the outside completion is logged as such')
  await finish(t, id)
})

t.test('engine stopped mid-flow: a completion is saved (202), applied when the engine is back', async (t) => {
  const id = await startFawen(api)
  const shenhe = await toShenhe(id)
  await stack.engine.stop()
  const health = await api.call('GET', '/health')
  t.equal(health.status, 503)
  t.equal(health.body.engine, 'down')
  const res = await api.as('lina').post(`/tasks/${shenhe.taskKey}/complete`, { route: '送签发', opinion: '同意（引擎维护期间提交）' })
  t.equal(res.status, 202, JSON.stringify(res.body))
  t.equal(res.body.state, 'pending')
  const again = await api.as('lina').post(`/tasks/${shenhe.taskKey}/complete`, { route: '送签发', opinion: '同意' })
  t.equal(again.status, 409, 'a second submission while pending is refused')
  await stack.engine.start()
  const qianfa = await taskFor(api, 'wangqiang', id, 'qianfa')
  t.ok(qianfa, 'the saved completion reached the engine')
  const log = (await api.as('zhangwei').get(`/documents/${id}`)).body.log
  t.equal(log[1].opinion, '同意（引擎维护期间提交）', 'the opinion entered during the outage is kept')
  t.equal(log.filter((e: { step: string }) => e.step === 'shenhe').length, 1, 'logged once')
  await finish(t, id)
})

t.test('engine killed: the server restarts it and the inbox holds each waiting task exactly once', async (t) => {
  const ids = [await startFawen(api), await startFawen(api)]
  await toShenhe(ids[0])
  await taskFor(api, 'zhangwei', ids[1], 'nigao')
  await stack.engine.crash({ restart: true })
  await stack.engine.waitUntilReady(120_000)
  t.same((await openTasks(ids[0])).map((x: { element_id: string }) => x.element_id), ['shenhe'])
  t.same((await openTasks(ids[1])).map((x: { element_id: string }) => x.element_id), ['nigao'])
  const shenhe = await taskFor(api, 'lina', ids[0], 'shenhe')
  const res = await waitFor('engine accepts the completion', async () => {
    const r = await api.as('lina').post(`/tasks/${shenhe.taskKey}/complete`, { route: '送签发', opinion: '同意' })
    return (r.status === 200 || r.status === 202) && r
  })
  t.ok(res)
  await finish(t, ids[0])
})

t.test('a task whose instance is cancelled in the engine disappears from the inbox', async (t) => {
  const id = await startFawen(api)
  const shenhe = await toShenhe(id)
  const doc = await stack.server!.knex('documents').where({ id }).first('process_instance_key')
  await stack.server!.engine.as('liuzhou-gov').cancelInstance(doc.process_instance_key)
  await waitFor('task gone from inbox', async () => !(await api.as('lina').get('/tasks')).body.items.some((x: { taskKey: string }) => x.taskKey === shenhe.taskKey))
  const after = await waitFor('document canceled', async () => {
    const r = await api.as('zhangwei').get(`/documents/${id}`)
    return r.body.status === 'canceled' && r.body
  })
  t.same(after.currentSteps, [])
  t.equal((await api.as('lina').post(`/tasks/${shenhe.taskKey}/complete`, { route: '送签发', opinion: '同意' })).status, 409, 'completing the ghost is refused')
})
