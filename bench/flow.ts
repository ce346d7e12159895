// Benchmark: 发文 documents end to end through our REST API vs. the same BPMN model driven straight
// on the engine's REST API (Operaton), in one process, as a ratio.
import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { Api, draft, startStack, type Stack } from '../test/helpers/stack.ts'

const N = positiveInt(process.argv[2] ?? process.env.BENCH_N, 30, 'BENCH_N')
const CONCURRENCY = positiveInt(process.env.BENCH_CONCURRENCY, 5, 'BENCH_CONCURRENCY')
const WARMUP = 3
const POLL_MS = 20
const DOC_TIMEOUT_MS = 60_000
const UNIT = 'liuzhou-gov'
const ENGINE_TOKEN = 'bench-engine-token'

/** The happy path of the 发文 flow: who handles each user task, and the route and next handler they choose. */
const STEPS = [
  { user: 'zhangwei', step: 'nigao', route: '送审核', nextHandler: 'lina', opinion: '' },
  { user: 'lina', step: 'shenhe', route: '送签发', nextHandler: 'wangqiang', opinion: '同意' },
  { user: 'wangqiang', step: 'qianfa', route: '签发', nextHandler: '', opinion: '同意印发' },
  { user: 'chenjing', step: 'gaizhang', route: '用印', nextHandler: '', opinion: '' },
] as const

type InboxItem = { taskKey: string; step: string; documentId: string }

function positiveInt(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`)
  return n
}

/** Polls fn every POLL_MS until it yields a truthy value; throws once the document's deadline has passed. */
async function poll<T>(what: string, deadline: number, fn: () => Promise<T | null | undefined | false>): Promise<T> {
  for (;;) {
    const value = await fn()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(POLL_MS)
  }
}

/** Phase A: one document through the REST API, as the people who handle it. */
async function viaRest(api: Api): Promise<void> {
  const deadline = Date.now() + DOC_TIMEOUT_MS
  const started = await api.as('zhangwei').post('/documents', { kind: 'fawen', data: draft() })
  if (started.status !== 201) throw new Error(`start failed: ${started.status} ${JSON.stringify(started.body)}`)
  const id = started.body.id as string
  for (const s of STEPS) {
    const task = await poll(`${s.user}'s ${s.step} task of ${id}`, deadline, async () => {
      const res = await api.as(s.user).get('/tasks?limit=200')
      if (res.status !== 200) throw new Error(`inbox of ${s.user}: ${res.status} ${JSON.stringify(res.body)}`)
      return (res.body.items as InboxItem[]).find((t) => t.documentId === id && t.step === s.step)
    })
    if (s.step === 'gaizhang') {
      // 用印 needs the fixed-layout 正文, which the registry uploads at 盖章.
      const up = await api.upload(s.user, `/documents/${id}/files`, { bytes: Buffer.from('%PDF-1.7 bench'), name: '正文.pdf', type: 'application/pdf' }, { kind: '正文' })
      if (up.status !== 201) throw new Error(`正文 of ${id}: ${up.status} ${JSON.stringify(up.body)}`)
    }
    const body = { route: s.route, ...(s.nextHandler ? { nextHandler: s.nextHandler } : {}), ...(s.opinion ? { opinion: s.opinion } : {}) }
    const done = await api.as(s.user).post(`/tasks/${task.taskKey}/complete`, body)
    if (done.status !== 200) throw new Error(`${s.step} of ${id}: ${done.status} ${JSON.stringify(done.body)}`)
  }
  await poll(`document ${id} completed`, deadline, async () => {
    const res = await api.as('zhangwei').get(`/documents/${id}`)
    if (res.body?.status === 'canceled' || res.body?.status === 'failed') throw new Error(`document ${id} ended ${res.body.status}`)
    return res.status === 200 && res.body.status === 'completed'
  })
}

/** The engine's own REST API, as an integrator driving the engine directly would call it. */
async function engineRest(stack: Stack, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${stack.engine.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ENGINE_TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (!res.ok) throw new Error(`engine ${method} ${path}: ${res.status} ${await res.text()}`)
  return res.status === 204 ? null : res.json()
}

const str = (value: string) => ({ value, type: 'String' })

/**
 * Phase B, the baseline: the same model on the same engine node, driven through the engine's REST
 * API: start, find each user task with the engine's task query, complete it. The 编号/用印/分发
 * steps need a documents row, so we insert a minimal one and start the instance with its id. The
 * baseline shares the engine, its workers and its inbox listener with phase A; it skips our HTTP,
 * auth, validation, claim-before-complete and inbox-query layer.
 */
async function viaEngine(stack: Stack, definitionId: string): Promise<void> {
  const { knex } = stack.server!
  const deadline = Date.now() + DOC_TIMEOUT_MS
  const id = randomUUID()
  await knex('documents').insert({
    id, unit_id: UNIT, kind: 'fawen', title: 'bench', status: 'starting', data: JSON.stringify(draft()), created_by: 'zhangwei',
  })
  const instance = await engineRest(stack, 'POST', `/process-definition/${definitionId}/start`, {
    businessKey: id,
    variables: { documentId: str(id), unitId: str(UNIT), drafter: str('zhangwei'), nextHandler: str(''), stepLimit: str('PT72H'), remindAfter: str('PT60H'), coIssuers: str('[]') },
  })
  for (const s of STEPS) {
    const task = await poll(`${s.step} task of instance ${instance.id}`, deadline, async () => {
      const tasks = await engineRest(stack, 'GET', `/task?processInstanceId=${instance.id}&taskDefinitionKey=${s.step}`)
      return tasks[0] as { id: string } | undefined
    })
    await engineRest(stack, 'POST', `/task/${task.id}/complete`, { variables: { route: str(s.route), nextHandler: str(s.nextHandler) } })
  }
  await poll(`instance ${instance.id} completed`, deadline, async () => {
    const done = await engineRest(stack, 'GET', `/history/process-instance/${instance.id}`)
    if (done.state === 'EXTERNALLY_TERMINATED' || done.state === 'INTERNALLY_TERMINATED') throw new Error(`instance ${instance.id} ended ${done.state}`)
    return done.state === 'COMPLETED'
  })
}

interface PhaseResult { wallMs: number; latencies: number[] }

/** Runs `count` documents with at most CONCURRENCY in flight; stops taking new ones after the first failure. */
async function runPhase(count: number, one: () => Promise<void>): Promise<PhaseResult> {
  const latencies: number[] = []
  let next = 0
  let failed = false
  const t0 = performance.now()
  const lanes = Array.from({ length: Math.min(CONCURRENCY, count) }, async () => {
    while (!failed && next < count) {
      next++
      const start = performance.now()
      try {
        await one()
      } catch (err) {
        failed = true
        throw err
      }
      latencies.push(performance.now() - start)
    }
  })
  const settled = await Promise.allSettled(lanes)
  const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')
  if (rejected) throw rejected.reason
  return { wallMs: performance.now() - t0, latencies }
}

function summarize(r: PhaseResult) {
  const sorted = [...r.latencies].sort((a, b) => a - b)
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length
  const p95 = sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)]
  return { docsPerSec: (sorted.length * 1000) / r.wallMs, meanMs: mean, p95Ms: p95, wallMs: r.wallMs }
}

async function main(): Promise<void> {
  console.log(`starting stack (database, engine, server)…`)
  const stack = await startStack({ ownEngine: true, env: { ENGINE_TOKEN, ENGINE_JAVA_OPTS: '' } }) // the engine as in production
  try {
    const server = stack.server
    if (!server) throw new Error('server did not start')
    const api = new Api(stack)
    for (const user of new Set(STEPS.map((s) => s.user))) await api.token(user) // log in once, reuse
    const rest = () => viaRest(api)
    const definitionId = await server.services.models.startIdFor('fawen', UNIT)
    if (!definitionId) throw new Error('fawen is not deployed')
    const direct = () => viaEngine(stack, definitionId)

    console.log(`warm-up: ${WARMUP} documents through each path (not measured)`)
    await runPhase(WARMUP, rest)
    await runPhase(WARMUP, direct)

    console.log(`phase A: ${N} documents through the REST API, concurrency ${CONCURRENCY}`)
    const a = summarize(await runPhase(N, rest))
    console.log(`phase B: ${N} documents straight on the engine's REST API, concurrency ${CONCURRENCY}`)
    const b = summarize(await runPhase(N, direct))

    const fmt = (name: string, s: ReturnType<typeof summarize>) =>
      `${name.padEnd(22)} ${s.docsPerSec.toFixed(2).padStart(8)} docs/s   wall ${(s.wallMs / 1000).toFixed(2).padStart(7)} s   ` +
      `mean ${s.meanMs.toFixed(0).padStart(6)} ms   p95 ${s.p95Ms.toFixed(0).padStart(6)} ms`
    console.log(
      [
        '',
        `发文 flow benchmark — N=${N}, concurrency=${CONCURRENCY}, warm-up=${WARMUP} per path`,
        fmt('A  REST API', a),
        fmt('B  engine REST API', b),
        `ratio (REST / direct): ${(a.docsPerSec / b.docsPerSec).toFixed(2)}`,
      ].join('\n'),
    )
  } finally {
    await stack.close()
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error('bench failed:', err)
    process.exit(1)
  },
)
