// Crashes at random points: 50 发文 run at once through the REST API while the engine node is
// killed with SIGKILL (the server restarts it) and then the server itself is killed with SIGKILL
// (a new server adopts the engine node still running). Afterwards the inbox equals the engine's
// open tasks, every completed task has exactly one routing-log entry, and the 发文字号 run 1..50.
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs'
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import knexFactory from 'knex'
import t from 'tap'
import { createScratchDatabase } from './helpers/database.ts'
import { Api, draft, waitFor, type Stack } from './helpers/stack.ts'

const root = join(import.meta.dirname, '..')
const FLOWS = 50
const STEPS = ['nigao', 'shenhe', 'qianfa', 'gaizhang'] as const
/** How long the 50 flows may take from the first request until every document is archived. */
const RUN_LIMIT_MS = 7 * 60_000
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const between = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1))

const database = await createScratchDatabase('gw_crash')
const url = new URL(database.url)
const dir = await mkdtemp(join(tmpdir(), 'gongwen-crash-'))
const port = 20000 + Math.floor(Math.random() * 20000)
const engineToken = 'crash-engine-token'
const env = {
  ...process.env, PORT: String(port), ENGINE_PORT: String(port + 1), ENGINE_TOKEN: engineToken, DATABASE_URL: url.toString(),
  GONGWEN_DATA_DIR: dir, AUTH_SECRET: 'test-secret', LOG_LEVEL: 'info',
}
const knex = knexFactory({ client: 'pg', connection: url.toString(), pool: { min: 0, max: 4 } })
let server: ChildProcess | null = null
let servers = 0

/** Starts the server as its own process (so it can be killed with SIGKILL) and waits for /health. */
async function startServer(): Promise<void> {
  // The server's terminal output (start-up failures) goes to a file beside its structured log.
  const out = openSync(join(dir, `server-${++servers}.out`), 'a')
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'server', 'main.ts')], { env, stdio: ['ignore', out, out] })
  closeSync(out)
  server = child
  const end = Date.now() + 240_000
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the server exited during start-up (${child.signalCode ?? `exit code ${child.exitCode}`}); see server-${servers}.out`)
    }
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(5_000) }).catch(() => null)
    await res?.body?.cancel()
    if (res?.status === 200) return
    if (Date.now() > end) throw new Error('the server did not become healthy within 240 s')
    await sleep(250)
  }
}

function kill9Server(): void {
  server?.kill('SIGKILL')
  server = null
}

function enginePid(): number {
  return Number(readFileSync(join(dir, 'engine', 'engine.pid'), 'utf8').trim())
}

function kill9Engine(): void {
  process.kill(-enginePid(), 'SIGKILL')
}

async function engineAnswers(): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${port + 1}/engine-rest/engine`, {
    headers: { authorization: `Bearer ${engineToken}` },
    signal: AbortSignal.timeout(5_000),
  }).catch(() => null)
  await res?.body?.cancel()
  return res?.ok ?? false
}

t.teardown(async () => {
  if (server) {
    const exited = new Promise((r) => server!.once('exit', r))
    server.kill('SIGTERM')
    await Promise.race([exited, sleep(60_000)])
  }
  try {
    kill9Engine()
  } catch {
    /* already gone */
  }
  await knex.destroy()
  await database.drop()
  // The logs of a failed run are kept for whoever looks into it.
  if (!t.passing()) {
    const keep = join(root, 'test-artifacts', 'crash', String(Date.now()))
    await mkdir(keep, { recursive: true })
    await cp(dir, keep, { recursive: true, filter: (src) => !/(secret|token)$/.test(src) }).catch(() => undefined)
    t.comment(`logs of the failed run: ${keep}`)
  }
  await rm(dir, { recursive: true, force: true })
})

const api = new Api({ url: `http://127.0.0.1:${port}` } as Stack)
let deadline = Date.now() + RUN_LIMIT_MS

/** Retries a call through outages (connection refused, 503) until it is answered or the run's time is up. */
async function call(as: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  for (;;) {
    // A request the server never answers (it hangs while the engine restarts) counts as an outage.
    let timer: NodeJS.Timeout | undefined
    const res = await Promise.race([
      api.call(method, path, { as, body }).catch(() => null),
      new Promise<null>((r) => (timer = setTimeout(() => r(null), 60_000))),
    ]).finally(() => clearTimeout(timer))
    if (res && res.status !== 503 && res.status < 500) return res
    if (Date.now() > deadline) throw new Error(`${method} ${path}: no answer through the outage (last: ${res ? `${res.status} ${JSON.stringify(res.body)}` : 'no connection'})`)
    await sleep(500)
  }
}

type InboxItem = { taskKey: string; documentId: string; step: string }
let inboxRead: { at: number; items: Promise<InboxItem[]> } | null = null

/** 何军's inbox, read at most twice a second and shared by all flows (50 pollers would load the server more than the flows do). */
function hejunsInbox(): Promise<InboxItem[]> {
  if (!inboxRead || Date.now() - inboxRead.at > 500) {
    const read = async () => {
      const items: InboxItem[] = []
      for (let offset = 0; ; offset += 200) {
        const page = await call('hejun', 'GET', `/tasks?limit=200&offset=${offset}`)
        if (page.status !== 200) throw new Error(`inbox: ${page.status} ${JSON.stringify(page.body)}`)
        items.push(...page.body.items)
        if (page.body.items.length < 200) return items
      }
    }
    const current = { at: Date.now(), items: read() }
    current.items.catch(() => {
      if (inboxRead === current) inboxRead = null
    })
    inboxRead = current
  }
  return inboxRead.items
}

/** User steps done so far, over all flows: the kill points are drawn on this scale. */
let stepsDone = 0
const progress: Array<() => void> = []
function stepDone(): void {
  stepsDone++
  for (const wake of progress.splice(0)) wake()
}
/** Uploads the 正文 that 用印 needs, through any outage (a repeat only adds a version). */
async function uploadZhengwen(id: string): Promise<void> {
  for (;;) {
    let timer: NodeJS.Timeout | undefined
    const res = await Promise.race([
      api.upload('hejun', `/documents/${id}/files`, { bytes: Buffer.from(`%PDF-1.4\n% 正文 ${id}\n%%EOF\n`), name: '正文.pdf', type: 'application/pdf' }, { kind: '正文' }).catch(() => null),
      new Promise<null>((r) => (timer = setTimeout(() => r(null), 60_000))),
    ]).finally(() => clearTimeout(timer))
    if (res?.status === 201) return
    if (res && res.status !== 503 && res.status < 500) throw new Error(`the 正文 of ${id}: ${res.status} ${JSON.stringify(res.body)}`)
    if (Date.now() > deadline) throw new Error(`the 正文 of ${id}: no answer through the outage`)
    await sleep(500)
  }
}

/** Resolves once `steps` user steps are done, or after `maxMs` whatever the count. */
async function afterSteps(steps: number, maxMs: number): Promise<void> {
  const end = Date.now() + maxMs
  while (stepsDone < steps && Date.now() < end) {
    await Promise.race([new Promise<void>((r) => progress.push(r)), sleep(Math.min(1_000, end - Date.now()))])
  }
}

/** Drives one 发文 to 盖章, tolerating crashes: each step is done once, whatever answers come back. */
async function drive(n: number): Promise<string> {
  const started = await call('hejun', 'POST', '/documents', { kind: 'fawen', data: draft({ title: `崩溃测试 ${n}`, mainRecipients: ['liuzhou-edu'], ccRecipients: [] }) })
  if (started.status !== 201) throw new Error(`start ${n}: ${started.status} ${JSON.stringify(started.body)}`)
  const id = started.body.id as string
  const bodies: Record<(typeof STEPS)[number], Record<string, unknown>> = {
    // 财政局's one person, 何军, holds every role.
    nigao: { route: '送审核', nextHandler: 'hejun' },
    shenhe: { route: '送签发', opinion: '同意', nextHandler: 'hejun' },
    qianfa: { route: '签发', opinion: '同意' },
    gaizhang: { route: '用印' },
  }
  for (const step of STEPS) {
    for (;;) {
      if (Date.now() > deadline) throw new Error(`flow ${n} (${id}): no ${step} task in time`)
      const task = (await hejunsInbox()).find((x) => x.documentId === id && x.step === step)
      if (!task) {
        await sleep(300)
        continue
      }
      if (step === 'gaizhang') await uploadZhengwen(id)
      const res = await call('hejun', 'POST', `/tasks/${task.taskKey}/complete`, bodies[step])
      // 202: saved while the engine is away; 409: done already (an answer lost in a crash).
      if (res.status === 200 || res.status === 202 || res.status === 409) break
      throw new Error(`${step} of ${n}: ${res.status} ${JSON.stringify(res.body)}`)
    }
    stepDone()
  }
  return id
}

t.test('50 flows through a SIGKILL of the engine and then of the server', async (t) => {
  // Started here, not at the top, so that a server which cannot start still gets the teardown.
  await startServer()
  const began = Date.now()
  deadline = began + RUN_LIMIT_MS
  const total = FLOWS * STEPS.length
  const running = Array.from({ length: FLOWS }, (_, n) => drive(n))
  // Settle every flow even if one fails early, so none is left running past the test.
  const flows = Promise.allSettled(running)

  // given: the engine node killed at a random point of the first half of the run
  const engineKillAt = between(Math.round(total * 0.05), Math.round(total * 0.4))
  await afterSteps(engineKillAt, 120_000)
  const killedEngine = enginePid()
  kill9Engine()
  t.pass(`the engine node was killed after ${stepsDone} of ${total} steps (point drawn: ${engineKillAt}; ${Math.round((Date.now() - began) / 1000)} s into the run)`)
  await waitFor('the supervisor to restart the engine', async () => existsSync(join(dir, 'engine', 'engine.pid')) && enginePid() !== killedEngine && (await engineAnswers()), 240_000)
  const restarted = enginePid()
  t.pass(`the server restarted the engine node (${Math.round((Date.now() - began) / 1000)} s into the run)`)

  // and: the server killed at a random point after that, with steps left to do
  const serverKillAt = stepsDone + between(1, Math.max(1, Math.round((total - stepsDone) / 2)))
  await afterSteps(serverKillAt, 60_000)
  kill9Server()
  t.pass(`the server was killed after ${stepsDone} of ${total} steps (point drawn: ${serverKillAt}; ${Math.round((Date.now() - began) / 1000)} s into the run)`)
  await sleep(between(0, 2_000))
  await startServer()
  t.equal(enginePid(), restarted, 'the new server adopted the engine node still running')

  // when: every flow has run to its end
  const outcomes = await flows
  const failed = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected')
  t.same(failed.map((o) => String(o.reason)), [], 'every flow was driven to 盖章')
  const ids = outcomes.filter((o): o is PromiseFulfilledResult<string> => o.status === 'fulfilled').map((o) => o.value)
  await waitFor('every document archived', async () => {
    const rows = await knex('documents').whereIn('id', ids).whereNot({ status: 'completed' }).count<{ c: string }[]>('* as c')
    return Number(rows[0].c) === 0
  }, Math.max(deadline - Date.now(), 60_000))
  t.comment(`the run took ${Math.round((Date.now() - began) / 1000)} s`)

  // then
  const diff = await knex.raw(`
    (select id_ as id from operaton.act_ru_task except select task_key from tasks where state = 'open')
    union all
    (select task_key from tasks where state = 'open' except select id_ from operaton.act_ru_task)`)
  t.same(diff.rows, [], 'the inbox equals the engine’s open tasks')
  const done = await knex.raw(`
    select h.id_ as id, count(l.id) as entries
      from operaton.act_hi_taskinst h
      left join routing_log l on l.dedup_key = 'task:' || h.id_
     where h.end_time_ is not null and h.delete_reason_ = 'completed'
     group by h.id_`)
  t.ok(done.rows.length >= FLOWS * 4, `${done.rows.length} tasks completed in the engine`)
  t.same(done.rows.filter((r: { entries: string }) => Number(r.entries) !== 1), [], 'each completed task has exactly one routing-log entry')
  const states = await knex('tasks').whereIn('document_id', ids).whereNotIn('state', ['completed', 'canceled']).select('task_key', 'state')
  t.same(states, [], 'no task of a finished document is left open or half-done')
  const numbers = (await knex('documents').whereIn('id', ids).select('doc_number')).map((d: { doc_number: string }) => Number(/〕(\d+)号$/.exec(d.doc_number)?.[1]))
  t.same(numbers.sort((x, y) => x - y), Array.from({ length: FLOWS }, (_, i) => i + 1), '发文字号 1..50, no gap and no duplicate')
  const deliveries = await knex('deliveries').whereIn('document_id', ids).count<{ c: string }[]>('* as c')
  t.equal(Number(deliveries[0].c), FLOWS, 'one delivery per document')
  const incoming = await knex.raw(`select count(distinct t.process_instance_key) as c from tasks t join documents d on d.id = t.document_id where d.source_document_id = any(?)`, [ids])
  t.equal(Number(incoming.rows[0].c), FLOWS, 'one 分文报批 per delivered document')
})
