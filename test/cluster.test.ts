// Scale-out: two app nodes, each with its own engine node on loopback, share one PostgreSQL. A flow
// started on one node is completed on the other, automated steps run wherever a worker is free,
// and each deadline notice fires exactly once across both engine nodes.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import t from 'tap'
import { loadConfig } from '../server/config.ts'
import { startSystem } from '../server/main.ts'
import { freeRange } from './helpers/ports.ts'
import { Api, draft, startStack, taskFor, waitFor, type Stack } from './helpers/stack.ts'
import { ensureZhengwen } from './helpers/flows.ts'

// Node A with an engine node of its own, not the run's shared one: B starts the second.
const a = await startStack({ ownEngine: true })
t.teardown(() => a.close())
const dirB = await mkdtemp(join(tmpdir(), 'gongwen-node-b-'))
// Node B's server and engine ports: two free ones in a row.
const portB = await freeRange(2)
const b = await startSystem(
  loadConfig({
    PORT: String(portB), ENGINE_PORT: String(portB + 1), ENGINE_TOKEN: 'node-b-engine-token', DATABASE_URL: a.databaseUrl,
    GONGWEN_DATA_DIR: dirB, AUTH_SECRET: 'test-secret', LOG_LEVEL: 'warn',
  }),
  pino({ level: 'warn' }),
)
t.teardown(async () => {
  await b.shutdown()
  await rm(dirB, { recursive: true, force: true })
})
const onA = new Api(a)
const onB = new Api({ url: `http://127.0.0.1:${portB}` } as Stack)

t.test('a 发文 started on node A is handled on node B and completes, each step logged once', async (t) => {
  const started = await onA.as('zhangwei').post('/documents', { kind: 'fawen', data: draft() })
  t.equal(started.status, 201)
  const id = started.body.id
  const steps: Array<[Api, string, string, Record<string, unknown>]> = [
    [onB, 'zhangwei', 'nigao', { route: '送审核', nextHandler: 'lina' }],
    [onA, 'lina', 'shenhe', { route: '送签发', opinion: '同意', nextHandler: 'wangqiang' }],
    [onB, 'wangqiang', 'qianfa', { route: '签发', opinion: '同意' }],
    [onA, 'chenjing', 'gaizhang', { route: '用印' }],
  ]
  for (const [api, user, step, body] of steps) {
    // The inbox row is written in the engine's transaction, so either node sees it at once.
    const task = await taskFor(api, user, id, step)
    if (step === 'gaizhang') await ensureZhengwen(api, user, id)
    const res = await api.as(user).post(`/tasks/${task.taskKey}/complete`, body)
    t.equal(res.status, 200, `${step} completed through ${api === onA ? 'A' : 'B'}`)
  }
  const doc = await waitFor('completed', async () => {
    const r = await onB.as('zhangwei').get(`/documents/${id}`)
    return r.body.status === 'completed' && r.body
  }, 60_000)
  t.equal(doc.deliveries.length, 2, 'delivered once to each recipient')
  t.match(doc.docNumber, /^柳政办发〔\d{4}〕\d+号$/, 'numbered once')
  const steps2 = doc.log.filter((e: { actorId: string | null }) => e.actorId).map((e: { step: string }) => e.step)
  t.same(steps2, ['nigao', 'shenhe', 'qianfa', 'gaizhang'], 'each completed step has one entry')
})

t.test('deadline notices fire exactly once across two engine nodes', async (t) => {
  const set = await onA.call('PUT', '/settings/unit', { as: 'zhouadmin', body: { timeLimits: { 平件: { limit: 'PT8S', remindBefore: 'PT4S' } } } })
  t.equal(set.status, 200)
  const ids: string[] = []
  for (let i = 0; i < 6; i++) {
    const api = i % 2 ? onA : onB
    const res = await api.as('zhangwei').post('/documents', { kind: 'fawen', data: draft({ title: `集群时限 ${i}` }) })
    t.equal(res.status, 201, `document ${i} started on ${api === onA ? 'A' : 'B'}`)
    ids.push(res.body.id)
  }
  const knex = a.server!.knex
  await waitFor('every overdue notice', async () => {
    const rows = await knex('notifications').whereIn('document_id', ids).where({ kind: 'overdue' }).count<{ c: string }[]>('* as c')
    return Number(rows[0].c) >= ids.length
  }, 60_000)
  await new Promise((r) => setTimeout(r, 3000))
  const counts = await knex('notifications').whereIn('document_id', ids).groupBy('document_id', 'kind').select('document_id', 'kind').count<{ c: string }[]>('* as c')
  t.equal(counts.length, ids.length * 2, 'a reminder and an overdue notice for each document')
  t.ok(counts.every((r: { c: string }) => Number(r.c) === 1), 'none twice')
  const fired = await knex.raw(`select count(distinct root_proc_inst_id_) as c from operaton.act_hi_actinst where act_type_ = 'boundaryTimer' and root_proc_inst_id_ in (select process_instance_key from documents where id = any(?))`, [ids])
  t.equal(Number(fired.rows[0].c), ids.length, 'the engine fired the timers of every document')
  // The notifications are deduplicated, so their count alone cannot tell a timer that fired on
  // both nodes: the engine's own history must show each timer and each notify step once.
  const runs = await knex.raw(`
    select h.act_id_ as step, count(*)::int as c
      from operaton.act_hi_actinst h
      join documents d on d.process_instance_key = h.root_proc_inst_id_
     where d.id = any(?) and h.act_id_ in ('nigao-reminder', 'nigao-overdue', 'nigao-reminder-notify', 'nigao-overdue-notify')
     group by d.id, h.act_id_`, [ids])
  t.equal(runs.rows.length, ids.length * 4, 'both timers and both notify steps ran for every document')
  t.same(runs.rows.filter((r: { c: number }) => r.c !== 1), [], 'each timer fired once and each notify step ran once, across both engine nodes')
  await onA.call('PUT', '/settings/unit', { as: 'zhouadmin', body: { timeLimits: { 平件: { limit: 'PT72H', remindBefore: 'PT12H' } } } })
})
