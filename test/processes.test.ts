// Every model in processes/ is consistent with the code: each job type has exactly one worker,
// each user task a 笺 that exists in forms/ with the fields it says it may edit, and routes.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parseProcess } from '../engine/bpmn-model.ts'
import { Forms } from '../server/forms/forms.ts'
import { automationHandlers } from '../server/services/automation.ts'

const root = join(import.meta.dirname, '..')
const forms = new Forms(join(root, 'forms'))
const workers = Object.keys(automationHandlers(null as never, null as never, null as never))
const files = readdirSync(join(root, 'processes')).filter((f) => f.endsWith('.bpmn'))

t.ok(files.length > 0, 'there are models')
for (const file of files) {
  t.test(file, async (t) => {
    const model = await parseProcess(readFileSync(join(root, 'processes', file), 'utf8'))
    t.equal(`${model.processId}.bpmn`, file, 'the process id equals the file name')
    for (const type of model.serviceTaskTypes) {
      t.equal(workers.filter((w) => w === type).length, 1, `job type ${type} has exactly one worker`)
      t.match(type, /^[a-z]+\.[a-z]+$/, `job type ${type} is noun.verb`)
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

t.test('the 发文 routes are read from the diagram', async (t) => {
  const model = await parseProcess(readFileSync(join(root, 'processes', 'fawen.bpmn'), 'utf8'))
  const routes = (id: string) => model.userTasks.get(id)!.routes.map((r) => [r.name, r.targetId, r.targetRole])
  t.same(routes('nigao'), [['送审核', 'shenhe', 'dept_head']])
  t.same(routes('shenhe'), [['送下一审核', 'chushen', 'office_reviewer'], ['送会签', 'huiqian', null], ['送签发', 'qianfa', 'leader'], ['退回拟稿人', 'nigao', null]])
  t.same(routes('huiqian'), [['会签同意', 'qianfa', 'leader'], ['退回拟稿人', 'nigao', null]])
  t.same(routes('qianfa'), [['签发', 'bianhao', null], ['退回审核', 'shenhe', 'dept_head']])
  t.ok(model.userTasks.get('huiqian')!.multiInstance, '会签 is one task per department')
})

t.test('the 分文报批 reads tasks inside its 承办 subprocess', async (t) => {
  const model = await parseProcess(readFileSync(join(root, 'processes', 'fenwen.bpmn'), 'utf8'))
  t.equal(model.userTasks.get('zhuban')?.subprocess, 'banli')
  t.same(model.userTasks.get('zhuban')!.routes.map((r) => r.name), ['办理完毕', '送回'])
  t.same(model.userTasks.get('niban')!.outputs, ['instructionLeaders', 'instructionMode', 'hostDepartment', 'assistDepartments'])
})
