// ajv errors → one Chinese message per failing field, naming the field by its label (ajv-i18n zh,
// with clearer wording for the keywords a handler meets most: required, enum, format, type).
import type { ErrorObject } from 'ajv'
import localizeModule from 'ajv-i18n/localize/zh/index.js'
import type { FieldProblem } from '../errors.ts'

const localize = localizeModule as unknown as (errors: ErrorObject[]) => void

const formats: Record<string, string> = {
  date: '须为日期，如 2026-01-31',
  'date-time': '须为带时区的日期时间，如 2026-01-31T09:00:00+08:00',
  uuid: '须为 UUID',
}

/** Plain wording for the patterns the 笺 use. */
const patterns: Record<string, string> = { '^[0-9]{6}$': '须为 6 位阿拉伯数字，如 000001' }

const types: Record<string, string> = { string: '文字', array: '列表', object: '对象', number: '数字', integer: '整数', boolean: '是或否' }

/**
 * Turns ajv errors into field problems. `labels` gives each top-level field's Chinese label;
 * `keep` (when given) limits the answer to the fields a step may edit.
 */
export function problems(labels: Record<string, string>, errs: ErrorObject[], keep?: (field: string) => boolean): FieldProblem[] {
  const localized = errs.map((e) => ({ ...e }))
  localize(localized)
  const out: FieldProblem[] = []
  for (const e of localized) {
    if (e.keyword === 'if') continue
    const path = e.instancePath.split('/').filter(Boolean)
    const params = e.params as Record<string, unknown>
    if (e.keyword === 'required') path.push(String(params.missingProperty))
    if (e.keyword === 'additionalProperties') path.push(String(params.additionalProperty))
    const field = path.join('.') || '(笺)'
    const top = path[0] ?? ''
    if (keep && !keep(top)) continue
    if (out.some((p) => p.field === field)) continue
    const name = labels[top] ?? top
    const item = path.length > 1 ? `的第 ${Number(path[1]) + 1} 项${path.length > 2 ? `（${path.slice(2).join('.')}）` : ''}` : ''
    out.push({ field, message: `“${name}”${item}${wording(e)}` })
  }
  return out
}

function wording(e: ErrorObject): string {
  const params = e.params as Record<string, any>
  switch (e.keyword) {
    case 'required':
      return '必须填写'
    case 'additionalProperties':
      return '不是笺中的字段'
    case 'enum':
      return `须为以下之一：${(params.allowedValues as unknown[]).join('、')}`
    case 'format':
      return formats[params.format] ?? `格式不正确（${params.format}）`
    case 'type':
      return `须为${types[String(params.type)] ?? params.type}`
    case 'minItems':
      return params.limit === 1 ? '至少须选择一项' : `至少须有 ${params.limit} 项`
    case 'minLength':
      return params.limit === 1 ? '不能为空' : `不能少于 ${params.limit} 个字`
    case 'maxLength':
      return `不能超过 ${params.limit} 个字`
    case 'pattern':
      return patterns[params.pattern] ?? `格式不正确（须符合 ${params.pattern}）`
    case 'uniqueItems':
      return '中不能有重复项'
    default:
      return e.message ?? '不符合要求'
  }
}
