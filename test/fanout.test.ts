// 分发 to many units at once: every recipient gets exactly one 电子来文 and one 签收 task, also when
// the server and the engine are killed with SIGKILL in the middle of the fan-out. The server runs
// as its own process (so it can be killed), with an engine node of its own; 60 units are added per
// fan-out (the figures for 424 and 2,000 units are in bench/fanout).
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import knexFactory from 'knex'
import pino from 'pino'
import t from 'tap'
import { OperatonEngine } from '../engine/operaton/client.ts'
import { createScratchDatabase } from './helpers/database.ts'
import { Api, draft, waitFor, type Stack } from './helpers/stack.ts'

const root = join(import.meta.dirname, '..')
const UNITS = 60
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const database = await createScratchDatabase('gw_fanout')
const dir = await mkdtemp(join(tmpdir(), 'gongwen-fanout-'))
const port = 20000 + Math.floor(Math.random() * 20000)
const engineToken = 'fanout-engine-token'
const env = {
  ...process.env, PORT: String(port), ENGINE_PORT: String(port + 1), ENGINE_TOKEN: engineToken, DATABASE_URL: database.url,
  GONGWEN_DATA_DIR: dir, AUTH_SECRET: 'test-secret', LOG_LEVEL: 'warn', ENGINE_JAVA_OPTS: '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC',
}
const knex = knexFactory({ client: 'pg', connection: database.url, pool: { min: 0, max: 4 } })
let server: ChildProcess | null = null
let servers = 0

async function startServer(): Promise<void> {
  const out = openSync(join(dir, `server-${++servers}.out`), 'a')
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'server', 'main.ts')], { env, stdio: ['ignore', out, out] })
  closeSync(out)
  server = child
  const end = Date.now() + 240_000
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the server exited during start-up; see ${dir}/server-${servers}.out`)
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(5_000) }).catch(() => null)
    await res?.body?.cancel()
    if (res?.status === 200) return
    if (Date.now() > end) throw new Error('the server did not become healthy within 240 s')
    await sleep(200)
  }
}

function kill9Server(): void {
  server?.kill('SIGKILL')
  server = null
}

function kill9Engine(): void {
  process.kill(-Number(readFileSync(join(dir, 'engine', 'engine.pid'), 'utf8').trim()), 'SIGKILL')
}

t.teardown(async () => {
  if (server) {
    const exited = new Promise((r) => server!.once('exit', r))
    server.kill('SIGTERM')
    await Promise.race([exited, sleep(30_000)])
  }
  try {
    kill9Engine()
  } catch {
    /* already gone */
  }
  await knex.destroy()
  await database.drop()
  await rm(dir, { recursive: true, force: true })
})

const api = new Api({ url: `http://127.0.0.1:${port}` } as Stack)

/** Adds `count` units (as an import would) and returns their ids. */
async function addUnits(prefix: string, count: number): Promise<string[]> {
  const rows = Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${String(i + 1).padStart(3, '0')}`, name: `${prefix}单位${i + 1}`, doc_number_prefix: `${prefix}${i + 1}发`, seal_name: `${prefix}单位${i + 1}印章`,
  }))
  await knex('units').insert(rows)
  return rows.map((r) => r.id)
}

const bodies = {
  nigao: { route: '送审核', nextHandler: 'lina' },
  shenhe: { route: '送签发', opinion: '同意', nextHandler: 'wangqiang' },
  qianfa: { route: '签发', opinion: '同意' },
  gaizhang: { route: '用印' },
} as const
const users = { nigao: 'zhangwei', shenhe: 'lina', qianfa: 'wangqiang', gaizhang: 'chenjing' } as const

/** Drives a 发文 to the given units up to and including 用印 (which leads to 分发). */
async function sendTo(units: string[], title: string): Promise<string> {
  const started = await api.as('zhangwei').post('/documents', { kind: 'fawen', data: draft({ title, mainRecipients: units.slice(0, 40), ccRecipients: units.slice(40) }) })
  if (started.status !== 201) throw new Error(`start: ${started.status} ${JSON.stringify(started.body)}`)
  const id = started.body.id as string
  for (const step of ['nigao', 'shenhe', 'qianfa', 'gaizhang'] as const) {
    const task = await waitFor(`${step} of ${id}`, async () => (await knex('tasks').where({ document_id: id, element_id: step, state: 'open' }).first('task_key')) as { task_key: string } | undefined)
    if (step === 'gaizhang') {
      const up = await api.upload('chenjing', `/documents/${id}/files`, { bytes: Buffer.from('%PDF-1.7 分发测试'), name: '正文.pdf', type: 'application/pdf' }, { kind: '正文' })
      if (up.status !== 201) throw new Error(`upload: ${up.status} ${JSON.stringify(up.body)}`)
    }
    const res = await api.as(users[step]).post(`/tasks/${task.task_key}/complete`, bodies[step])
    if (res.status !== 200) throw new Error(`${step}: ${res.status} ${JSON.stringify(res.body)}`)
  }
  return id
}

/** Per recipient: its 电子来文, its open 签收 tasks in the inbox, its instances in the engine, its 分发 log entries. */
async function perRecipient(id: string) {
  const { rows } = await knex.raw(
    `select v.recipient_unit_id as unit,
            (select count(*) from documents i where i.source_document_id = v.document_id and i.unit_id = v.recipient_unit_id)::int as incoming,
            (select count(*) from tasks k join documents i on i.id = k.document_id
              where i.source_document_id = v.document_id and i.unit_id = v.recipient_unit_id and k.element_id = 'qianshou' and k.state = 'open')::int as inbox,
            (select count(*) from operaton.act_ru_task e join documents i on e.proc_inst_id_ = i.process_instance_key
              where i.source_document_id = v.document_id and i.unit_id = v.recipient_unit_id and e.task_def_key_ = 'qianshou')::int as engine,
            (select count(*) from operaton.act_hi_procinst p join documents i on p.business_key_ = i.id::text
              where i.source_document_id = v.document_id and i.unit_id = v.recipient_unit_id)::int as instances,
            (select count(*) from routing_log l where l.document_id = v.document_id and l.step = 'fenfa' and l.dedup_key like '%' || v.recipient_unit_id)::int as logged
       from deliveries v where v.document_id = ? order by 1`,
    [id],
  )
  return rows as Array<{ unit: string; incoming: number; inbox: number; engine: number; instances: number; logged: number }>
}

const once = (units: string[]) => units.map((unit) => ({ unit, incoming: 1, inbox: 1, engine: 1, instances: 1, logged: 1 }))

/** Waits until every recipient has its 签收 task in the inbox. */
async function fannedOut(id: string, count: number, timeoutMs: number) {
  return waitFor(`${count} 签收 tasks of ${id}`, async () => {
    const [{ n }] = await knex('tasks as k').join('documents as i', 'i.id', 'k.document_id')
      .where({ 'i.source_document_id': id, 'k.element_id': 'qianshou', 'k.state': 'open' }).count({ n: '*' })
    return Number(n) >= count
  }, timeoutMs)
}

let units: string[] = []

t.test('a 分发 to 60 units gives each exactly one 电子来文 and one 签收 task', async (t) => {
  await startServer()
  units = await addUnits('甲', UNITS)
  const id = await sendTo(units, '分发测试：六十个单位')
  await fannedOut(id, UNITS, 240_000)
  const doc = await waitFor('the 发文 archived', async () => {
    const r = await api.as('zhangwei').get(`/documents/${id}`)
    return r.body.status === 'completed' && r.body
  })
  t.equal(doc.deliveries.length, UNITS, 'the sender sees every delivery')
  t.same(await perRecipient(id), once(units), 'one 电子来文, one 签收 in the inbox and in the engine, one instance and one log entry per recipient')
  // A recipient's registry sees its own 签收 and no other unit's.
  const incoming = await knex('documents').where({ source_document_id: id, unit_id: units[7] }).first('id', 'status', 'title')
  t.equal(incoming.status, 'running')
  t.equal(incoming.title, '分发测试：六十个单位')
})

t.test('the engine starts a business key once, however often the batch is sent', async (t) => {
  const engine = new OperatonEngine({ url: `http://127.0.0.1:${port + 1}`, token: engineToken, log: pino({ level: 'silent' }) })
  const starts = Array.from({ length: 6 }, (_, i) => {
    const key = randomUUID()
    return { tenant: i % 2 ? 'liuzhou-edu' : 'liuzhou-fin', businessKey: key, variables: { documentId: key, nextHandler: '', stepLimit: 'PT72H', remindAfter: 'PT48H' } }
  })
  t.same(await engine.startByMessage('gongwen.incoming', starts.slice(0, 4)), { started: 4, skipped: 0 })
  t.same(await engine.startByMessage('gongwen.incoming', starts), { started: 2, skipped: 4 }, 'a repeat starts only the keys not started yet')
  const { rows } = await knex.raw(`select business_key_ as key, tenant_id_ as tenant from operaton.act_ru_execution where business_key_ = any(?) and parent_id_ is null order by 1`, [starts.map((s) => s.businessKey)])
  t.same(rows, starts.map((s) => ({ key: s.businessKey, tenant: s.tenant })).sort((a, b) => a.key.localeCompare(b.key)), 'one instance per key, in its own unit')
  const err = await engine.startByMessage('gongwen.incoming', [{ tenant: 'no-such-unit', businessKey: randomUUID(), variables: {} }]).catch((e) => e)
  t.equal(err.kind, 'not_found', 'a unit with no such flow is refused')
  const wrong = await fetch(`http://127.0.0.1:${port + 1}/engine-rest/gongwen/message-starts`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })
  t.equal(wrong.status, 401, 'the endpoint requires the engine credential')
  await wrong.body?.cancel()
})

// The same 60 units as the first 分发: their 分文报批 is deployed by then, so the kill lands in the
// fan-out itself, not in a first deployment to new units.
t.test('SIGKILL of the server and the engine in the middle of a 分发: finished after restart, one of each per recipient', async (t) => {
  const id = await sendTo(units, '分发测试：崩溃')
  // given: both killed as soon as the fan-out has begun (deliveries recorded, instances starting)
  const seen = await waitFor('the fan-out under way', async () => {
    const [{ n }] = await knex('deliveries').where({ document_id: id }).count({ n: '*' })
    return Number(n) > 0 && Number(n)
  }, 60_000)
  kill9Server()
  kill9Engine()
  const [{ n: before }] = await knex('tasks as k').join('documents as i', 'i.id', 'k.document_id').where({ 'i.source_document_id': id, 'k.element_id': 'qianshou' }).count({ n: '*' })
  t.comment(`killed with ${seen} deliveries seen and ${before} of ${UNITS} 签收 tasks in place`)
  // when: the server is started again (it starts a new engine node)
  await startServer()
  // then: the fan-out finishes by itself, exactly once per recipient
  await fannedOut(id, UNITS, 150_000)
  await waitFor('the 发文 archived', async () => (await api.as('zhangwei').get(`/documents/${id}`)).body.status === 'completed', 60_000)
  t.same(await perRecipient(id), once(units), 'one 电子来文, one 签收 in the inbox and in the engine, one instance and one log entry per recipient')
  const [{ n: stray }] = await knex('documents').where({ source_document_id: id }).whereNull('process_instance_key').count({ n: '*' })
  t.equal(Number(stray), 0, 'no 电子来文 is left without its flow')
})
