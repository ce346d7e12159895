// 校验 of a unit's model without the engine: the shipped models pass for their flow; Java code,
// scripts, connectors, other dialects, expressions beyond the allowed grammar, messages beyond
// 分文报批's 电子来文, unknown topics and roles, and writes of the reserved variables are refused,
// each naming the element (and field) in Chinese.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import pino from 'pino'
import t from 'tap'
import { Forms } from '../server/forms/forms.ts'
import type { Principal } from '../server/services/principal.ts'
import { ProcessAdmin } from '../server/services/process-admin.ts'

const root = join(import.meta.dirname, '..')
const shipped = (id: string) => readFileSync(join(root, 'processes', `${id}.bpmn`), 'utf8')
const fawen = shipped('fawen')
const fenwen = shipped('fenwen')
// knex, engine and models are only used to look up people and to deploy: these models name nobody.
const admin = new ProcessAdmin(null as never, null as never, null as never, new Forms(join(root, 'forms')), pino({ level: 'silent' }))
const zhouadmin: Principal = { userId: 'zhouadmin', unitId: 'liuzhou-gov', departmentId: null, name: '周管理', roles: ['unit_admin'], channel: 'web' }
const lint = (baseId: string, xml: string) => admin.lint(zhouadmin, baseId, xml)
const fields = async (baseId: string, xml: string) => (await lint(baseId, xml)).map((p) => p.field)

/** Replaces exactly one occurrence, so a test never passes because its change missed. */
function change(xml: string, from: string, to: string): string {
  const at = xml.indexOf(from)
  if (at < 0 || xml.indexOf(from, at + 1) >= 0) throw new Error(`expected exactly one “${from}”`)
  return xml.slice(0, at) + to + xml.slice(at + from.length)
}

t.test('the shipped models pass for their flow', async (t) => {
  for (const id of ['fawen', 'fenwen', 'chengyue']) t.same(await lint(id, shipped(id)), [], `${id} is clean`)
})

t.test('a call beyond the allowed ones is refused, naming the element and the attribute', async (t) => {
  const problems = await lint('fawen', change(fawen, "${route == '签发'}", '${execution.getProcessEngineServices().getRuntimeService() != null}'))
  t.equal(problems.length, 1, JSON.stringify(problems))
  t.equal(problems[0].field, 'flow-qianfa-bianhao.conditionExpression')
  t.match(problems[0].message, /不能调用方法 execution\.getProcessEngineServices\(\)/)
})

t.test('every kind of disallowed expression is refused where it is written', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['camunda:assignee="${drafter}"', 'camunda:assignee="${task.getAssignee()}"', /nigao\.assignee/],
    ['camunda:assignee="${drafter}"', 'camunda:assignee="#{drafter}"', /nigao\.assignee/],
    ['camunda:assignee="${drafter}"', 'camunda:assignee="${now()}"', /nigao\.assignee/],
    ['camunda:assignee="${drafter}"', 'camunda:assignee="${runtimeService}"', /nigao\.assignee/],
    ['name="拟稿" camunda:formKey', 'name="${execution.processBusinessKey}" camunda:formKey', /nigao\.name/],
    ['camunda:collection="${json.list(countersignDepartments)}"', 'camunda:collection="${json.list(countersignDepartments).subList(0, 1)}"', /huiqian\.loopCharacteristics\.collection/],
    [`event="start" expression="\${execution.setVariable('countersignReturned', false)}"`, `event="start" expression="\${execution.setVariable('documentId', 'x')}"`, /huiqian\.executionListener\.expression/],
  ]
  for (const [from, to, field] of cases) {
    const problems = await lint('fawen', change(fawen, from, to))
    t.equal(problems.length, 1, `${to}: ${JSON.stringify(problems)}`)
    t.match(problems[0]?.field, field, to)
  }
})

t.test('Java code, scripts and connectors are refused, naming the element', async (t) => {
  const task = (attrs: string, ext = '') =>
    change(fawen, '<bpmn:serviceTask id="guidang" name="归档" camunda:type="external" camunda:topic="document.archive">', `<bpmn:serviceTask id="guidang" name="归档" ${attrs}>${ext ? `<bpmn:extensionElements>${ext}</bpmn:extensionElements>` : ''}`)
  const cases: Array<[string, string, RegExp]> = [
    [task('camunda:class="org.example.Archive"'), 'guidang.class', /Java 类（camunda:class）/],
    [task('camunda:delegateExpression="${archiver}"'), 'guidang.delegateExpression', /委托表达式/],
    [task('camunda:expression="${documentId}"'), 'guidang.expression', /不能用表达式实现/],
    [task('camunda:type="external" camunda:topic="document.archive"', '<camunda:executionListener event="start"><camunda:script scriptFormat="javascript">java.lang.System.exit(0)</camunda:script></camunda:executionListener>'), 'guidang.executionListener.script', /脚本/],
    [task('camunda:type="external" camunda:topic="document.archive"', '<camunda:executionListener event="start" class="org.example.Listener" />'), 'guidang.executionListener.class', /Java 类/],
    [task('camunda:type="external" camunda:topic="document.archive"', '<camunda:connector><camunda:connectorId>http-connector</camunda:connectorId></camunda:connector>'), 'guidang.connector', /camunda:Connector/],
    [task('camunda:type="external" camunda:topic="document.archive"', '<camunda:inputOutput><camunda:inputParameter name="x"><camunda:script scriptFormat="groovy">1</camunda:script></camunda:inputParameter></camunda:inputOutput>'), 'guidang.inputParameter[x].script', /脚本/],
    [task('camunda:type="external" camunda:topic="document.shred"'), 'guidang.topic', /没有对应的处理程序/],
    [task(''), 'guidang', /须为外部任务/],
  ]
  for (const [xml, field, message] of cases) {
    const problems = await lint('fawen', xml)
    const p = problems.find((x) => x.field === field)
    t.ok(p, `${field} in ${JSON.stringify(problems)}`)
    t.match(p?.message, message)
  }
  const script = change(fawen, '<bpmn:serviceTask id="guidang" name="归档" camunda:type="external" camunda:topic="document.archive">', '<bpmn:scriptTask id="guidang" name="归档" scriptFormat="javascript"><bpmn:script>1</bpmn:script>').replace(/(<bpmn:scriptTask id="guidang"[\s\S]*?)<\/bpmn:serviceTask>/, '$1</bpmn:scriptTask>')
  t.ok((await lint('fawen', script)).some((p) => p.field === 'guidang' && /脚本任务/.test(p.message)), 'a script task')
})

t.test('another dialect of the engine cannot slip past the camunda: reading', async (t) => {
  const operaton = change(fawen, '<bpmn:definitions ', '<bpmn:definitions xmlns:operaton="http://operaton.org/schema/1.0/bpmn" ')
    .replace('<bpmn:serviceTask id="guidang" name="归档" camunda:type="external"', '<bpmn:serviceTask id="guidang" name="归档" operaton:class="org.example.Archive" camunda:type="external"')
  const problems = await lint('fawen', operaton)
  t.ok(problems.some((p) => p.field === 'xml' && p.message.includes('http://operaton.org/schema/1.0/bpmn')), JSON.stringify(problems))
  t.ok(problems.some((p) => p.field === 'guidang.operaton:class'))
})

t.test('steps may not write documentId, unitId or drafter', async (t) => {
  const io = change(fawen, '<camunda:inputParameter name="step">nigao</camunda:inputParameter>\n          <camunda:inputParameter name="notifyKind">reminder</camunda:inputParameter>',
    '<camunda:inputParameter name="step">nigao</camunda:inputParameter>\n          <camunda:inputParameter name="documentId">x</camunda:inputParameter>')
  t.ok((await fields('fawen', io)).includes('nigao-reminder-notify'), 'an input parameter')
  t.ok((await fields('fawen', change(fawen, 'camunda:elementVariable="department"', 'camunda:elementVariable="unitId"'))).includes('huiqian'), 'a multi-instance element variable')
  t.ok((await fields('fawen', change(fawen, '<camunda:inputParameter name="nextHandler" />', '<camunda:inputParameter name="nextHandler" /><camunda:outputParameter name="drafter">${nextHandler}</camunda:outputParameter>'))).includes('huiqian'), 'an output parameter')
  t.ok((await fields('fawen', change(fawen, '<bpmn:startEvent id="start" name="起草">', '<bpmn:startEvent id="start" name="起草" camunda:initiator="drafter">'))).includes('start'), 'the initiator')
  t.ok((await fields('fawen', change(fawen, '<camunda:property name="outputs" value="countersignDepartments" />\n        </camunda:properties>\n      </bpmn:extensionElements>\n      <bpmn:incoming>flow-nigao-shenhe',
    '<camunda:property name="outputs" value="countersignDepartments,documentId" />\n        </camunda:properties>\n      </bpmn:extensionElements>\n      <bpmn:incoming>flow-nigao-shenhe'))).includes('shenhe.outputs'), 'a step’s outputs')
})

t.test('user tasks reach an inbox: the flow’s 笺, a known role or a handler, a way out', async (t) => {
  t.same(await fields('fawen', change(fawen, 'camunda:candidateGroups="office_reviewer"', 'camunda:candidateGroups="boss"')), ['chushen.role'])
  t.same(await fields('fawen', change(fawen, 'camunda:candidateGroups="office_reviewer"', 'camunda:candidateGroups="office_reviewer,leader@${department}"')), [], 'a per-department role is fine')
  t.same(await fields('fawen', change(fawen, 'camunda:assignee="${empty nextHandler ? null : nextHandler}" camunda:candidateGroups="office_reviewer"', '')), ['chushen.role'])
  const chengyueForm = await lint('fawen', change(fawen, 'name="办公室初审" camunda:formKey="fawen-gaozhi"', 'name="办公室初审" camunda:formKey="chengyue-jian"'))
  t.ok(chengyueForm.some((p) => p.field === 'chushen.form' && p.message.includes('fawen-gaozhi')), JSON.stringify(chengyueForm))
})

t.test('messages and signals stay out, except 分文报批’s 电子来文', async (t) => {
  const messageEnd = change(fawen, '<bpmn:endEvent id="end" name="已分发归档">', '<bpmn:endEvent id="end" name="已分发归档"><bpmn:messageEventDefinition camunda:type="external" camunda:topic="document.archive" />')
  t.ok((await lint('fawen', messageEnd)).some((p) => p.field === 'end' && /消息或信号/.test(p.message)), 'a message end event in 发文')
  t.same(await lint('fenwen', fenwen), [], '分文报批 keeps its message start')
  const noIncoming = change(fenwen, '<bpmn:messageEventDefinition id="incoming-def" messageRef="incoming-message" />', '')
  t.ok((await lint('fenwen', noIncoming)).some((p) => /电子来文/.test(p.message)), 'without it 分文报批 is refused')
  const other = change(fenwen, '<bpmn:message id="incoming-message" name="gongwen.incoming" />', '<bpmn:message id="incoming-message" name="gongwen.other" />')
  t.ok((await fields('fenwen', other)).includes('incoming'), 'another message is refused')
  const cycle = change(fawen, '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">${stepLimit}</bpmn:timeDuration>\n      </bpmn:timerEventDefinition>\n    </bpmn:boundaryEvent>\n    <bpmn:serviceTask id="nigao-overdue-notify"',
    '<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">R/PT1S</bpmn:timeCycle>\n      </bpmn:timerEventDefinition>\n    </bpmn:boundaryEvent>\n    <bpmn:serviceTask id="nigao-overdue-notify"')
  t.ok((await fields('fawen', cycle)).includes('nigao-overdue'), 'a timer that fires without end is refused')
  const timerStart = change(fawen, '<bpmn:startEvent id="start" name="起草">', '<bpmn:startEvent id="start" name="起草"><bpmn:timerEventDefinition><bpmn:timeCycle>R/PT1M</bpmn:timeCycle></bpmn:timerEventDefinition>')
  t.ok((await fields('fawen', timerStart)).includes('start'), 'a timer start is refused')
})

t.test('a unit’s version keeps the flow’s process id', async (t) => {
  const problems = await lint('fawen', change(change(fawen, '<bpmn:process id="fawen"', '<bpmn:process id="fawen--liuzhou-gov"'), 'bpmnElement="fawen"', 'bpmnElement="fawen--liuzhou-gov"'))
  t.ok(problems.some((p) => p.field === 'fawen--liuzhou-gov' && p.message.includes('“fawen”')), JSON.stringify(problems))
  t.ok((await lint('chengyue', fawen)).some((p) => p.field === 'fawen'), 'a 发文 model is no 呈阅笺')
})

t.test('a model in another engine’s dialect is refused as a whole', async (t) => {
  const foreign = change(fawen, 'xmlns:camunda="http://camunda.org/schema/1.0/bpmn"', 'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:other="http://example.org/schema/other-engine/1.0"')
    .replace('<camunda:properties>', '<other:userTask /><camunda:properties>')
  const problems = await lint('fawen', foreign)
  t.ok(problems.some((p) => p.field === 'xml' && p.message.includes('other-engine')), JSON.stringify(problems))
  t.ok(problems.some((p) => p.field === 'nigao.userTask' && p.message.includes('other:userTask')), JSON.stringify(problems))
})
