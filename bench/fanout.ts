// Benchmark: 分发 at city scale. One 发文 is sent to N units (424, a city, and 2,000; a list in
// BENCH_FANOUT_UNITS overrides, e.g. "424,2000"); measured is the time from 用印 (the step that
// leads to 分发) until every recipient has its 电子来文 and its open 签收 task. A baseline starts
// the same number of 分文报批 instances straight on the engine's REST API (POST /message, one per
// recipient, concurrency 8), as an integrator driving the engine directly would.
import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { Api, draft, startStack, type Stack } from '../test/helpers/stack.ts'

const SIZES = (process.argv[2] ?? process.env.BENCH_FANOUT_UNITS ?? '424,2000').split(',').map((s) => {
  const n = Number(s.trim())
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_FANOUT_UNITS must list positive integers, got "${s}"`)
  return n
})
const ENGINE_TOKEN = 'bench-engine-token'
const BASELINE_CONCURRENCY = 8
const TIMEOUT_MS = 10 * 60_000
/** The lists of one 发文 take at most 1,000 units each (the 笺's limit): 主送 first, the rest 抄送. */
const LIST_MAX = 1000

const STEPS = [
  { user: 'zhangwei', step: 'nigao', route: '送审核', nextHandler: 'lina' },
  { user: 'lina', step: 'shenhe', route: '送签发', nextHandler: 'wangqiang', opinion: '同意' },
  { user: 'wangqiang', step: 'qianfa', route: '签发', nextHandler: '', opinion: '同意印发' },
  { user: 'chenjing', step: 'gaizhang', route: '用印', nextHandler: '' },
] as const

const unitId = (i: number) => `bench-unit-${String(i).padStart(4, '0')}`

async function poll<T>(what: string, fn: () => Promise<T | null | undefined | false>, pollMs = 25): Promise<T> {
  const deadline = Date.now() + TIMEOUT_MS
  for (;;) {
    const value = await fn()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(pollMs)
  }
}

async function createUnits(stack: Stack, count: number): Promise<void> {
  const { knex } = stack.server!
  const rows = Array.from({ length: count }, (_, i) => ({
    id: unitId(i + 1), name: `基准测试单位${i + 1}`, doc_number_prefix: `测${i + 1}发`, seal_name: `基准测试单位${i + 1}印章`,
  }))
  for (let i = 0; i < rows.length; i += 500) await knex('units').insert(rows.slice(i, i + 500)).onConflict('id').ignore()
}

/** Sends one 发文 to `count` units; returns ms from 用印 to every 电子来文 and 签收 task in place. */
async function fanOut(stack: Stack, api: Api, count: number): Promise<{ totalMs: number; deliveredMs: number }> {
  const { knex } = stack.server!
  const units = Array.from({ length: count }, (_, i) => unitId(i + 1))
  const data = draft({ title: `分发基准（${count} 个单位）`, mainRecipients: units.slice(0, LIST_MAX), ccRecipients: units.slice(LIST_MAX) })
  const started = await api.as('zhangwei').post('/documents', { kind: 'fawen', data })
  if (started.status !== 201) throw new Error(`start failed: ${started.status} ${JSON.stringify(started.body).slice(0, 500)}`)
  const id = started.body.id as string
  let t0 = 0
  for (const s of STEPS) {
    const task = await poll(`${s.step} of ${id}`, async () => (await knex('tasks').where({ document_id: id, element_id: s.step, state: 'open' }).first('task_key')) as { task_key: string } | undefined)
    if (s.step === 'gaizhang') {
      const up = await api.upload(s.user, `/documents/${id}/files`, { bytes: Buffer.from('%PDF-1.7 bench'), name: '正文.pdf', type: 'application/pdf' }, { kind: '正文' })
      if (up.status !== 201) throw new Error(`upload: ${up.status} ${JSON.stringify(up.body)}`)
      t0 = performance.now()
    }
    const body = { route: s.route, ...(s.nextHandler ? { nextHandler: s.nextHandler } : {}), ...('opinion' in s ? { opinion: s.opinion } : {}) }
    const done = await api.as(s.user).post(`/tasks/${task.task_key}/complete`, body)
    if (done.status !== 200) throw new Error(`${s.step}: ${done.status} ${JSON.stringify(done.body)}`)
  }
  let deliveredMs = 0
  await poll(`${count} 电子来文 and 签收 tasks`, async () => {
    if (!deliveredMs) {
      const [{ n }] = await knex('deliveries').where({ document_id: id }).count({ n: '*' })
      if (Number(n) === count) deliveredMs = performance.now() - t0
    }
    const [{ n }] = await knex('tasks as t')
      .join('documents as d', 'd.id', 't.document_id')
      .where({ 'd.source_document_id': id, 't.element_id': 'qianshou', 't.state': 'open' })
      .count({ n: '*' })
    return Number(n) === count
  })
  const totalMs = performance.now() - t0
  const [{ docs }] = await knex('documents').where({ source_document_id: id }).count({ docs: '*' })
  if (Number(docs) !== count) throw new Error(`expected ${count} 电子来文, found ${docs}`)
  return { totalMs, deliveredMs }
}

/** The baseline: `count` 分文报批 started by POST /message, one per unit, straight on the engine. */
async function direct(stack: Stack, count: number): Promise<number> {
  const url = stack.engine.url
  const str = (value: string) => ({ value, type: 'String' })
  let next = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: BASELINE_CONCURRENCY }, async () => {
      while (next < count) {
        const unit = unitId(++next)
        const key = randomUUID()
        // The node's url already ends in /engine-rest.
        const res = await fetch(`${url}/message`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ENGINE_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            messageName: 'gongwen.incoming', tenantId: unit, businessKey: key,
            processVariables: { documentId: str(key), unitId: str(unit), nextHandler: str(''), stepLimit: str('PT72H'), remindBefore: str('PT24H'), remindAfter: str('PT48H') },
          }),
        })
        if (!res.ok) throw new Error(`engine /message for ${unit}: ${res.status} ${await res.text()}`)
        await res.body?.cancel()
      }
    }),
  )
  return performance.now() - t0
}

async function main(): Promise<void> {
  const max = Math.max(...SIZES)
  console.log(`starting stack (database, engine, server)…`)
  const stack = await startStack({ ownEngine: true, env: { ENGINE_TOKEN, ENGINE_JAVA_OPTS: '', ENGINE_HEAP_MB: process.env.ENGINE_HEAP_MB ?? '2048' } })
  try {
    const api = new Api(stack)
    for (const user of new Set(STEPS.map((s) => s.user))) await api.token(user)
    console.log(`creating ${max} units…`)
    await createUnits(stack, max)
    // As the first 分发 to a new unit does: its 分文报批 deployed into its tenant (not measured).
    console.log(`deploying 分文报批 for ${max} units…`)
    const t0 = performance.now()
    const { models } = stack.server!.services
    for (let i = 1; i <= max; i += 8) await Promise.all(Array.from({ length: Math.min(8, max - i + 1) }, (_, k) => models.deployShipped(unitId(i + k), ['fenwen'])))
    console.log(`  deployed in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    // Not measured: warms the engine and the server.
    const warmUnits = Math.min(...SIZES)
    console.log(`warm-up: one 分发 to ${warmUnits} units (not measured)…`)
    const warm = await fanOut(stack, api, warmUnits)
    console.log(`  warm-up took ${(warm.totalMs / 1000).toFixed(1)} s`)
    const lines: string[] = []
    for (const n of SIZES) {
      console.log(`分发 to ${n} units…`)
      const r = await fanOut(stack, api, n)
      console.log(`  分发 to ${n} units: ${(r.totalMs / 1000).toFixed(2)} s (电子来文 all recorded after ${(r.deliveredMs / 1000).toFixed(2)} s)`)
      console.log(`starting ${n} 分文报批 straight on the engine (POST /message, concurrency ${BASELINE_CONCURRENCY})…`)
      const d = await direct(stack, n)
      lines.push(
        `${String(n).padStart(5)} units   分发 ${(r.totalMs / 1000).toFixed(2).padStart(6)} s ` +
          `(电子来文 all recorded after ${(r.deliveredMs / 1000).toFixed(2)} s)   ` +
          `engine REST alone ${(d / 1000).toFixed(2).padStart(6)} s   ratio (engine alone / 分发) ${(d / r.totalMs).toFixed(2)}`,
      )
      console.log(lines.at(-1))
    }
    console.log(['', '分发 benchmark — time from 用印 until every 电子来文 and 签收 task is in place', ...lines].join('\n'))
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
