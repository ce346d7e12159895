// The 笺 registry: loads every forms/<笺>/schema.json once, compiles it with ajv, and validates
// a step's submission — only the fields the step may edit, then the whole 笺 as it will stand.
import { readdirSync, readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import localizeModule from 'ajv-i18n/localize/zh/index.js'

const localize = localizeModule as unknown as (errors: ErrorObject[]) => void
import { fail, type FieldProblem } from '../errors.ts'

type Schema = { title?: string; properties?: Record<string, { title?: string }>; required?: string[]; [k: string]: unknown }

export interface Form {
  key: string
  title: string
  schema: Schema
  validateFull: ValidateFunction
  validateDraft: ValidateFunction
}

export class Forms {
  private readonly forms = new Map<string, Form>()

  constructor(dir: string) {
    const ajv = new (Ajv2020 as unknown as typeof Ajv2020.default)({ allErrors: true, strict: false })
    ;(addFormats as unknown as (a: unknown) => void)(ajv)
    for (const key of readdirSync(dir)) {
      const file = join(dir, key, 'schema.json')
      if (!existsSync(file)) continue
      const schema = JSON.parse(readFileSync(file, 'utf8')) as Schema
      // A draft only needs a title; the rest is checked when the step is submitted.
      const draft = { ...schema, $id: `${schema.$id ?? key}`.replace(/schema\.json$/, "draft.json"), required: ["title"] } as Schema
      delete draft.if
      delete draft.then
      this.forms.set(key, {
        key,
        title: schema.title ?? key,
        schema,
        validateFull: ajv.compile(schema),
        validateDraft: ajv.compile(draft),
      })
    }
  }

  get(key: string): Form {
    const form = this.forms.get(key)
    if (!form) throw new Error(`no 笺 named ${key} under forms/`)
    return form
  }

  has(key: string): boolean {
    return this.forms.has(key)
  }

  /** The part of the 笺 a step may edit, as a JSON Schema for clients. */
  stepSchema(key: string, editable: string[]): Schema {
    const form = this.get(key)
    const properties: Record<string, { title?: string }> = {}
    for (const field of editable) if (form.schema.properties?.[field]) properties[field] = form.schema.properties[field]
    return {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: form.title,
      type: 'object',
      properties,
      required: (form.schema.required ?? []).filter((f) => editable.includes(f)),
      additionalProperties: false,
    }
  }

  /** Validates a new document's first draft. */
  validateDraft(key: string, data: Record<string, unknown>): void {
    const form = this.get(key)
    if (!form.validateDraft(data)) throw fail('FORM_INVALID', undefined, problems(form, form.validateDraft.errors ?? []))
  }

  /**
   * Checks a step's submission: fields outside the 笺 are unknown (400), fields of the 笺 the step
   * may not edit are forbidden (403); then the 笺 as it would stand after the change must be valid.
   */
  validateStep(key: string, editable: string[], current: Record<string, unknown>, submitted: Record<string, unknown>): Record<string, unknown> {
    const form = this.get(key)
    const known = form.schema.properties ?? {}
    const unknown = Object.keys(submitted).filter((f) => !(f in known))
    if (unknown.length) {
      throw fail('FORM_INVALID', undefined, unknown.map((f) => ({ field: f, message: `笺中没有字段“${f}”` })))
    }
    const forbidden = Object.keys(submitted).filter((f) => !editable.includes(f))
    if (forbidden.length) {
      throw fail(
        'FIELD_FORBIDDEN',
        `此步骤无权修改字段：${forbidden.map((f) => label(form, f)).join('、')}`,
        forbidden.map((f) => ({ field: f, message: `此步骤无权修改“${label(form, f)}”` })),
      )
    }
    if (editable.length === 0) return current
    const merged = { ...current, ...submitted }
    if (!form.validateFull(merged)) throw fail('FORM_INVALID', undefined, problems(form, form.validateFull.errors ?? []))
    return merged
  }
}

function label(form: Form, field: string): string {
  return form.schema.properties?.[field]?.title ?? field
}

/** ajv errors → one entry per failing field, in Chinese, naming the field by its label. */
export function problems(form: Form | null, errs: ErrorObject[]): FieldProblem[] {
  const localized = errs.map((e) => ({ ...e }))
  localize(localized)
  const out: FieldProblem[] = []
  for (const e of localized) {
    if (e.keyword === 'if') continue
    let field = e.instancePath.replace(/^\//, '').replace(/\//g, '.')
    if (e.keyword === 'required') field = [field, (e.params as { missingProperty: string }).missingProperty].filter(Boolean).join('.')
    if (e.keyword === 'additionalProperties') field = [field, (e.params as { additionalProperty: string }).additionalProperty].filter(Boolean).join('.')
    const top = field.split('.')[0]
    const name = form ? label(form, top) : top
    const message =
      e.keyword === 'required' ? `请填写“${name}”` : e.keyword === 'additionalProperties' ? `不允许的字段“${field}”` : `“${name}”${e.message}`
    if (!out.some((p) => p.field === field && p.message === message)) out.push({ field: field || '(body)', message })
  }
  return out
}
