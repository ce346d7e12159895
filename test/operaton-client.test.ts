// OperatonEngine against a real engine node on a scratch PostgreSQL database: deployment per
// unit, typed variables, automated steps and their retries, moves, cancellation, messages, errors.
import { randomBytes } from 'node:crypto'
import pino from 'pino'
import t from 'tap'
import { EngineError } from '../engine/port.ts'
import { OperatonEngine } from '../engine/operaton/client.ts'
import { bpmn, scratchDatabase, startNode, waitFor } from './helpers/operaton-node.ts'

// Every record is kept so tests can count retries and warnings; with TEST_LOG_LEVEL set, warnings show.
const records: Array<{ level: number; msg: string }> = []
const log = pino({ level: 'debug' }, {
  write(line: string) {
    const record = JSON.parse(line)
    records.push(record)
    if (record.level >= 40 && process.env.TEST_LOG_LEVEL) process.stderr.write(line)
  },
})
const logged = (msg: string) => records.filter((r) => r.msg === msg).length
const db = await scratchDatabase()
const node = await startNode(db.url, randomBytes(16).toString('hex'), log).catch(async (err) => {
  await db.drop()
  throw err
})
const engine = new OperatonEngine({ url: node.url, token: node.token, log, pollTimeoutMs: 2_000 })
t.teardown(async () => {
  await engine.close()
  await node.stop()
  await db.drop()
})

const A = 'unit-a'
const B = 'unit-b'
const deployOne = async (tenant: string, name: string, xml: string) => (await engine.deploy(tenant, [{ name, xml }]))[0]

/** Open tasks of an instance, read straight from the engine. */
const tasksOf = (instanceId: string) =>
  node.rest<Array<{ id: string; taskDefinitionKey: string; assignee: string | null }>>('GET', `/task?processInstanceId=${instanceId}&sortBy=assignee&sortOrder=asc`)
const taskWhen = (instanceId: string, key: string) =>
  waitFor(`task ${key}`, async () => (await tasksOf(instanceId)).find((x) => x.taskDefinitionKey === key))
const variable = (instanceId: string, name: string) => node.rest<{ type: string; value: unknown }>('GET', `/process-instance/${instanceId}/variables/${name}`)

// draft (user) → test.number (automated) → review (user, assignee from the automated step)
const flowXml = bpmn('flow', `
  <startEvent id="start" /><sequenceFlow id="f1" sourceRef="start" targetRef="draft" />
  <userTask id="draft" camunda:assignee="\${starter}" /><sequenceFlow id="f2" sourceRef="draft" targetRef="number" />
  <serviceTask id="number" camunda:type="external" camunda:topic="test.number" /><sequenceFlow id="f3" sourceRef="number" targetRef="review" />
  <userTask id="review" camunda:assignee="\${nextHandler}" /><sequenceFlow id="f4" sourceRef="review" targetRef="end" />
  <endEvent id="end" />`)
// draft → sign (one task per signer, parallel 会签) → after
const huiqianXml = bpmn('huiqian', `
  <startEvent id="start" /><sequenceFlow id="f1" sourceRef="start" targetRef="draft" />
  <userTask id="draft" camunda:assignee="\${starter}" /><sequenceFlow id="f2" sourceRef="draft" targetRef="sign" />
  <userTask id="sign" camunda:assignee="\${signer}">
    <multiInstanceLoopCharacteristics camunda:collection="\${json.list(signers)}" camunda:elementVariable="signer" />
  </userTask><sequenceFlow id="f3" sourceRef="sign" targetRef="after" />
  <userTask id="after" /><sequenceFlow id="f4" sourceRef="after" targetRef="end" />
  <endEvent id="end" />`)
const flakyXml = bpmn('flaky', `
  <startEvent id="start" /><sequenceFlow id="f1" sourceRef="start" targetRef="seal" />
  <serviceTask id="seal" camunda:type="external" camunda:topic="test.flaky" /><sequenceFlow id="f2" sourceRef="seal" targetRef="done" />
  <userTask id="done" /><sequenceFlow id="f3" sourceRef="done" targetRef="end" />
  <endEvent id="end" />`)
// draft → sp (embedded subprocess holding inner) → end
const subXml = bpmn('sub', `
  <startEvent id="start" /><sequenceFlow id="f1" sourceRef="start" targetRef="draft" />
  <userTask id="draft" camunda:assignee="\${starter}" /><sequenceFlow id="f2" sourceRef="draft" targetRef="sp" />
  <subProcess id="sp">
    <startEvent id="spStart" /><sequenceFlow id="s1" sourceRef="spStart" targetRef="inner" />
    <userTask id="inner" camunda:assignee="\${inner}" /><sequenceFlow id="s2" sourceRef="inner" targetRef="spEnd" />
    <endEvent id="spEnd" />
  </subProcess><sequenceFlow id="f3" sourceRef="sp" targetRef="end" />
  <endEvent id="end" />`)
const incomingXml = bpmn('incoming', `
  <startEvent id="start"><messageEventDefinition messageRef="msg" /></startEvent><sequenceFlow id="f1" sourceRef="start" targetRef="receive" />
  <userTask id="receive" /><sequenceFlow id="f2" sourceRef="receive" targetRef="end" />
  <endEvent id="end" />`, '<message id="msg" name="test.incoming" />')

const flakyCalls: Array<number | null> = []
const numbered: Array<Record<string, unknown>> = []
engine.startWorkers({
  'test.number': async (step) => {
    numbered.push(step.variables)
    return { docNumber: '柳政发〔2026〕1号', nextHandler: 'lina', items: [1, 2] }
  },
  'test.flaky': async (step) => {
    flakyCalls.push(step.retries)
    if (flakyCalls.length === 1) throw new Error('seal registry offline')
    return { sealed: true }
  },
})

t.test('deploy: one definition per unit, an unchanged model keeps its version', async (t) => {
  const a = await deployOne(A, 'flow.bpmn', flowXml)
  const b = await deployOne(B, 'flow.bpmn', flowXml)
  t.match(a, { processId: 'flow', tenant: A, version: 1, resourceName: 'flow.bpmn', xml: flowXml })
  t.match(b, { processId: 'flow', tenant: B, version: 1 })
  t.not(a.definitionId, b.definitionId, 'same key, separate definitions per unit')
  const again = await deployOne(A, 'flow.bpmn', flowXml)
  t.same(again, a, 'redeploying unchanged returns the same definition and xml')
  const changed = await deployOne(B, 'flow.bpmn', flowXml.replace('<endEvent id="end" />', '<endEvent id="end" name="办结" />'))
  t.match(changed, { processId: 'flow', tenant: B, version: 2 })
  t.not(changed.definitionId, b.definitionId)
  t.same(await deployOne(B, 'flow.bpmn', changed.xml), changed, 'the engine gives the model back as deployed, Chinese text included')
  t.same(await engine.deploy(A, []), [], 'nothing to deploy, nothing deployed')
  const both = await engine.deploy(A, [{ name: 'flow.bpmn', xml: flowXml }, { name: 'huiqian.bpmn', xml: huiqianXml }])
  t.same(both.map((d) => [d.processId, d.version]), [['flow', 1], ['huiqian', 1]], 'one entry per resource, changed or not')
})

t.test('what the engine refuses is rejected, with its message', async (t) => {
  const err = await engine.deploy(A, [{ name: 'broken.bpmn', xml: bpmn('broken', '<startEvent id="s" /><sequenceFlow id="f" sourceRef="s" targetRef="nowhere" />') }]).catch((e) => e)
  t.ok(err instanceof EngineError)
  t.equal(err.kind, 'rejected')
  t.match(err.message, /nowhere/)
  // An expression that cannot be evaluated comes back as HTTP 500 with an engine error code.
  const def = await deployOne(A, 'flow.bpmn', flowXml)
  const noStarter = await engine.as(A).start(def.definitionId, {}).catch((e) => e)
  t.equal(noStarter.kind, 'rejected', noStarter.message)
  t.match(noStarter.message, /starter/)
  t.equal((await engine.as(A).start('nope:1:x', {}).catch((e) => e)).kind, 'not_found', 'an unknown definition is not_found')
})

t.test('a flow: typed variables, an automated step, and moving back', async (t) => {
  const def = await deployOne(A, 'flow.bpmn', flowXml)
  const started = await engine.as(A).start(def.definitionId, { starter: 'zhangwei', documentId: 'doc-1' }, 'doc-1')
  t.equal(started.definitionId, def.definitionId)
  const draft = await taskWhen(started.instanceId, 'draft')
  t.equal(draft.assignee, 'zhangwei')
  t.ok(await engine.as(A).taskExists(draft.id))

  await engine.as(A).completeTask(draft.id, { recipients: ['unit-b', 'unit-c'], meta: { urgent: true }, copies: 3, big: 2 ** 40, ratio: 0.5, ok: false, none: null })
  const review = await taskWhen(started.instanceId, 'review')
  t.equal(review.assignee, 'lina', 'the automated step set the next handler')
  t.notOk(await engine.as(A).taskExists(draft.id), 'a completed task no longer exists')
  t.same(await variable(started.instanceId, 'recipients'), { type: 'String', value: '["unit-b","unit-c"]', valueInfo: {} }, 'a list travels as JSON text')
  t.match(await variable(started.instanceId, 'copies'), { type: 'Integer', value: 3 })
  t.match(await variable(started.instanceId, 'big'), { type: 'Long', value: 2 ** 40 })
  t.match(await variable(started.instanceId, 'ratio'), { type: 'Double', value: 0.5 })
  t.match(await variable(started.instanceId, 'none'), { type: 'Null' })
  t.match(numbered.at(-1), { recipients: ['unit-b', 'unit-c'], meta: { urgent: true }, copies: 3, ok: false, none: null, documentId: 'doc-1' }, 'the worker gets lists and records decoded')
  t.same(await variable(started.instanceId, 'items'), { type: 'String', value: '[1,2]', valueInfo: {} }, "the worker's list is stored as JSON text")

  await engine.as(A).moveInstance(started.instanceId, { cancelTasks: [review.id], to: 'draft', variables: { starter: 'wangqiang' } })
  const open = await tasksOf(started.instanceId)
  t.same(open.map((x) => [x.taskDefinitionKey, x.assignee]), [['draft', 'wangqiang']], 'back at draft, with the new handler from the variables')
  t.notOk(await engine.as(A).taskExists(review.id))
  t.match(await db.calls('task_deleted'), [[review.id]], 'the moved-away task reported its deletion')
})

t.test('an automated step that fails once is retried later and then succeeds', async (t) => {
  const def = await deployOne(A, 'flaky.bpmn', flakyXml)
  const { instanceId } = await engine.as(A).start(def.definitionId, {})
  await taskWhen(instanceId, 'done')
  t.same(flakyCalls, [null, 4], 'the retry sees one try fewer')
  t.equal(logged('automated step failed; the engine will retry it'), 1, 'the failure was logged')
  t.match(await variable(instanceId, 'sealed'), { type: 'Boolean', value: true })
})

t.test('会签: moving out of a parallel multi-instance ends every signer task; moving to it starts them all', async (t) => {
  const def = await deployOne(A, 'huiqian.bpmn', huiqianXml)
  const { instanceId } = await engine.as(A).start(def.definitionId, { starter: 'zhangwei' })
  const draft = await taskWhen(instanceId, 'draft')
  await engine.as(A).completeTask(draft.id, { signers: ['a', 'b', 'c'] })
  let signs = await tasksOf(instanceId)
  t.same(signs.map((x) => x.assignee), ['a', 'b', 'c'])
  await engine.as(A).completeTask(signs[0].id, { opinion: '同意' })

  await engine.as(A).moveInstance(instanceId, { cancelTasks: [signs[1].id], to: 'draft', variables: { starter: 'lina' } })
  t.same((await tasksOf(instanceId)).map((x) => [x.taskDefinitionKey, x.assignee]), [['draft', 'lina']], 'no signer task is left')

  await engine.as(A).moveInstance(instanceId, { cancelTasks: [(await taskWhen(instanceId, 'draft')).id], to: 'sign', variables: { signers: ['d', 'e', 'f', 'g', 'h'] } })
  signs = await tasksOf(instanceId)
  t.same(signs.map((x) => [x.taskDefinitionKey, x.assignee]), ['d', 'e', 'f', 'g', 'h'].map((s) => ['sign', s]), 'the whole step starts again')

  // Simultaneous completions collide on the multi-instance body; the client sends them again.
  const before = logged('engine conflict; sending again')
  await Promise.all(signs.map((s) => engine.as(A).completeTask(s.id, { opinion: '同意' })))
  t.same((await tasksOf(instanceId)).map((x) => x.taskDefinitionKey), ['after'])
  t.comment(`${logged('engine conflict; sending again') - before} completions collided and were sent again`)
})

t.test('moving into an embedded subprocess starts it; moving out of it ends it', async (t) => {
  const def = await deployOne(A, 'sub.bpmn', subXml)
  const { instanceId } = await engine.as(A).start(def.definitionId, { starter: 'zhangwei' })
  const draft = await taskWhen(instanceId, 'draft')
  const scopes = async () => (await node.rest<{ childActivityInstances: Array<{ activityId: string }> }>('GET', `/process-instance/${instanceId}/activity-instances`)).childActivityInstances.map((c) => c.activityId)
  await engine.as(A).moveInstance(instanceId, { cancelTasks: [draft.id], to: 'inner', variables: { inner: 'wu' } })
  t.same((await tasksOf(instanceId)).map((x) => [x.taskDefinitionKey, x.assignee]), [['inner', 'wu']])
  t.same(await scopes(), ['sp'])
  const inner = await taskWhen(instanceId, 'inner')
  await engine.as(A).moveInstance(instanceId, { cancelTasks: [inner.id], to: 'draft', variables: { starter: 'zhao' } })
  t.same((await tasksOf(instanceId)).map((x) => [x.taskDefinitionKey, x.assignee]), [['draft', 'zhao']])
  t.same(await scopes(), ['draft'], 'no empty subprocess is left behind')
})

t.test('assign, cancel, and what a missing task or instance gives', async (t) => {
  const def = await deployOne(A, 'flow.bpmn', flowXml)
  const { instanceId } = await engine.as(A).start(def.definitionId, { starter: 'zhangwei' })
  const draft = await taskWhen(instanceId, 'draft')
  await engine.as(A).assignTask(draft.id, 'liuyang')
  t.equal((await node.rest<{ assignee: string }>('GET', `/task/${draft.id}`)).assignee, 'liuyang')

  await engine.as(A).cancelInstance(instanceId, '撤销')
  t.notOk(await engine.as(A).taskExists(draft.id))
  t.ok((await db.calls('instance_ended')).some(([id, canceled]) => id === instanceId && canceled === 'true'), 'the end was reported as a cancellation')

  for (const [what, call] of [
    ['complete', () => engine.as(A).completeTask(draft.id, {})],
    ['assign', () => engine.as(A).assignTask(draft.id, 'x')],
    ['cancel', () => engine.as(A).cancelInstance(instanceId)],
    ['move', () => engine.as(A).moveInstance(instanceId, { cancelTasks: [], to: 'draft', variables: {} })],
  ] as const) {
    const err = await call().catch((e) => e)
    t.equal(err?.kind, 'not_found', `${what} of something gone: not_found (${err?.message})`)
  }
})

t.test("the engine's tenant check: a unit cannot touch another unit's instances and tasks", async (t) => {
  // given: a flow of unit A waiting at its first task
  const def = await deployOne(A, 'flow.bpmn', flowXml)
  const { instanceId } = await engine.as(A).start(def.definitionId, { starter: 'zhangwei' })
  const draft = await taskWhen(instanceId, 'draft')
  // when: unit B's commands name it
  t.notOk(await engine.as(B).taskExists(draft.id), "to unit B, unit A's task does not exist")
  for (const [what, call] of [
    ['start', () => engine.as(B).start(def.definitionId, { starter: 'x' })],
    ['complete', () => engine.as(B).completeTask(draft.id, {})],
    ['assign', () => engine.as(B).assignTask(draft.id, 'x')],
    ['move', () => engine.as(B).moveInstance(instanceId, { cancelTasks: [draft.id], to: 'draft', variables: {} })],
    ['cancel', () => engine.as(B).cancelInstance(instanceId)],
  ] as const) {
    const err = await call().catch((e) => e)
    t.equal(err?.kind, 'not_found', `${what} as unit B: not_found (${err?.message})`)
  }
  // then: nothing changed, and unit A still can
  const [still] = await tasksOf(instanceId)
  t.match(still, { id: draft.id, assignee: 'zhangwei' }, 'the task is untouched')
  t.equal((await node.rest<unknown[]>('GET', `/process-instance?processDefinitionId=${def.definitionId}&tenantIdIn=${B}`)).length, 0, 'unit B started nothing')
  await engine.as(A).completeTask(draft.id, { nextHandler: 'lina' })
  t.notOk(await engine.as(A).taskExists(draft.id), 'unit A completes its own task')
})

t.test('a message starts the flow of one unit only', async (t) => {
  await deployOne(A, 'incoming.bpmn', incomingXml)
  await deployOne(B, 'incoming.bpmn', incomingXml)
  await engine.correlateMessage(B, 'test.incoming', 'in-42', { documentId: 'in-42', recipients: ['x'] })
  const started = await node.rest<Array<{ id: string; tenantId: string; businessKey: string }>>('GET', '/process-instance?businessKey=in-42')
  t.same(started.map((p) => [p.tenantId, p.businessKey]), [[B, 'in-42']])
  t.match(await variable(started[0].id, 'recipients'), { value: '["x"]' })
  const err = await engine.correlateMessage('unit-z', 'test.incoming', 'in-43', {}).catch((e) => e)
  t.equal(err?.kind, 'not_found', `no flow of that unit waits for it (${err?.message})`)
})

t.test('a wrong token is reported as a refused credential', async (t) => {
  const wrong = new OperatonEngine({ url: node.url, token: 'wrong', log })
  const err = await wrong.as(A).completeTask('any', {}).catch((e) => e)
  t.equal(err?.kind, 'unavailable')
  t.match(err?.message, /credential/)
  t.equal(await wrong.healthy(), false)
  t.equal(await engine.healthy(), true)
})

t.test('a step running longer than its lock keeps it: no second worker takes it meanwhile', async (t) => {
  const slowXml = bpmn('slow', `
    <startEvent id="start" /><sequenceFlow id="f1" sourceRef="start" targetRef="fanout" />
    <serviceTask id="fanout" camunda:type="external" camunda:topic="test.slow" /><sequenceFlow id="f2" sourceRef="fanout" targetRef="done" />
    <userTask id="done" /><sequenceFlow id="f3" sourceRef="done" targetRef="end" />
    <endEvent id="end" />`)
  const runs: string[] = []
  // Two servers' workers on the topic, each holding a step for 2 s; the step takes 5 s.
  const workers = ['one', 'two'].map((name) => {
    const w = new OperatonEngine({ url: node.url, token: node.token, log, pollTimeoutMs: 500, lockDurationMs: 2_000, workerId: `slow-${name}` })
    w.startWorkers({
      'test.slow': async () => {
        runs.push(name)
        await new Promise((r) => setTimeout(r, 5_000))
        return { fannedOut: true }
      },
    })
    return w
  })
  t.teardown(() => Promise.all(workers.map((w) => w.close())))
  const def = await deployOne(A, 'slow.bpmn', slowXml)
  const { instanceId } = await engine.as(A).start(def.definitionId, {})
  await taskWhen(instanceId, 'done')
  t.equal(runs.length, 1, `run once, by ${runs.join(', ')}, though it outlasted its lock twice over`)
  t.match(await variable(instanceId, 'fannedOut'), { type: 'Boolean', value: true }, 'and its completion was taken')
})

t.test('a message for a wait: delivered to the one waiting execution it names, and 0 when none waits', async (t) => {
  const waitXml = bpmn('wait', `
    <startEvent id="start" /><sequenceFlow id="f1" sourceRef="start" targetRef="answer" />
    <intermediateCatchEvent id="answer">
      <extensionElements><camunda:inputOutput><camunda:inputParameter name="cosignUnit">\${unit}</camunda:inputParameter></camunda:inputOutput></extensionElements>
      <messageEventDefinition messageRef="msg" />
    </intermediateCatchEvent><sequenceFlow id="f2" sourceRef="answer" targetRef="done" />
    <userTask id="done" /><sequenceFlow id="f3" sourceRef="done" targetRef="end" />
    <endEvent id="end" />`, '<message id="msg" name="test.answer" />')
  const def = await deployOne(A, 'wait.bpmn', waitXml)
  const { instanceId } = await engine.as(A).start(def.definitionId, { unit: 'unit-b' }, 'lead-1')
  t.equal(await engine.deliverIfWaiting(A, 'test.answer', 'lead-1', { agreed: true }, { cosignUnit: 'unit-c' }), 0, 'not to a wait for another unit')
  t.equal(await engine.deliverIfWaiting(B, 'test.answer', 'lead-1', { agreed: true }, { cosignUnit: 'unit-b' }), 0, 'not across units')
  t.equal(await engine.deliverIfWaiting(A, 'test.answer', 'lead-1', { agreed: true }, { cosignUnit: 'unit-b' }), 1, 'to the wait it names')
  await taskWhen(instanceId, 'done')
  t.match(await variable(instanceId, 'agreed'), { type: 'Boolean', value: true }, 'with its variables')
  t.equal(await engine.deliverIfWaiting(A, 'test.answer', 'lead-1', { agreed: false }, { cosignUnit: 'unit-b' }), 0, 'a second delivery finds nothing waiting, and is no error')
  t.match(await variable(instanceId, 'agreed'), { type: 'Boolean', value: true }, 'and changes nothing')
})

t.test('workers stop promptly, even in the middle of a long poll', async (t) => {
  const begun = Date.now()
  await engine.stopWorkers()
  t.ok(Date.now() - begun < 1_500, `stopped in ${Date.now() - begun} ms`)
})

t.test('a stopped engine is unavailable', async (t) => {
  await node.stop()
  const err = await engine.as(A).completeTask('any', {}).catch((e) => e)
  t.equal(err?.kind, 'unavailable')
  t.match(err?.message, /unreachable/)
  t.equal(await engine.healthy(), false)

  // Workers polling a stopped engine warn once per outage and keep polling, slowly.
  const polling = new OperatonEngine({ url: node.url, token: node.token, log, pollTimeoutMs: 500 })
  polling.startWorkers({ 'test.none': async () => ({}) })
  await new Promise((r) => setTimeout(r, 3_500))
  await polling.close()
  t.equal(logged('polling the engine for automated steps failed; polling again until it answers'), 1)
})
