// Per-unit flow versions over REST: a unit admin deploys a changed 发文 as the next version in the
// unit's own tenant; new documents of that unit take the new step, documents started before finish
// on their version, another unit neither sees nor uses it; 分文报批 can be changed per unit too; a
// model with problems (a broken binding, a disallowed expression, Java code) deploys nothing.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import knexFactory from 'knex'
import t from 'tap'
import { act, documentAs } from './helpers/flows.ts'
import { Api, draft, startFawen, startStack, taskFor, waitFor } from './helpers/stack.ts'

// One test stops the engine node, so this file gets one of its own rather than the run's shared one.
const stack = await startStack({ ownEngine: true })
const db = knexFactory({ client: 'pg', connection: stack.databaseUrl, pool: { min: 0, max: 2 } })
t.teardown(async () => {
  await db.destroy()
  await stack.close()
})
const api = new Api(stack)
// liuzhou-edu has no unit admin in the demo data: wugang becomes one for these tests.
await db('user_roles').insert({ user_id: 'wugang', role: 'unit_admin' })

const shipped = (id: string) => readFileSync(join(import.meta.dirname, '..', 'processes', `${id}.bpmn`), 'utf8')
const shared = shipped('fawen')

/** Replaces exactly one occurrence, so a test never passes because its change missed. */
function change(xml: string, from: string, to: string): string {
  const at = xml.indexOf(from)
  if (at < 0 || xml.indexOf(from, at + 1) >= 0) throw new Error(`expected exactly one “${from}”`)
  return xml.slice(0, at) + to + xml.slice(at + from.length)
}

/** 发文 with a 复核 step (office_reviewer, 办公室复审 opinion box) between 签发 and 编号. */
function withReview(xml: string, properties = '<camunda:property name="opinion" value="fushen" />', role = 'office_reviewer') {
  const task = `<bpmn:userTask id="fuhe" name="复核" camunda:formKey="fawen-gaozhi" camunda:assignee="\${empty nextHandler ? null : nextHandler}" camunda:candidateGroups="${role}">
      <bpmn:extensionElements>
        <camunda:properties>${properties}</camunda:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>flow-qianfa-bianhao</bpmn:incoming>
      <bpmn:outgoing>flow-fuhe-bianhao</bpmn:outgoing>
    </bpmn:userTask>
    `
  let out = change(xml, '<bpmn:serviceTask id="bianhao"', `${task}<bpmn:serviceTask id="bianhao"`)
  out = change(out, '<bpmn:incoming>flow-qianfa-bianhao</bpmn:incoming>\n      <bpmn:outgoing>flow-bianhao-gaizhang', '<bpmn:incoming>flow-fuhe-bianhao</bpmn:incoming>\n      <bpmn:outgoing>flow-bianhao-gaizhang')
  out = change(out, 'sourceRef="qianfa-route" targetRef="bianhao"', 'sourceRef="qianfa-route" targetRef="fuhe"')
  return change(out, '</bpmn:process>', '  <bpmn:sequenceFlow id="flow-fuhe-bianhao" name="复核完毕" sourceRef="fuhe" targetRef="bianhao" />\n  </bpmn:process>')
}

const flows = async (user: string) => {
  const res = await api.as(user).get('/processes')
  if (res.status !== 200) throw new Error(`GET /processes as ${user}: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body as Array<{ baseId: string; processId: string; versions: Array<{ key: string; scope: string; version: number; current: boolean; runningCount: number; running: Array<{ id: string }> }> }>
}
const fawenOf = async (user: string) => (await flows(user)).find((f) => f.baseId === 'fawen')!

/** Walks a 发文 from 拟稿 through 签发; returns once 签发 is completed. */
async function throughSigning(id: string) {
  await act(api, 'zhangwei', id, 'nigao', { route: '送审核', nextHandler: 'lina' })
  await act(api, 'lina', id, 'shenhe', { route: '送签发' })
  await act(api, 'wangqiang', id, 'qianfa', { route: '签发' })
}

async function finished(id: string) {
  return waitFor(`document ${id} completed`, async () => {
    const doc = await documentAs(api, 'zhangwei', id)
    return doc.status === 'completed' && doc
  }, 60_000)
}

const unitRows = (unitId: string) => db('process_definitions').where({ unit_id: unitId }).whereNotNull('deployed_by').count('* as n').first().then((r) => Number(r!.n))

t.test('only a unit admin of the caller’s unit manages flows', async (t) => {
  const list = await flows('zhouadmin')
  t.same(list.map((f) => f.baseId), ['fawen', 'fenwen', 'chengyue'], '发文, 分文报批 and 呈阅笺 can be customised')
  t.same(list.map((f) => f.processId), ['fawen', 'fenwen', 'chengyue'], 'under the flow’s own process id')
  t.same(list[0].versions.map((v) => [v.scope, v.version, v.current]), [['standard', 1, true]], 'at first only the standard version, in use')
  t.equal((await api.as('zhangwei').get('/processes')).status, 403, 'a drafter may not')
  t.equal((await api.as('zhangwei').post('/processes/fawen/lint', { xml: shared })).status, 403)
  t.equal((await api.call('GET', '/processes', { apiKey: 'demo-key-liuzhou-gov' })).status, 403, 'nor an integrator')
  const nosuch = await api.as('zhouadmin').post('/processes/nosuch/deploy', { xml: shared })
  t.equal(nosuch.status, 404)
  t.equal(nosuch.body.details[0].field, 'baseId')
  const wrongFlow = await api.as('zhouadmin').post('/processes/fenwen/lint', { xml: shared })
  t.ok(wrongFlow.body.problems.some((p: { field: string }) => p.field === 'fawen'), 'a 发文 model is no 分文报批: its process id is named')
})

t.test('a model with problems answers 400 naming each element and deploys nothing', async (t) => {
  // an editable field that is not in the 笺, a role that does not exist, a step writing documentId
  const broken = change(
    withReview(shared, '<camunda:property name="editable" value="title,secretField" />', 'boss'),
    '<bpmn:serviceTask id="bianhao" name="编号" camunda:type="external" camunda:topic="document.number">',
    '<bpmn:serviceTask id="bianhao" name="编号" camunda:type="external" camunda:topic="document.number"><bpmn:extensionElements><camunda:inputOutput><camunda:inputParameter name="documentId">x</camunda:inputParameter></camunda:inputOutput></bpmn:extensionElements>',
  )
  const lint = await api.as('zhouadmin').post('/processes/fawen/lint', { xml: broken })
  t.equal(lint.status, 200)
  const fields = lint.body.problems.map((p: { field: string }) => p.field)
  t.ok(fields.includes('fuhe.secretField'), 'the editable field not in the 笺')
  t.ok(fields.includes('fuhe.role'), 'the unknown role')
  t.ok(fields.includes('bianhao'), 'the step overwriting documentId')
  t.ok(lint.body.problems.every((p: { message: string }) => /[\u4e00-\u9fa5]/.test(p.message)), 'messages are in Chinese')

  const deploy = await api.as('zhouadmin').post('/processes/fawen/deploy', { xml: broken })
  t.equal(deploy.status, 400)
  t.same(deploy.body.details.map((p: { field: string }) => p.field).sort(), [...fields].sort(), 'deploy reports the same problems')
  const unfinished = await api.as('zhouadmin').post('/processes/fawen/deploy', { xml: change(shared, "${route == '签发'}", '${route == }') })
  t.equal(unfinished.status, 400, 'an unfinished expression is refused')
  t.ok(unfinished.body.details.some((p: { field: string }) => p.field === 'flow-qianfa-bianhao.conditionExpression'), JSON.stringify(unfinished.body.details))
  t.equal((await api.as('zhouadmin').post('/processes/fawen/deploy', { xml: '<not-bpmn' })).status, 400)
  t.same((await fawenOf('zhouadmin')).versions.map((v) => v.scope), ['standard'], 'no version was added')
  t.equal(await unitRows('liuzhou-gov'), 0)
})

t.test('an expression reaching into the engine is refused, naming the element', async (t) => {
  // Camunda 7 expressions can call any method: this one would reach every unit's instances.
  const reaching = change(shared, "${route == '签发'}", "${execution.getProcessEngineServices().getRuntimeService().createProcessInstanceQuery().count() > 0}")
  const res = await api.as('zhouadmin').post('/processes/fawen/deploy', { xml: reaching })
  t.equal(res.status, 400)
  t.same(res.body.details.map((p: { field: string }) => p.field), ['flow-qianfa-bianhao.conditionExpression'])
  t.match(res.body.details[0].message, /execution\.getProcessEngineServices\(\)/)
  const listener = change(shared, `event="start" expression="\${execution.setVariable('countersignReturned', false)}"`, 'event="start" expression="${execution.getProcessEngineServices()}"')
  const inListener = await api.as('zhouadmin').post('/processes/fawen/lint', { xml: listener })
  t.same(inListener.body.problems.map((p: { field: string }) => p.field), ['huiqian.executionListener.expression'], 'in a listener too')
  t.equal(await unitRows('liuzhou-gov'), 0, 'nothing was deployed')
})

t.test('a service task running a Java class is refused, naming the element', async (t) => {
  const javaClass = change(shared, '<bpmn:serviceTask id="guidang" name="归档" camunda:type="external" camunda:topic="document.archive">', '<bpmn:serviceTask id="guidang" name="归档" camunda:class="org.operaton.bpm.example.Archive">')
  const res = await api.as('zhouadmin').post('/processes/fawen/deploy', { xml: javaClass })
  t.equal(res.status, 400)
  const problem = res.body.details.find((p: { field: string }) => p.field === 'guidang.class')
  t.ok(problem, JSON.stringify(res.body.details))
  t.match(problem.message, /Java 类（camunda:class）.*归档/)
  t.equal(await unitRows('liuzhou-gov'), 0, 'nothing was deployed')
})

t.test('a model the engine refuses answers 400 naming the xml and deploys nothing', async (t) => {
  // passes 校验, but a multi-instance step without a collection does not parse in the engine
  const noCollection = change(shared, ' camunda:collection="${json.list(countersignDepartments)}"', '')
  t.same((await api.as('zhouadmin').post('/processes/fawen/lint', { xml: noCollection })).body.problems, [])
  const res = await api.as('zhouadmin').post('/processes/fawen/deploy', { xml: noCollection })
  t.equal(res.status, 400, JSON.stringify(res.body))
  t.same(res.body.details.map((p: { field: string }) => p.field), ['xml'])
  t.match(res.body.details[0].message, /流程引擎拒绝了该模型/)
  t.equal(await unitRows('liuzhou-gov'), 0)
})

t.test('a step given by name to a person of another unit is refused', async (t) => {
  const givenTo = (person: string) => change(withReview(shared), '<bpmn:userTask id="fuhe" name="复核" camunda:formKey="fawen-gaozhi" camunda:assignee="${empty nextHandler ? null : nextHandler}"', `<bpmn:userTask id="fuhe" name="复核" camunda:formKey="fawen-gaozhi" camunda:assignee="${person}"`)
  const theirs = await api.as('zhouadmin').post('/processes/fawen/lint', { xml: givenTo('huangmei') })
  t.same(theirs.body.problems.map((p: { field: string }) => p.field), ['fuhe.assignee'], JSON.stringify(theirs.body.problems))
  t.match(theirs.body.problems[0].message, /“huangmei”不是本单位人员/)
  const ours = await api.as('zhouadmin').post('/processes/fawen/lint', { xml: givenTo('chenjing') })
  t.same(ours.body.problems, [], 'a person of the unit is fine')
})

t.test('a deployed 发文 with a 复核 step is used by new documents of the unit only; earlier ones finish without it', async (t) => {
  // given a document started on the standard version
  const before = await startFawen(api, 'zhangwei', draft({ title: '部署前起草的通知' }))
  await taskFor(api, 'zhangwei', before, 'nigao')

  // when the unit admin deploys 发文 with a 复核 step for liuzhou-gov
  const deployed = await api.as('zhouadmin').post('/processes/fawen/deploy', { xml: withReview(shared) })
  t.equal(deployed.status, 201, JSON.stringify(deployed.body))
  t.equal(deployed.body.version, 2, 'the next version in the unit’s tenant')
  t.equal(deployed.body.processId, 'fawen', 'under the flow’s own process id')
  const xml = await api.as('zhouadmin').get(`/processes/${encodeURIComponent(deployed.body.processDefinitionKey)}/xml`)
  t.equal(xml.status, 200)
  t.match(xml.body, /<bpmn:userTask id="fuhe" name="复核"/, 'the stored XML is the unit’s model')
  const row = await db('process_definitions').where({ key: deployed.body.processDefinitionKey }).first()
  t.match(row, { bpmn_process_id: 'fawen', base_process: 'fawen', version: 2, unit_id: 'liuzhou-gov', deployed_by: 'zhouadmin', resource_name: 'fawen.bpmn' })

  // then a new document of the unit starts on the unit's version
  const after = await startFawen(api, 'zhangwei', draft({ title: '部署后起草的通知' }))
  await taskFor(api, 'zhangwei', after, 'nigao')
  const gov = await fawenOf('zhouadmin')
  const unitVersion = gov.versions.find((v) => v.scope === 'unit')!
  const standard = gov.versions.find((v) => v.scope === 'standard')!
  t.ok(unitVersion.current && !standard.current, 'the unit’s version is the one in use')
  t.same(unitVersion.running.map((d) => d.id), [after], 'the new document runs on the unit’s version')
  t.same(standard.running.map((d) => d.id), [before], 'the earlier one stays on the standard version')

  // and another unit neither sees the version nor uses it
  const edu = await fawenOf('wugang')
  t.same(edu.versions.map((v) => [v.scope, v.version]), [['standard', 1]], 'liuzhou-edu sees only its standard version')
  t.equal((await api.as('wugang').get(`/processes/${encodeURIComponent(deployed.body.processDefinitionKey)}/xml`)).status, 404, 'nor can it read liuzhou-gov’s XML')
  const eduDoc = await startFawen(api, 'huangmei', draft({ title: '教育局的通知', mainRecipients: ['liuzhou-gov'], ccRecipients: [] }))
  await taskFor(api, 'huangmei', eduDoc, 'nigao')
  t.same((await fawenOf('wugang')).versions[0].running.map((d) => d.id), [eduDoc], 'its new document runs on its standard version')

  // the new document goes through 复核 (the opinion box makes an opinion required)
  await throughSigning(after)
  const review = await taskFor(api, 'chenjing', after, 'fuhe')
  const noOpinion = await api.as('chenjing').post(`/tasks/${review.taskKey}/complete`, { route: '复核完毕', opinion: '' })
  t.equal(noOpinion.status, 400, 'the 复核 step asks for an opinion')
  await act(api, 'chenjing', after, 'fuhe', { route: '复核完毕', opinion: '已复核，可以编号' })
  await act(api, 'chenjing', after, 'gaizhang', { route: '用印' })
  const afterDoc = await finished(after)
  t.ok(afterDoc.log.some((e: { step: string; opinion: string }) => e.step === 'fuhe' && e.opinion === '已复核，可以编号'), '复核 is in its routing log')

  // the document started before finishes on its version, without 复核
  await throughSigning(before)
  await act(api, 'chenjing', before, 'gaizhang', { route: '用印' })
  const beforeDoc = await finished(before)
  t.notOk(beforeDoc.log.some((e: { step: string }) => e.step === 'fuhe'), 'no 复核 in the earlier document’s log')
  t.ok(beforeDoc.log.some((e: { step: string }) => e.step === 'gaizhang'), 'it went straight from 签发 to 编号 and 盖章')

  // a second deploy makes the unit's next version
  const again = await api.as('zhouadmin').post('/processes/fawen/deploy', { xml: change(withReview(shared), 'name="复核"', 'name="办公室复核"') })
  t.equal(again.status, 201)
  t.equal(again.body.version, 3)
  t.same((await fawenOf('zhouadmin')).versions.map((v) => [v.scope, v.version, v.current]), [['unit', 3, true], ['unit', 2, false], ['standard', 1, false]])
})

t.test('another unit’s admin customises its 呈阅笺 for itself only', async (t) => {
  const deployed = await api.as('wugang').post('/processes/chengyue/deploy', { xml: change(shipped('chengyue'), 'name="呈阅笺"', 'name="教育局呈阅笺"') })
  t.equal(deployed.status, 201, JSON.stringify(deployed.body))
  t.equal(deployed.body.processId, 'chengyue')
  const start = (user: string) => api.as(user).post('/documents', { kind: 'chengyue', data: { title: '关于安全检查情况的呈阅件', body: '呈阅。', urgency: '平件' } })
  const edu = await start('huangmei')
  const gov = await start('zhangwei')
  t.equal(edu.status, 201)
  const versions = async (user: string) => (await flows(user)).find((f) => f.baseId === 'chengyue')!.versions
  await waitFor('both documents running', async () => (await versions('wugang')).some((v) => v.runningCount > 0) && (await versions('zhouadmin')).some((v) => v.runningCount > 0))
  t.same((await versions('wugang')).map((v) => [v.scope, v.running.map((d) => d.id)]), [['unit', [edu.body.id]], ['standard', []]], 'liuzhou-edu’s new 呈阅笺 runs on its own version')
  t.same((await versions('zhouadmin')).map((v) => [v.scope, v.running.map((d) => d.id)]), [['standard', [gov.body.id]]], 'liuzhou-gov neither sees it nor uses it')
})

t.test('a unit customises its 分文报批: its incoming documents, electronic and on paper, follow it; other units keep theirs', async (t) => {
  // given liuzhou-edu's 分文报批 whose 签收 step is renamed
  const model = change(shipped('fenwen'), '<bpmn:userTask id="qianshou" name="签收"', '<bpmn:userTask id="qianshou" name="机要签收"')
  const deployed = await api.as('wugang').post('/processes/fenwen/deploy', { xml: model })
  t.equal(deployed.status, 201, JSON.stringify(deployed.body))
  t.same([deployed.body.processId, deployed.body.version], ['fenwen', 2])
  const withoutIncoming = await api.as('wugang').post('/processes/fenwen/deploy', { xml: change(model, '<bpmn:messageEventDefinition id="incoming-def" messageRef="incoming-message" />', '') })
  t.equal(withoutIncoming.status, 400, 'a 分文报批 that 电子来文 cannot start is refused')

  // when liuzhou-gov sends a 发文 to liuzhou-edu (主送) and liuzhou-fin (抄送), and liuzhou-edu registers a paper 收文
  const paper = await api.as('fengxue').post('/documents', { kind: 'shouwen', data: { title: '关于春季开学工作的函（纸质）', sourceUnit: '柳州市卫生健康委员会', urgency: '平件' } })
  t.equal(paper.status, 201)
  const sent = await startFawen(api, 'zhangwei', draft({ title: '关于分文报批的通知', mainRecipients: ['liuzhou-edu'], ccRecipients: ['liuzhou-fin'] }))
  await throughSigning(sent)
  // liuzhou-gov's 发文 now has the 复核 step of the test before
  await act(api, 'chenjing', sent, 'fuhe', { route: '复核完毕', opinion: '已复核' })
  await act(api, 'chenjing', sent, 'gaizhang', { route: '用印' })
  const incoming = await waitFor('both deliveries started', async () => {
    const rows = await db('deliveries as v').join('documents as d', 'd.id', 'v.incoming_document_id').where({ 'v.document_id': sent }).whereNotNull('d.process_definition_key')
      .select('v.recipient_unit_id as unit', 'd.id', 'd.process_definition_key as key')
    return rows.length === 2 && Object.fromEntries(rows.map((r) => [r.unit, r]))
  }, 60_000)

  // then liuzhou-edu's incoming documents run on its own version, with the renamed step
  t.equal(incoming['liuzhou-edu'].key, deployed.body.processDefinitionKey, 'the 电子来文 started liuzhou-edu’s version')
  const task = await taskFor(api, 'fengxue', incoming['liuzhou-edu'].id, 'qianshou')
  const detail = await api.as('fengxue').get(`/tasks/${task.taskKey}`)
  t.equal(detail.body.stepName, '机要签收')
  const edu = (await flows('wugang')).find((f) => f.baseId === 'fenwen')!
  t.same(edu.versions.map((v) => [v.scope, v.version, v.current]), [['unit', 2, true], ['standard', 1, false]])
  t.same(edu.versions[0].running.map((d) => d.id).sort(), [paper.body.id, incoming['liuzhou-edu'].id].sort(), 'the paper 收文 too')

  // and liuzhou-fin's stays on its standard 分文报批, which liuzhou-gov never sees either
  const fin = await db('process_definitions').where({ key: incoming['liuzhou-fin'].key }).first()
  t.match(fin, { unit_id: 'liuzhou-fin', bpmn_process_id: 'fenwen', deployed_by: null })
  t.same((await flows('zhouadmin')).find((f) => f.baseId === 'fenwen')!.versions.map((v) => v.scope), ['standard'])
})

t.test('with the engine down a deploy answers 503 and records nothing; 校验 still answers', async (t) => {
  const before = await db('process_definitions').count('* as n').first().then((r) => Number(r!.n))
  await stack.engine.stop()
  t.teardown(() => stack.engine.start())
  const res = await api.as('zhouadmin').post('/processes/chengyue/deploy', { xml: change(shipped('chengyue'), 'name="呈阅笺"', 'name="本单位呈阅笺"') })
  t.equal(res.status, 503, JSON.stringify(res.body))
  t.equal(res.body.code, 'ENGINE_UNAVAILABLE')
  t.same((await api.as('zhouadmin').post('/processes/chengyue/lint', { xml: shipped('chengyue') })).body.problems, [], '校验 needs no engine')
  t.equal(await db('process_definitions').count('* as n').first().then((r) => Number(r!.n)), before)
})
