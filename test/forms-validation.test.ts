// The 笺 enforce themselves: Chinese messages naming each field, each step editing only its
// fields (read-only and hidden refused with 403), hidden fields never sent, and the opinion rule.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parseModel } from '../engine/index.ts'
import { AppError } from '../server/errors.ts'
import { demo } from '../server/forms/demo.ts'
import { Forms } from '../server/forms/forms.ts'

const root = join(import.meta.dirname, '..')
const forms = new Forms(join(root, 'forms'))
const keys = ['fawen-gaozhi', 'shouwen-chuli', 'chengyue-jian']

function caught(fn: () => unknown): AppError {
  try {
    fn()
  } catch (err) {
    if (err instanceof AppError) return err
    throw err
  }
  throw new Error('expected an error')
}

/** A step that may edit every field the system does not fill. */
const everything = (key: string) => ({ editable: forms.get(key).fields.join(',') })

t.test('the three 笺 exist with their labels and opinion boxes', async (t) => {
  for (const key of keys) t.ok(forms.has(key), `${key} is loaded`)
  t.equal(forms.get('fawen-gaozhi').labels.mainRecipients, '主送机关')
  t.same([...forms.get('fawen-gaozhi').boxes.keys()], ['qianfa', 'huiqian', 'fushen', 'chushen', 'shenhe', 'nigao'])
  t.same([...forms.get('shouwen-chuli').boxes.keys()], ['niban', 'pishi', 'fenban', 'zhuban', 'xieban'])
  t.same([...forms.get('chengyue-jian').boxes.keys()], ['keshi', 'bangongshi', 'pishi', 'luoshi'])
  t.same(forms.get('shouwen-chuli').systemFields, ['receivedAt'], '收文时间 is filled by the system')
  for (const key of keys) {
    const form = forms.get(key)
    t.ok(form.validateFull(demo[key].data), `the demo data of ${key} is valid: ${JSON.stringify(form.validateFull.errors)}`)
  }
})

t.test('the common definitions are shared, not copied', async (t) => {
  const common = JSON.parse(readFileSync(join(root, 'forms', 'common.schema.json'), 'utf8'))
  t.ok(common.$defs.urgency && common.$defs.publicityRule && common.$defs.fileRef && common.$defs.personList, 'common.schema.json holds the shared definitions')
  for (const key of keys) {
    const text = readFileSync(join(root, 'forms', key, 'schema.json'), 'utf8')
    t.match(text, /"\$ref": "\.\.\/common\.schema\.json#\/\$defs\/urgency"/, `${key} refers to the shared 紧急程度`)
    t.notMatch(text, /平件/, `${key} does not copy the 紧急程度 values`)
  }
  const view = forms.stepView('fawen-gaozhi', null, { editable: 'urgency,mainRecipients' }, {})
  t.same(view.schema.properties!.urgency, { title: '紧急程度', enum: ['平件', '加急', '特急'] }, 'clients get the definition inlined, with the 笺’s own title')
})

t.test('an invalid value is refused with one Chinese message per field, naming its label', async (t) => {
  const cases: Array<[string, string, unknown, RegExp]> = [
    ['fawen-gaozhi', 'title', '', /^“标题”不能为空$/],
    ['fawen-gaozhi', 'docKind', '布告', /^“文种”须为以下之一：决议、/],
    ['fawen-gaozhi', 'mainRecipients', [], /^“主送机关”至少须选择一项$/],
    ['fawen-gaozhi', 'ccRecipients', 'liuzhou-fin', /^“抄送机关”须为列表$/],
    ['fawen-gaozhi', 'urgency', '很急', /^“紧急程度”须为以下之一：平件、加急、特急$/],
    ['fawen-gaozhi', 'publicity', '公开', /^“公开属性”须为以下之一：主动公开、依申请公开、不予公开$/],
    ['fawen-gaozhi', 'publicityReason', '无', /^“不公开理由”不能少于 2 个字$/],
    ['fawen-gaozhi', 'body', 42, /^“正文”须为文字$/],
    ['fawen-gaozhi', 'countersignDepartments', ['liuzhou-gov-mishu', 'liuzhou-gov-mishu'], /^“会签部门”中不能有重复项$/],
    ['fawen-gaozhi', 'attachments', [{ versionId: 'x', sha256: 'y' }], /^“附件”的第 1 项（versionId）须为 UUID$/],
    ['shouwen-chuli', 'sourceUnit', '', /^“来文单位”不能为空$/],
    ['shouwen-chuli', 'incomingNumber', 3, /^“来文字号”须为文字$/],
    ['shouwen-chuli', 'deadline', '2026-02-30x', /^“办理时限”须为日期/],
    ['shouwen-chuli', 'summary', 'x'.repeat(5001), /^“内容摘要”不能超过 5000 个字$/],
    ['shouwen-chuli', 'instructionLeaders', [], /^“批示领导”至少须选择一项$/],
    ['shouwen-chuli', 'instructionMode', '轮流', /^“批示方式”须为以下之一：依次、同时$/],
    ['shouwen-chuli', 'hostDepartment', 7, /^“主办部门”须为文字$/],
    ['shouwen-chuli', 'assistDepartments', 'liuzhou-gov-mishu', /^“协办部门”须为列表$/],
    ['shouwen-chuli', 'result', false, /^“办理结果”须为文字$/],
    ['chengyue-jian', 'relatedDocumentId', 'abc', /^“关于公文”须为 UUID$/],
    ['chengyue-jian', 'body', '', /^“呈阅事项”不能为空$/],
    ['chengyue-jian', 'urgency', '', /^“紧急程度”须为以下之一/],
    ['chengyue-jian', 'instructionLeaders', 'wangqiang', /^“批示领导”须为列表$/],
    ['chengyue-jian', 'implementation', {}, /^“落实情况”须为文字$/],
  ]
  for (const [key, field, value, message] of cases) {
    const err = caught(() => forms.validateStep(key, null, everything(key), demo[key].data, { [field]: value }))
    t.equal(err.statusCode, 400, `${key}.${field}: 400`)
    t.equal(err.code, 'FORM_INVALID')
    const fields = err.details!.map((d) => d.field)
    t.equal(new Set(fields).size, fields.length, `${key}.${field}: one message per field`)
    const mine = err.details!.find((d) => d.field.split('.')[0] === field)
    t.match(mine?.message, message, `${key}.${field}: ${mine?.message}`)
  }
})

t.test('required fields and the 公开属性 rule are checked when the step that edits them submits', async (t) => {
  const err = caught(() => forms.validateStep('fawen-gaozhi', null, everything('fawen-gaozhi'), {}, { title: '关于某事的通知', publicity: '不予公开' }))
  t.same(err.details?.map((d) => d.field).sort(), ['docKind', 'mainRecipients', 'publicityReason', 'urgency'])
  t.ok(err.details?.find((d) => d.field === 'publicityReason')?.message === '“不公开理由”必须填写', 'a reason is required when not 主动公开')
  t.match(err.message, /“文种”必须填写/, 'the message lists the problems')

  const merged = forms.validateStep('fawen-gaozhi', null, { editable: 'publicity,publicityReason' }, demo['fawen-gaozhi'].data, { publicity: '不予公开', publicityReason: '涉及个人隐私' })
  t.equal(merged.publicityReason, '涉及个人隐私', 'with a reason it is accepted')

  const later = forms.validateStep('shouwen-chuli', null, { editable: 'sourceUnit,incomingNumber' }, {}, { sourceUnit: '柳州市教育局', incomingNumber: '柳教发〔2026〕3号' })
  t.equal(later.sourceUnit, '柳州市教育局', 'fields other steps fill later (标题, 紧急程度) do not block this step')
})

t.test('a first draft needs only a title and well-typed fields', async (t) => {
  t.doesNotThrow(() => forms.validateDraft('fawen-gaozhi', { title: '草稿' }))
  const err = caught(() => forms.validateDraft('fawen-gaozhi', { urgency: '很急' }))
  t.same(err.details?.map((d) => d.field).sort(), ['title', 'urgency'])
})

t.test('every step of every flow in processes/ edits only its fields and never sees its hidden ones', async (t) => {
  const files = readdirSync(join(root, 'processes')).filter((f) => f.endsWith('.bpmn'))
  for (const file of files) {
    const model = await parseModel(readFileSync(join(root, 'processes', file), 'utf8'))
    for (const task of model.userTasks.values()) {
      if (!task.formKey || !demo[task.formKey]) continue
      const data = demo[task.formKey].data
      const name = `${file} ${task.name}`
      const view = forms.stepView(task.formKey, null, task.properties, data)
      t.same([...view.editable, ...view.readOnly, ...view.hidden].sort(), [...forms.get(task.formKey).fields].sort(), `${name}: each field is editable, read-only or hidden`)
      for (const f of view.hidden) t.notOk(f in view.data, `${name}: hidden ${f} is not sent`)
      t.same(Object.keys(view.schema.properties ?? {}), view.editable, `${name}: the schema holds the editable fields only`)
      for (const f of view.editable) {
        t.same(forms.validateStep(task.formKey, null, task.properties, data, { [f]: data[f] }), data, `${name}: may edit ${f}`)
      }
      for (const f of [...view.readOnly, ...view.hidden]) {
        const err = caught(() => forms.validateStep(task.formKey!, null, task.properties, data, { [f]: data[f] ?? 'x' }))
        const label = forms.get(task.formKey).labels[f]
        if (forms.get(task.formKey).systemFields.includes(f)) {
          // A field the system fills (收文时间) is nobody's to send, at any step: 400 naming it.
          t.equal(err.statusCode, 400, `${name}: may not send the system's ${f}`)
          t.equal(err.code, 'FORM_INVALID')
          t.same(err.details, [{ field: f, message: `“${label}”由系统填写，不能提交` }])
          continue
        }
        t.equal(err.statusCode, 403, `${name}: may not edit ${f}`)
        t.equal(err.code, 'FIELD_FORBIDDEN')
        t.same(err.details, [{ field: f, message: `此步骤无权修改“${label}”` }])
      }
    }
  }
})

t.test('a step’s headers decide: editable, read-only, hidden — each tried on every 笺', async (t) => {
  for (const key of keys) {
    const form = forms.get(key)
    const [a, b, c, d] = form.fields.filter((f) => !form.systemFields.includes(f))
    const headers = { editable: `${a}, ${b}`, hidden: `${c},${d}` }
    const data = demo[key].data
    const view = forms.stepView(key, null, headers, data)
    t.same(view.editable, [a, b], `${key}: editable`)
    t.same(view.hidden, [c, d], `${key}: hidden`)
    t.notOk(c in view.data || d in view.data, `${key}: hidden fields are removed from the data`)
    t.ok(view.readOnly.length > 0 && view.readOnly.every((f) => f in view.labels), `${key}: read-only fields come with their labels`)
    t.notOk(c in view.labels, `${key}: not even the label of a hidden field`)
    t.same(view.schema.properties![a].title, form.labels[a], `${key}: the schema carries Chinese titles`)

    t.same(forms.validateStep(key, null, headers, data, { [a]: data[a] }), data, `${key}: ${a} accepted`)
    const ro = view.readOnly.find((f) => !form.systemFields.includes(f))!
    const readOnly = caught(() => forms.validateStep(key, null, headers, data, { [a]: data[a], [ro]: data[ro] }))
    t.equal(readOnly.statusCode, 403, `${key}: read-only ${ro} refused even beside an editable field`)
    t.match(readOnly.message, form.labels[ro])
    const hidden = caught(() => forms.validateStep(key, null, headers, data, { [c]: data[c] }))
    t.equal(hidden.statusCode, 403, `${key}: hidden ${c} refused`)
    const unknown = caught(() => forms.validateStep(key, null, headers, data, { nosuchfield: 1 }))
    t.equal(unknown.statusCode, 400, `${key}: an unknown field is 400`)
    t.same(unknown.details?.[0].field, 'nosuchfield')
  }
  const system = caught(() => forms.validateStep('shouwen-chuli', null, { editable: 'receivedAt' }, {}, { receivedAt: '2026-01-01T00:00:00Z' }))
  t.equal(system.statusCode, 400, '收文时间 is editable by nobody, whatever the headers say')
  t.same(system.details, [{ field: 'receivedAt', message: '“收文时间”由系统填写，不能提交' }])
})

t.test('the opinion rule: a step with a box needs an opinion; a blank signature only where the unit allows it', async (t) => {
  t.same(forms.checkOpinion({ opinion: 'shenhe' }, '同意', false), { blankSignature: false })
  t.same(forms.checkOpinion({}, '', false), { blankSignature: false }, 'a step without a box needs none')
  const required = caught(() => forms.checkOpinion({ opinion: 'shenhe' }, '  ', true))
  t.equal(required.statusCode, 400)
  t.same(required.details?.map((d) => d.field), ['opinion'])
  t.same(forms.checkOpinion({ opinion: 'qianfa', blankSignature: 'unit' }, null, true), { blankSignature: true }, 'blank signature where the unit allows it')
  const refused = caught(() => forms.checkOpinion({ opinion: 'qianfa', blankSignature: 'unit' }, '', false))
  t.equal(refused.details?.[0].field, 'opinion')
  t.match(refused.message, /本单位不允许空白签名/)
})

t.test('the old callers keep working (editable lists)', async (t) => {
  t.same(Object.keys(forms.stepSchema('fawen-gaozhi', ['title', 'urgency']).properties!), ['title', 'urgency'])
  t.equal(caught(() => forms.validateStep('fawen-gaozhi', ['title'], {}, { urgency: '平件' })).statusCode, 403)
})
