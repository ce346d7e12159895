// Deploy-time lint of a process model against the 笺: every user task bound to an existing 笺,
// its editable/hidden fields fields of that 笺, its opinion box drawn in the 笺's template.
import Handlebars from 'handlebars'
import type { ProcessModel } from '../../engine/port.ts'
import type { FormVersion } from './compile.ts'
import type { Forms } from './forms.ts'

export interface LintProblem {
  taskId: string
  taskName: string
  field?: string
  message: string
}

/**
 * Roles whose steps are 审核, 会签, 批示 and the like: their handler signs an opinion, which must
 * have a box on the printed 笺. Drafting, 签收/登记 and 盖章 (drafter, registry) take none.
 */
const roleLabels: Record<string, string> = { dept_head: '科室负责人', office_reviewer: '办公室审核人', office_head: '办公室主任', leader: '领导' }

/** The first opinion-signing role a step is offered to (plain or per department), if any. */
function reviewerRole(candidateGroups: string | null): string | null {
  for (const group of (candidateGroups ?? '').split(',')) {
    const role = group.trim().split('@')[0]
    if (role in roleLabels) return role
  }
  return null
}

const list = (value: string | undefined) => (value ?? '').split(',').map((s) => s.trim()).filter(Boolean)

/**
 * The 公文要素 of GB/T 9704 a 发文 笺 (one with a 文种 field, docKind) must hold as fields and
 * print: field → its name in the standard.
 */
export const fawenElements: Record<string, string> = {
  copyNumber: '份号', urgency: '紧急程度', signer: '签发人', title: '标题', mainRecipients: '主送机关', note: '附注',
  attachments: '附件', ccRecipients: '抄送机关', issuingOrgan: '印发机关', issueDate: '印发日期', publicity: '公开属性', publicityReason: '不公开理由',
}

/** The 笺 fields a template prints: `{{field "x"}}`, `{{label "x"}}`, `{{excerpt data.x …}}`, `data.x` anywhere. */
export function printedFields(template: string): Set<string> {
  const out = new Set<string>()
  class Finder extends Handlebars.Visitor {
    PathExpression(node: hbs.AST.PathExpression): void {
      if (node.parts[0] === 'data' && node.parts[1] && !node.data) out.add(node.parts[1])
    }
    MustacheStatement(node: hbs.AST.MustacheStatement): void {
      const name = (node.path as hbs.AST.PathExpression).original
      const first = node.params[0] as hbs.AST.StringLiteral | undefined
      if (name === 'field' && first?.type === 'StringLiteral') out.add(first.value)
      super.MustacheStatement(node)
    }
    SubExpression(node: hbs.AST.SubExpression): void {
      const name = (node.path as hbs.AST.PathExpression).original
      const first = node.params[0] as hbs.AST.StringLiteral | undefined
      if (name === 'field' && first?.type === 'StringLiteral') out.add(first.value)
      super.SubExpression(node)
    }
  }
  new Finder().accept(Handlebars.parse(template))
  return out
}

/**
 * Problems of a 发文 笺 itself: each 公文要素 must be a field of its schema and be printed by its
 * template (a 笺 without a 文种 field is no 发文 笺 and has none to check).
 */
export function lintForm(form: FormVersion): Array<{ field: string; message: string }> {
  if (!form.fields.includes('docKind')) return []
  const printed = printedFields(form.source.template)
  const out: Array<{ field: string; message: string }> = []
  for (const [field, name] of Object.entries(fawenElements)) {
    if (!form.fields.includes(field)) out.push({ field, message: `笺“${form.title}”缺少公文要素“${name}”（${field}）：GB/T 9704 要求发文标注此要素` })
    else if (!printed.has(field)) out.push({ field, message: `笺“${form.title}”的模板没有印出公文要素“${name}”（${field}）` })
  }
  return out
}

/**
 * Problems that must refuse the deployment, each naming the task (and field). `version` checks
 * against a stored version of the 笺 instead of the files on disk.
 */
export function lintModel(model: ProcessModel, forms: Forms, version?: number | null): LintProblem[] {
  const out: LintProblem[] = []
  const keys = new Set<string>()
  for (const task of model.userTasks.values()) {
    const at = { taskId: task.id, taskName: task.name }
    if (!task.formKey) {
      out.push({ ...at, message: `用户任务“${task.name}”（${task.id}）没有绑定笺（camunda:formKey）` })
      continue
    }
    if (!forms.has(task.formKey)) {
      out.push({ ...at, message: `用户任务“${task.name}”（${task.id}）绑定的笺“${task.formKey}”不存在` })
      continue
    }
    const form = forms.get(task.formKey, version)
    // The 笺's own problems, once per 笺, on the first task bound to it.
    if (!keys.has(task.formKey)) for (const x of lintForm(form)) out.push({ ...at, field: x.field, message: x.message })
    keys.add(task.formKey)
    const editable = list(task.properties.editable)
    const hidden = list(task.properties.hidden)
    for (const [header, fields] of [['editable', editable], ['hidden', hidden]] as const) {
      for (const field of fields) {
        if (!form.fields.includes(field)) out.push({ ...at, field, message: `用户任务“${task.name}”的 ${header} 中的字段“${field}”不是笺“${form.title}”的字段` })
      }
    }
    for (const field of editable) {
      if (form.systemFields.includes(field)) out.push({ ...at, field, message: `字段“${form.labels[field]}”（${field}）由系统填写，用户任务“${task.name}”不能修改它` })
      if (hidden.includes(field)) out.push({ ...at, field, message: `字段“${form.labels[field]}”（${field}）在用户任务“${task.name}”中既可修改又被隐藏` })
    }
    const box = task.properties.opinion
    if (box !== undefined && !form.boxes.has(box)) {
      out.push({ ...at, field: 'opinion', message: `用户任务“${task.name}”的意见栏“${box}”在笺“${form.title}”的模板中不存在（可用：${[...form.boxes.keys()].join('、')}）` })
    }
    const reviewer = reviewerRole(task.candidateGroups)
    if (box === undefined && reviewer) {
      out.push({ ...at, field: 'opinion', message: `用户任务“${task.name}”由“${roleLabels[reviewer]}”办理，要签署意见，但没有在笺“${form.title}”上指定意见栏（opinion），其意见将不会出现在打印的笺上（可用：${[...form.boxes.keys()].join('、')}）` })
    }
    const blank = task.properties.blankSignature
    if (blank !== undefined && blank !== 'unit') out.push({ ...at, field: 'blankSignature', message: `用户任务“${task.name}”的 blankSignature 只能为 unit` })
    if (blank !== undefined && box === undefined) out.push({ ...at, field: 'blankSignature', message: `用户任务“${task.name}”允许空白签名，却没有意见栏（opinion）` })
  }
  // A document keeps one 笺 version (documents.form_version), so a flow fills one 笺.
  if (keys.size > 1) {
    for (const task of model.userTasks.values()) {
      if (task.formKey && task.formKey !== [...keys][0]) {
        out.push({ taskId: task.id, taskName: task.name, message: `流程“${model.name}”的用户任务须绑定同一张笺：“${task.name}”绑定了“${task.formKey}”，其他任务绑定了“${[...keys][0]}”` })
      }
    }
  }
  return out
}
