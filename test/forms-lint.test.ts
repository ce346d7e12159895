// The deploy-time lint: every model in processes/ is clean, and each kind of broken binding made
// from processes/fawen.bpmn is refused, naming the task and the field.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parseModel } from '../engine/index.ts'
import { Forms } from '../server/forms/forms.ts'
import { lintModel } from '../server/forms/lint.ts'

const root = join(import.meta.dirname, '..')
const forms = new Forms(join(root, 'forms'))
const fawen = readFileSync(join(root, 'processes', 'fawen.bpmn'), 'utf8')

t.test('every model in processes/ passes the lint', async (t) => {
  const files = readdirSync(join(root, 'processes')).filter((f) => f.endsWith('.bpmn'))
  t.ok(files.includes('fawen.bpmn'))
  for (const file of files) {
    const model = await parseModel(readFileSync(join(root, 'processes', file), 'utf8'))
    t.same(lintModel(model, forms), [], `${file} is clean`)
  }
})

/** The XML of one user task, found by id. */
function taskBlock(xml: string, id: string): string {
  const m = new RegExp(`<bpmn:userTask id="${id}"[\\s\\S]*?</bpmn:userTask>`).exec(xml)
  if (!m) throw new Error(`no user task ${id}`)
  return m[0]
}

/** Sets one binding property (camunda:property) of a user task, by string replacement in the XML. */
function withProperty(xml: string, id: string, key: string, value: string): string {
  const block = taskBlock(xml, id)
  let changed = block.replace(new RegExp(`\\s*<camunda:property name="${key}" value="[^"]*"\\s*/>`), '')
  const property = `<camunda:property name="${key}" value="${value}" />`
  changed = changed.includes('<camunda:properties>')
    ? changed.replace('<camunda:properties>', `<camunda:properties>${property}`)
    : changed.includes('<bpmn:extensionElements>')
      ? changed.replace('<bpmn:extensionElements>', `<bpmn:extensionElements><camunda:properties>${property}</camunda:properties>`)
      : changed.replace(/(<bpmn:userTask [^>]*>)/, `$1<bpmn:extensionElements><camunda:properties>${property}</camunda:properties></bpmn:extensionElements>`)
  return xml.replace(block, changed)
}

const userTaskIds = [...fawen.matchAll(/<bpmn:userTask id="([^"]+)"/g)].map((m) => m[1])
const [first, second] = userTaskIds

async function lint(xml: string) {
  return lintModel(await parseModel(xml), forms)
}

t.test('a user task naming a missing 笺 is refused', async (t) => {
  const broken = fawen.replace(taskBlock(fawen, first), taskBlock(fawen, first).replace(/camunda:formKey="[^"]+"/, 'camunda:formKey="no-such-jian"'))
  const problems = await lint(broken)
  t.equal(problems.length, 1)
  t.equal(problems[0].taskId, first)
  t.match(problems[0].message, /笺“no-such-jian”不存在/)
})

t.test('a user task with no 笺 at all is refused', async (t) => {
  const broken = fawen.replace(taskBlock(fawen, second), taskBlock(fawen, second).replace(/ camunda:formKey="[^"]+"/, ''))
  const problems = await lint(broken)
  t.same(problems.map((p) => p.taskId), [second])
  t.match(problems[0].message, /没有绑定笺/)
})

for (const property of ['editable', 'hidden']) {
  t.test(`a ${property} field that is not in the 笺 is refused, naming task and field`, async (t) => {
    const problems = await lint(withProperty(withProperty(fawen, first, 'editable', 'title'), first, property, property === 'editable' ? 'title,nosuchfield' : 'nosuchfield'))
    t.same(problems.map((p) => [p.taskId, p.field]), [[first, 'nosuchfield']])
    t.match(problems[0].message, /字段“nosuchfield”不是笺“发文稿纸”的字段/)
  })
}

t.test('a field both editable and hidden is refused', async (t) => {
  const problems = await lint(withProperty(withProperty(fawen, second, 'editable', 'title'), second, 'hidden', 'title'))
  t.same(problems.map((p) => [p.taskId, p.field]), [[second, 'title']])
})

t.test('an opinion box missing from the template is refused', async (t) => {
  const problems = await lint(withProperty(fawen, second, 'opinion', 'nosuchbox'))
  t.same(problems.map((p) => [p.taskId, p.field]), [[second, 'opinion']])
  t.match(problems[0].message, /意见栏“nosuchbox”在笺“发文稿纸”的模板中不存在/)
  t.same(await lint(withProperty(fawen, second, 'opinion', 'shenhe')), [], 'an existing box is fine')
})

t.test('a blank-signature rule without a box, or with an unknown value, is refused', async (t) => {
  const noBox = taskBlock(fawen, first).replace(/\s*<camunda:property name="opinion" value="[^"]*"\s*\/>/, '')
  t.same((await lint(withProperty(fawen.replace(taskBlock(fawen, first), noBox), first, 'blankSignature', 'unit'))).map((p) => [p.taskId, p.field]), [[first, 'blankSignature']])
  const odd = await lint(withProperty(withProperty(fawen, second, 'opinion', 'shenhe'), second, 'blankSignature', 'always'))
  t.same(odd.map((p) => [p.taskId, p.field]), [[second, 'blankSignature']])
})

t.test('a field the system fills is editable by no step', async (t) => {
  const shouwen = withProperty(fawen, first, 'editable', 'title,receivedAt').replace(/camunda:formKey="[^"]+"/g, 'camunda:formKey="shouwen-chuli"')
  const problems = (await lint(shouwen)).filter((p) => p.field === 'receivedAt')
  t.same(problems.map((p) => p.taskId), [first])
  t.match(problems[0].message, /由系统填写/)
})

t.test('the user tasks of one flow fill one 笺', async (t) => {
  const broken = fawen.replace(taskBlock(fawen, second), taskBlock(fawen, second).replace(/camunda:formKey="[^"]+"/, 'camunda:formKey="chengyue-jian"'))
  const problems = await lint(broken)
  t.ok(problems.length > 0 && problems.every((p) => p.taskId === second), 'the odd task is named')
  t.ok(problems.some((p) => /须绑定同一张笺/.test(p.message)), 'and the rule it breaks')
})
