// The 笺 registry: each forms/<笺>/ (schema.json, template.hbs, with forms/common.schema.json)
// compiled once per version. sync() gives a 笺 whose files changed a new version in form_versions;
// a document keeps the version it started with, and old versions load from the table. It also
// enforces what a step may do with the 笺: the fields of its binding properties and its opinion rule.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Knex } from 'knex'
import { fail } from '../errors.ts'
import { compileForm, hashSource, inline, type FormSource, type FormVersion, type Schema } from './compile.ts'
import { PdfPrinter, type PrintLimits } from './pdf.ts'
import { problems } from './problems.ts'
import { renderJian, type JianContext } from './render.ts'

/** A user task's binding properties (engine/port.ts `step.properties`): editable, hidden, opinion, blankSignature. */
export type StepProperties = Record<string, string>
type Data = Record<string, unknown>

export interface StepPermissions {
  editable: string[]
  readOnly: string[]
  hidden: string[]
}

export interface StepView extends StepPermissions {
  key: string
  version: number
  title: string
  /** JSON Schema (self-contained, Chinese titles) of the fields this step may edit. */
  schema: Schema
  /** The 笺 data without the fields hidden from this step. */
  data: Data
  /** Chinese labels of every field the step sees (editable and read-only). */
  labels: Record<string, string>
  /** The box this step's opinion goes to; blankSignature 'unit' when the unit may allow 空白签名. */
  opinion: { box: string; label: string; blankSignature: 'unit' | null } | null
}

const list = (value: string | undefined) => (value ?? '').split(',').map((s) => s.trim()).filter(Boolean)
const pick = <T>(obj: Record<string, T>, keys: string[]) => Object.fromEntries(keys.filter((k) => k in obj).map((k) => [k, obj[k]]))

export class Forms {
  readonly printer: PdfPrinter
  private readonly css: string
  /** The 笺 as on disk (the current versions once synced). */
  private readonly disk = new Map<string, FormVersion>()
  private readonly compiled = new Map<string, FormVersion>()
  private readonly stored = new Map<string, { source: FormSource; hash: string }>()
  private readonly inlined = new WeakMap<FormVersion, Schema>()
  private synced = false

  /** `chromiumPath`: the browser that prints PDFs (default /usr/bin/chromium, Debian's package). */
  constructor(readonly dir: string, options: { chromiumPath?: string; pdf?: Partial<PrintLimits> } = {}) {
    this.printer = new PdfPrinter(options.chromiumPath, options.pdf)
    const read = (file: string) => (existsSync(join(dir, file)) ? readFileSync(join(dir, file), 'utf8') : '')
    const commonText = read('common.schema.json') || '{}'
    this.css = read('jian.css')
    for (const key of readdirSync(dir).sort()) {
      if (!existsSync(join(dir, key, 'schema.json'))) continue
      const texts = { schema: read(join(key, 'schema.json')), template: read(join(key, 'template.hbs')), common: commonText }
      const source = { key, schema: JSON.parse(texts.schema), common: JSON.parse(commonText), template: texts.template }
      this.disk.set(key, compileForm(source, 0, hashSource(texts)))
    }
  }

  /**
   * Records each 笺 whose files changed since its newest stored version as a new version, and
   * learns every stored version. Run once at startup, before serving.
   */
  async sync(knex: Knex): Promise<void> {
    await knex.transaction(async (trx) => {
      await trx.raw('select pg_advisory_xact_lock(hashtext(?))', ['form_versions'])
      for (const form of this.disk.values()) {
        const latest = await trx('form_versions').where({ key: form.key }).orderBy('version', 'desc').first('version', 'hash')
        let version = latest?.version as number | undefined
        if (latest?.hash !== form.hash) {
          version = (version ?? 0) + 1
          const { schema, common, template } = form.source
          await trx('form_versions').insert({ key: form.key, version, hash: form.hash, schema: JSON.stringify(schema), common: JSON.stringify(common), template })
        }
        const current = { ...form, version: version! }
        this.disk.set(form.key, current)
        this.compiled.set(`${form.key}@${version}`, current)
      }
    })
    for (const row of await knex('form_versions').select('key', 'version', 'hash', 'schema', 'common', 'template')) {
      this.stored.set(`${row.key}@${row.version}`, { hash: row.hash, source: { key: row.key, schema: row.schema, common: row.common, template: row.template } })
    }
    this.synced = true
  }

  get isSynced(): boolean {
    return this.synced
  }

  has(key: string): boolean {
    return this.disk.has(key)
  }

  /** A 笺 at a version; without one, as on disk (the current version). Old versions compile on first use. */
  get(key: string, version?: number | null): FormVersion {
    if (version == null) {
      const form = this.disk.get(key)
      if (!form) throw fail('NOT_FOUND', `没有名为“${key}”的笺`)
      return form
    }
    const id = `${key}@${version}`
    let form = this.compiled.get(id)
    if (!form) {
      const row = this.stored.get(id)
      if (!row) throw fail('NOT_FOUND', `笺“${key}”没有第 ${version} 版`)
      form = compileForm(row.source, version, row.hash)
      this.compiled.set(id, form)
    }
    return form
  }

  /** The version new documents of this 笺 start with (store it in documents.form_version). */
  current(key: string): { key: string; version: number; title: string } {
    if (!this.synced) throw new Error('Forms.sync() must run before versions are known')
    const form = this.get(key)
    return { key, version: form.version, title: form.title }
  }

  list(): Array<{ key: string; version: number; title: string }> {
    return [...this.disk.values()].map((f) => ({ key: f.key, version: f.version, title: f.title }))
  }

  /** The whole 笺 for clients: self-contained schema and its opinion boxes. */
  describe(key: string, version?: number | null) {
    const form = this.get(key, version)
    return { key, version: form.version, title: form.title, schema: this.inline(form), boxes: [...form.boxes].map(([id, label]) => ({ id, label })) }
  }

  /** Which fields a step may edit, only read, or never see, from its `editable` and `hidden` properties. */
  permissions(form: FormVersion, properties: StepProperties): StepPermissions {
    const hidden = form.fields.filter((f) => list(properties.hidden).includes(f))
    const editable = form.fields.filter((f) => list(properties.editable).includes(f) && !hidden.includes(f) && !form.systemFields.includes(f))
    const readOnly = form.fields.filter((f) => !editable.includes(f) && !hidden.includes(f))
    return { editable, readOnly, hidden }
  }

  /** What a step's handler is sent: the schema of the fields they may edit and the data they may see. */
  stepView(key: string, version: number | null | undefined, properties: StepProperties, data: Data): StepView {
    const form = this.get(key, version)
    const perms = this.permissions(form, properties)
    const full = this.inline(form)
    const rules = (full.allOf ?? []).filter((rule) => fieldsOf(rule).every((f) => perms.editable.includes(f)))
    const schema: Schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: form.title,
      type: 'object',
      properties: pick(full.properties ?? {}, perms.editable),
      required: (form.schema.required ?? []).filter((f) => perms.editable.includes(f)),
      additionalProperties: false,
      ...(rules.length ? { allOf: rules } : {}),
    }
    const box = properties.opinion
    return {
      key,
      version: form.version,
      title: form.title,
      schema,
      data: Object.fromEntries(Object.entries(data ?? {}).filter(([f]) => !perms.hidden.includes(f))),
      ...perms,
      labels: pick(form.labels, [...perms.editable, ...perms.readOnly]),
      opinion: box ? { box, label: form.boxes.get(box) ?? box, blankSignature: properties.blankSignature === 'unit' ? 'unit' : null } : null,
    }
  }

  /**
   * Checks a step's submission and answers the 笺 as it will stand. A field outside the 笺 is 400;
   * a field the step may not edit (read-only or hidden) is 403 naming it; then the fields this step
   * edits must be valid in the merged 笺 (400, one Chinese message per field). Nothing is written.
   */
  validateStep(key: string, version: number | null | undefined, properties: StepProperties, current: Data, submitted: Data): Data
  /** @deprecated use validateStep(key, version, step.properties, current, submitted). */
  validateStep(key: string, editable: string[], current: Data, submitted: Data): Data
  validateStep(key: string, ...args: unknown[]): Data {
    if (Array.isArray(args[0])) return this.validateStep(key, null, { editable: args[0].join(',') }, args[1] as Data, args[2] as Data)
    const [version, properties, current, submitted] = args as [number | null | undefined, StepProperties, Data, Data]
    const form = this.get(key, version)
    const { editable } = this.permissions(form, properties)
    const fields = Object.keys(submitted ?? {})
    const unknown = fields.filter((f) => !form.fields.includes(f))
    if (unknown.length) throw fail('FORM_INVALID', `笺“${form.title}”中没有字段：${unknown.join('、')}`, unknown.map((f) => ({ field: f, message: `笺中没有字段“${f}”` })))
    refuseSystemFields(form, fields)
    const forbidden = fields.filter((f) => !editable.includes(f))
    if (forbidden.length) {
      const names = forbidden.map((f) => `“${form.labels[f]}”`).join('、')
      throw fail('FIELD_FORBIDDEN', `此步骤无权修改${names}`, forbidden.map((f) => ({ field: f, message: `此步骤无权修改“${form.labels[f]}”` })))
    }
    if (!editable.length) return { ...current }
    const merged = { ...current, ...submitted }
    if (!form.validateFull(merged)) {
      // Only what this step edits is its to fix; other steps answer for their own fields.
      const found = problems(form.labels, form.validateFull.errors ?? [], (f) => editable.includes(f))
      if (found.length) throw fail('FORM_INVALID', found.map((p) => p.message).join('；'), found)
    }
    return merged
  }

  /** Validates a new document's first draft against the current version: a title and well-typed fields. */
  validateDraft(key: string, data: Data): void {
    const form = this.get(key)
    refuseSystemFields(form, Object.keys(data ?? {}))
    if (!form.validateDraft(data)) {
      const found = problems(form.labels, form.validateDraft.errors ?? [])
      throw fail('FORM_INVALID', found.map((p) => p.message).join('；'), found)
    }
  }

  /**
   * A step with an opinion box needs an opinion, unless its `blankSignature` header is `unit` and
   * the unit allows 空白签名 (units.allow_blank_signature). Answers whether this is a blank signature.
   */
  checkOpinion(properties: StepProperties, opinion: string | null | undefined, unitAllowsBlank: boolean): { blankSignature: boolean } {
    if (opinion?.trim() || !properties.opinion) return { blankSignature: false }
    if (properties.blankSignature === 'unit' && unitAllowsBlank) return { blankSignature: true }
    const why = properties.blankSignature === 'unit' ? '本单位不允许空白签名' : '此步骤不允许空白签名'
    throw fail('FORM_INVALID', `请填写意见（${why}）`, [{ field: 'opinion', message: `请填写意见（${why}）` }])
  }

  /** @deprecated use stepView(key, version, step.properties, data).schema. */
  stepSchema(key: string, editable: string[]): Schema {
    return this.stepView(key, null, { editable: editable.join(',') }, {}).schema
  }

  /** The 笺 as an HTML page (screen, or print when `print`). */
  render(form: FormVersion, ctx: JianContext, opts: { print: boolean }): Promise<string> {
    return renderJian(form, ctx, { ...opts, css: this.css })
  }

  /** Closes the PDF browser, if one was started; safe to call more than once. */
  close(): Promise<void> {
    return this.printer.close()
  }

  private inline(form: FormVersion): Schema {
    let schema = this.inlined.get(form)
    if (!schema) this.inlined.set(form, (schema = inline(form.schema, form.source.common)))
    return schema
  }
}

/** Every field a cross-field rule mentions (under properties or required, at any depth). */
function fieldsOf(rule: unknown): string[] {
  if (!rule || typeof rule !== 'object') return []
  const r = rule as Schema
  const own = [...Object.keys(r.properties ?? {}), ...(Array.isArray(r.required) ? r.required : [])]
  return [...new Set([...own, ...Object.values(r).flatMap((v) => (typeof v === 'object' ? fieldsOf(v) : []))])]
}

/**
 * Fields the system fills (readOnly in the 笺 schema, e.g. 收文时间 set once at 签收/登记) are
 * nobody's to send: a client that sends one is refused naming it, whatever the step may edit.
 */
function refuseSystemFields(form: { systemFields: string[]; labels: Record<string, string> }, fields: string[]): void {
  const sent = fields.filter((f) => form.systemFields.includes(f))
  if (!sent.length) return
  throw fail('FORM_INVALID', `${sent.map((f) => `“${form.labels[f] ?? f}”`).join('、')}由系统填写，不能提交`, sent.map((f) => ({ field: f, message: `“${form.labels[f] ?? f}”由系统填写，不能提交` })))
}
