// Every model in processes/ is consistent with the code: each job type has exactly one worker,
// each user task a 笺 that exists in forms/ with the fields it says it may edit, and routes; and
// every model is written in the engine's dialect (camunda: extensions, JUEL expressions) and nothing else.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parseModel } from '../engine/operaton/model.ts'
import { Forms } from '../server/forms/forms.ts'
import { automationHandlers } from '../server/services/automation.ts'

const root = join(import.meta.dirname, '..')
const forms = new Forms(join(root, 'forms'))
const workers = Object.keys(automationHandlers(null as never, null as never, null as never))
const files = readdirSync(join(root, 'processes')).filter((f) => f.endsWith('.bpmn'))
const read = (file: string) => readFileSync(join(root, 'processes', file), 'utf8')

t.ok(files.length > 0, 'there are models')
for (const file of files) {
  t.test(file, async (t) => {
    const model = await parseModel(read(file))
    t.equal(`${model.processId}.bpmn`, file, 'the process id equals the file name')
    for (const topic of model.serviceTopics) {
      t.equal(workers.filter((w) => w === topic).length, 1, `topic ${topic} has exactly one worker`)
      t.match(topic, /^[a-z]+\.[a-z]+$/, `topic ${topic} is noun.verb`)
    }
    for (const task of model.userTasks.values()) {
      t.ok(task.formKey && forms.has(task.formKey), `${task.id} is bound to an existing 笺 (${task.formKey})`)
      const fields = Object.keys(forms.get(task.formKey!).schema.properties ?? {})
      for (const f of task.editable) t.ok(fields.includes(f), `${task.id} may edit ${f}, a field of the 笺`)
      t.ok(task.routes.length > 0, `${task.id} has at least one route`)
      t.ok(task.candidateGroups || task.assigneeExpression, `${task.id} is offered to a role or a person`)
    }
  })
}

t.test('every model is written for Operaton: standard BPMN, camunda: extensions, JUEL', async (t) => {
  for (const file of files) {
    const xml = read(file)
    const namespaces = [...xml.matchAll(/\sxmlns:(\w+)="/g)].map((m) => m[1]).sort()
    t.same(namespaces, ['bpmn', 'bpmndi', 'camunda', 'dc', 'di', 'modeler', 'xsi'].filter((n) => namespaces.includes(n)), `${file} declares only BPMN, DI and camunda: namespaces`)
    t.ok(namespaces.includes('camunda'), `${file} uses the camunda: extensions`)
    // FEEL expressions start with '='; JUEL ones are ${…}.
    const bodies = [...xml.matchAll(/<bpmn:(?:conditionExpression|completionCondition|timeDuration|timeDate|timeCycle)[^>]*>([^<]*)</g)].map((m) => m[1].trim())
    const attributes = [...xml.matchAll(/\scamunda:\w+="([^"]*)"/g)].map((m) => m[1].trim())
    for (const expression of [...bodies, ...attributes]) t.notMatch(expression, /^=/, `${file}: ${expression} is not FEEL`)
    const timers = [...xml.matchAll(/<bpmn:timeDuration[^>]*>([^<]*)</g)].map((m) => m[1].trim())
    t.ok(timers.length > 0, `${file} has deadline timers`)
    for (const timer of timers) t.ok(['${remindAfter}', '${stepLimit}'].includes(timer), `${file}: timer ${timer} reads the document's limits`)
    const userTasks = [...xml.matchAll(/<bpmn:userTask [^>]*>/g)].map((m) => m[0])
    for (const tag of userTasks) {
      const id = /\sid="([^"]+)"/.exec(tag)?.[1]
      t.match(tag, /camunda:formKey="[^"]+"/, `${file}: ${id} has a formKey`)
      t.match(tag, /camunda:(candidateGroups|assignee)="[^"]+"/, `${file}: ${id} has candidateGroups or an assignee`)
    }
  }
})

t.test('the 发文 routes are read from the diagram', async (t) => {
  const model = await parseModel(read('fawen.bpmn'))
  const routes = (id: string) => model.userTasks.get(id)!.routes.map((r) => [r.name, r.targetId, r.targetRole])
  t.same(routes('nigao'), [['送审核', 'shenhe', 'dept_head']])
  t.same(routes('shenhe'), [['送下一审核', 'chushen', 'office_reviewer'], ['送会签', 'huiqian', null], ['送签发', 'qianfa', 'leader'], ['退回拟稿人', 'nigao', null]])
  t.same(routes('huiqian'), [['会签同意', 'qianfa', 'leader'], ['退回拟稿人', 'nigao', null]])
  t.same(routes('qianfa'), [['签发', 'bianhao', null], ['退回审核', 'shenhe', 'dept_head']])
  t.ok(model.userTasks.get('huiqian')!.multiInstance, '会签 is one task per department')
  t.same(model.userTasks.get('qianfa')!.properties, { editable: 'signer', opinion: 'qianfa', blankSignature: 'unit' }, 'the step binding is read from camunda:properties')
})

t.test('the 分文报批 reads tasks inside its 承办 subprocess', async (t) => {
  const model = await parseModel(read('fenwen.bpmn'))
  t.equal(model.userTasks.get('zhuban')?.subprocess, 'banli')
  t.same(model.userTasks.get('zhuban')!.routes.map((r) => r.name), ['办理完毕', '送回'])
  t.same(model.userTasks.get('niban')!.outputs, ['instructionLeaders', 'instructionMode', 'hostDepartment', 'assistDepartments'])
})

t.test('a route drawn without a name takes the value its condition compares route with', async (t) => {
  const xml = read('chengyue.bpmn').replace('name="送办公室" sourceRef="keshi-route"', 'sourceRef="keshi-route"')
  const model = await parseModel(xml)
  t.same(model.userTasks.get('keshi')!.routes.map((r) => r.name), ['送办公室', '退回拟稿人'])
})
