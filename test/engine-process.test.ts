// The engine supervisor and the Java engine on the machine's PostgreSQL: adoption, the REST
// credential, loopback only, restart after a crash, and the inbox written in the engine's transaction.
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { connect, createServer } from 'node:net'
import { networkInterfaces, tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import pg from 'pg'
import pino from 'pino'
import t from 'tap'
import { EngineProcess, RunningEngine, type EngineProcessOptions } from '../engine/operaton/process.ts'
import { loadConfig } from '../server/config.ts'

const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const dbName = `gw_eng_${process.pid}`
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'warn' })

// given: a scratch database whose public schema holds stub inbox functions that record each call
const admin = new pg.Client({ connectionString: adminUrl })
await admin.connect()
await admin.query(`drop database if exists ${dbName} with (force)`)
await admin.query(`create database ${dbName}`)
const dbUrl = new URL(adminUrl)
dbUrl.pathname = `/${dbName}`
const db = new pg.Client({ connectionString: dbUrl.toString() })
await db.connect()
await db.query(stubFunctions())

const dir = await mkdtemp(join(tmpdir(), 'gongwen-engine-'))
const options: Omit<EngineProcessOptions, 'log'> = {
  dataDir: dir,
  port: await freePort(),
  token: `token-${process.pid}-${Date.now()}`,
  database: { url: dbUrl.toString() },
}
let engine: EngineProcess | null = null
let firstPid = 0

t.teardown(async () => {
  await engine?.stop()
  await db.end()
  await admin.query(`drop database if exists ${dbName} with (force)`)
  await admin.end()
  await rm(dir, { recursive: true, force: true })
})

t.test('an engine left running by a killed server is adopted, not started twice', async (t) => {
  // given: a server process that started the engine and was then killed
  firstPid = await startEngineInKilledServer()
  t.ok(isAlive(firstPid), 'the engine outlives its server')
  // when: a new server starts on the same data directory
  engine = new EngineProcess({ ...options, log })
  const started = Date.now()
  await engine.start()
  // then: it uses the running engine
  t.ok(Date.now() - started < 10_000, `adopted in ${Date.now() - started} ms`)
  t.equal(Number(await readFile(join(dir, 'engine.pid'), 'utf8')), firstPid, 'same engine process')
})

t.test('the REST API answers only with the token', async (t) => {
  const status = async (path: string, headers: Record<string, string> = {}) => (await fetch(engine!.url + path, { headers })).status
  t.equal(await status('/engine'), 401, 'no Authorization header')
  t.equal(await status('/engine', { authorization: 'Bearer wrong' }), 401, 'wrong token')
  t.equal(await status('/task'), 401, 'any other path without the token')
  t.equal(await status('/engine', { authorization: `Basic ${options.token}` }), 401, 'token under another scheme')
  t.equal(await status('/engine', auth()), 200, 'with the token')
})

const external = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && !a.internal && a.family === 'IPv4')
t.test('the engine listens on 127.0.0.1 only', { skip: external ? false : 'this machine has no non-loopback IPv4 address' }, async (t) => {
  const refused = await new Promise<boolean>((resolve) => {
    const socket = connect({ host: external!.address, port: options.port, timeout: 3000 })
    socket.once('connect', () => (socket.destroy(), resolve(false)))
    socket.once('error', () => resolve(true))
    socket.once('timeout', () => (socket.destroy(), resolve(true)))
  })
  t.ok(refused, `nothing answers on ${external!.address}:${options.port}`)
})

t.test('expressions in a model reach the json bean and no other part of the engine', async (t) => {
  // given: a model whose first step names a Spring bean (the DataSource) in its assignee
  const xml = tinyBpmn().replace(/id="tiny"/, 'id="beans"').replace('camunda:assignee="${drafter}"', 'camunda:assignee="${dataSource.connection}"')
  t.equal((await deploy('beans', xml)).status, 200, 'deployed (the expression is only evaluated when the step starts)')
  // when: an instance starts
  const res = await rest('POST', '/process-definition/key/beans/tenant-id/unit-a/start', {
    variables: { documentId: { value: 'doc-beans', type: 'String' }, dept: { value: 'dept', type: 'String' }, docKind: { value: 'x', type: 'String' } },
  })
  // then: the engine cannot resolve it, and nothing started
  t.not(res.status, 200, 'the start is refused')
  t.match(JSON.stringify(res.body), /dataSource/, 'naming the unknown name')
})

t.test('the inbox functions run in the engine transaction', async (t) => {
  // given: a model with an assigned first step and a parallel 会签 over a JSON list
  const deployed = await deploy('tiny', tinyBpmn())
  t.equal(deployed.status, 200, 'deployed')
  const definitionId = (Object.values(deployed.body.deployedProcessDefinitions)[0] as { id: string }).id

  // when: an instance starts
  const start = (documentId: string) =>
    rest('POST', '/process-definition/key/tiny/tenant-id/unit-a/start', {
      variables: {
        documentId: { value: documentId, type: 'String' },
        drafter: { value: 'zhangwei', type: 'String' },
        dept: { value: 'dept', type: 'String' },
        docKind: { value: 'nigao', type: 'String' },
        signersJson: { value: '["lina","sunli"]', type: 'String' },
      },
    })
  const a = await start('doc-1')
  t.equal(a.status, 200, 'started')
  const instanceId = a.body.id as string

  // then: the first task is in the inbox as soon as the call returned, written in the same transaction
  const [draft] = await openTasks(instanceId)
  let calls = await callsSince(0)
  t.same(calls.map((c) => [c.fn, c.args]), [
    ['created', [draft.id, instanceId, definitionId, 'unit-a', 'draft', '拟稿', 'jian:nigao', 'dept_head@office', 'zhangwei', draft.executionId, 'doc-1']],
    ['assigned', [draft.id, 'zhangwei']],
  ])
  t.equal(calls[0].tx, await taskTx(draft.id), 'inbox row and engine task committed together')

  // when: the first task is completed
  t.equal((await rest('POST', `/task/${draft.id}/complete`, {})).status, 204, 'completed')
  // then: its completion and each 会签 task arrive in one transaction
  const signs = await openTasks(instanceId)
  calls = await callsSince(calls.at(-1)!.id)
  t.same(calls[0].args, [draft.id], 'complete called with the task id')
  t.equal(calls[0].fn, 'completed')
  const created = calls.filter((c) => c.fn === 'created')
  t.same(created.map((c) => c.args[0]).sort(), signs.map((s) => s.id).sort(), 'one created call per 会签 task')
  t.same(created.map((c) => c.args[8]).sort(), ['lina', 'sunli'], 'assignees from ${json.list(signersJson)}')
  t.same(created.map((c) => c.args[7]), ['leader@office,secretary@office', 'leader@office,secretary@office'], 'candidate groups joined')
  t.equal(new Set(calls.map((c) => c.tx)).size, 1, 'all in one transaction')
  t.equal(calls[0].tx, await taskTx(signs[0].id), 'the same transaction as the new engine tasks')

  // when: both 会签 tasks are completed, the instance ends normally
  for (const s of signs) await rest('POST', `/task/${s.id}/complete`, {})
  calls = await callsSince(calls.at(-1)!.id)
  t.same(calls.map((c) => c.fn), ['completed', 'completed', 'ended'])
  t.same(calls.at(-1)!.args, [instanceId, false], 'ended, not canceled')

  // when: another instance is deleted, even with skipCustomListeners
  const b = (await start('doc-2')).body.id as string
  const [draftB] = await openTasks(b)
  const last = (await callsSince(0)).at(-1)!.id
  t.equal((await rest('DELETE', `/process-instance/${b}?skipCustomListeners=true`)).status, 204, 'deleted')
  calls = await callsSince(last)
  t.same(calls.map((c) => [c.fn, c.args]), [['deleted', [draftB.id]], ['ended', [b, true]]], 'task deleted, instance canceled')

  // when: the inbox refuses a task, the engine change is rolled back with it
  const before = (await callsSince(0)).length
  const refused = await start('fail')
  t.equal(refused.status, 500, 'the start fails')
  t.match(refused.body.message, /gongwen_task_created failed/)
  const left = await rest('GET', '/process-instance?variables=documentId_eq_fail')
  t.same(left.body, [], 'no instance left behind')
  t.equal((await callsSince(0)).length, before, 'no inbox row')
})

t.test('a timer with a ${var} duration fires within seconds and feeds an external task', async (t) => {
  // given: a waiting step whose non-interrupting timer, set by a variable, leads to an automated step
  t.equal((await deploy('reminder', reminderBpmn())).status, 200, 'deployed')
  const started = await rest('POST', '/process-definition/key/reminder/tenant-id/unit-a/start', {
    variables: { remindAfter: { value: 'PT1S', type: 'String' } },
  })
  t.equal(started.status, 200, 'started')
  // when: a worker long-polls the topic
  const polled = Date.now()
  const locked = await rest('POST', '/external-task/fetchAndLock', {
    workerId: 'test',
    maxTasks: 1,
    asyncResponseTimeout: 20_000,
    topics: [{ topicName: 'reminder.send', lockDuration: 10_000 }],
  })
  // then: the timer fired (the job executor does not idle for a minute) and the task arrived
  t.equal(locked.body.length, 1, `external task fetched after ${Date.now() - polled} ms`)
  t.equal(locked.body[0]?.processInstanceId, started.body.id)
  t.equal((await rest('POST', `/external-task/${locked.body[0]?.id}/complete`, { workerId: 'test' })).status, 204, 'completed by the worker')
})

t.test('a server given ENGINE_URL uses the running engine and never stops it', async (t) => {
  // given: the engine as another server would see it through ENGINE_URL
  const used = new RunningEngine(engine!.url, options.token)
  await used.start()
  // when: that server shuts down, or is asked to crash it
  await used.stop()
  await t.rejects(used.crash(), /not supervised by this server/, 'it cannot kill what it does not supervise')
  // then: the engine still answers
  t.ok(await engine!.ready(), 'the engine is still running')
  await t.rejects(new RunningEngine(engine!.url, 'wrong-token').waitUntilReady(600), /did not answer.*ENGINE_URL/, 'a wrong credential is reported with what to do')
  // and ENGINE_URL only ever points at this machine's loopback, where the credential may go
  for (const url of ['http://10.0.0.5:8090/engine-rest', 'http://engine.example.org/engine-rest', 'https://127.0.0.1:8090/engine-rest', 'not a url']) {
    t.throws(() => loadConfig({ ENGINE_URL: url, ENGINE_TOKEN: 'x', AUTH_SECRET: 'y' }), /ENGINE_URL/, `refused: ${url}`)
  }
  t.equal(loadConfig({ ENGINE_URL: 'http://0x7f000001:8090/engine-rest/', ENGINE_TOKEN: 'x', AUTH_SECRET: 'y' }).engineUrl, 'http://0x7f000001:8090/engine-rest', 'a loopback address in another spelling is accepted')
})

t.test('after a crash the supervisor restarts the engine', async (t) => {
  // given: a running engine
  const restarted = new Promise<number>((resolve) => engine!.once('restarted', resolve))
  // when: it is killed
  await engine!.crash()
  t.notOk(await engine!.ready(), 'down right after the crash')
  // then: it comes back and answers, with its data
  await engine!.waitUntilReady(240_000)
  const pid = await restarted
  t.ok(pid > 0 && pid !== firstPid, 'a new engine process')
  t.equal(Number(await readFile(join(dir, 'engine.pid'), 'utf8')), pid, 'pid file names the new process')
  const definitions = await rest('GET', '/process-definition?key=tiny')
  t.equal(definitions.status, 200)
  t.equal(definitions.body.length, 1, 'deployments survive the restart')
})

// ---------------------------------------------------------------------------------------------

function auth() {
  return { authorization: `Bearer ${options.token}` }
}

async function rest(method: string, path: string, body?: unknown) {
  const headers: Record<string, string> = auth()
  let payload: BodyInit | undefined
  if (body instanceof FormData) payload = body
  else if (body !== undefined) {
    headers['content-type'] = 'application/json'
    payload = JSON.stringify(body)
  }
  const res = await fetch(engine!.url + path, { method, headers, body: payload })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : null }
}

async function deploy(name: string, xml: string) {
  const form = new FormData()
  form.append('deployment-name', name)
  form.append('tenant-id', 'unit-a')
  form.append('data', new Blob([xml], { type: 'application/xml' }), `${name}.bpmn`)
  return rest('POST', '/deployment/create', form)
}

async function openTasks(instanceId: string): Promise<Array<{ id: string; executionId: string }>> {
  return (await rest('GET', `/task?processInstanceId=${instanceId}&sortBy=id&sortOrder=asc`)).body
}

async function callsSince(id: number): Promise<Array<{ id: number; fn: string; args: unknown[]; tx: string }>> {
  const { rows } = await db.query('select id, fn, args, xmin::text as tx from public.inbox_calls where id > $1 order by id', [id])
  return rows
}

async function taskTx(taskId: string): Promise<string> {
  const { rows } = await db.query('select xmin::text as tx from operaton.act_ru_task where id_ = $1', [taskId])
  return rows[0]?.tx
}

/** Starts the engine from a separate node process, then kills that process as a crash would. */
async function startEngineInKilledServer(): Promise<number> {
  const script = join(dir, 'server.mjs')
  await writeFile(
    script,
    `const { EngineProcess } = await import(${JSON.stringify(pathToFileURL(join(import.meta.dirname, '../engine/operaton/process.ts')).href)})
const quiet = () => {}
const log = { info: quiet, warn: quiet, error: console.error, debug: quiet }
const engine = new EngineProcess({ ...JSON.parse(process.env.ENGINE_OPTIONS), log })
await engine.start()
console.log('ready')
setInterval(quiet, 60_000)
`,
  )
  const server = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ENGINE_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  await new Promise<void>((resolve, reject) => {
    server.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve())
    server.once('exit', (code) => reject(new Error(`the server process exited (${code}) before the engine was ready`)))
  })
  server.kill('SIGKILL')
  await new Promise((r) => server.once('exit', r))
  return Number(await readFile(join(dir, 'engine.pid'), 'utf8'))
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}

function stubFunctions(): string {
  // Each stub records its call; the engine's connections have search_path = operaton, hence
  // the qualified table. A created call for document 'fail' raises, as a broken inbox would.
  const record = (fn: string, params: string[]) =>
    `create function public.gongwen_${fn}(${params.map((p) => `p_${p}`).join(', ')}) returns void language plpgsql as $$
     begin
       ${fn === 'task_created' ? `if p_document_id = 'fail' then raise exception 'inbox refused task %', p_task_id; end if;` : ''}
       insert into public.inbox_calls(fn, args) values ('${fn.replace(/^(task|instance)_/, '')}', jsonb_build_array(${params.map((p) => `p_${p.split(' ')[0]}`).join(', ')}));
     end $$;`
  const text = (names: string) => names.split(' ').map((n) => `${n} text`)
  return [
    'create table public.inbox_calls (id serial primary key, fn text not null, args jsonb not null)',
    record('task_created', text('task_id instance_id definition_id tenant_id element_id step_name form_key candidate_groups assignee execution_id document_id')),
    record('task_assigned', text('task_id assignee')),
    record('task_completed', text('task_id')),
    record('task_deleted', text('task_id')),
    record('instance_ended', ['instance_id text', 'canceled boolean']),
  ].join(';\n')
}

function tinyBpmn(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="tiny-definitions" targetNamespace="http://gongwen.test">
  <bpmn:process id="tiny" isExecutable="true" camunda:historyTimeToLive="30">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="draft" />
    <bpmn:userTask id="draft" name="拟稿" camunda:formKey="jian:\${docKind}" camunda:assignee="\${drafter}" camunda:candidateGroups="\${dept}_head@office" />
    <bpmn:sequenceFlow id="f2" sourceRef="draft" targetRef="sign" />
    <bpmn:userTask id="sign" name="会签" camunda:formKey="jian:huiqian" camunda:assignee="\${signer}" camunda:candidateGroups="secretary@office,leader@office">
      <bpmn:multiInstanceLoopCharacteristics camunda:collection="\${json.list(signersJson)}" camunda:elementVariable="signer" />
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="sign" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
`
}

function reminderBpmn(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="reminder-definitions" targetNamespace="http://gongwen.test">
  <bpmn:process id="reminder" isExecutable="true" camunda:historyTimeToLive="30">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:userTask id="wait" name="办理" />
    <bpmn:boundaryEvent id="due" attachedToRef="wait" cancelActivity="false">
      <bpmn:timerEventDefinition><bpmn:timeDuration>\${remindAfter}</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="due" targetRef="remind" />
    <bpmn:serviceTask id="remind" name="催办" camunda:type="external" camunda:topic="reminder.send" />
    <bpmn:sequenceFlow id="f3" sourceRef="remind" targetRef="reminded" />
    <bpmn:endEvent id="reminded" />
    <bpmn:sequenceFlow id="f4" sourceRef="wait" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
`
}
