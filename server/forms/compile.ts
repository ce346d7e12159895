// One version of one 笺, compiled once: its ajv validators (the 笺 and its first draft), field
// labels and permissions the schema itself fixes, and its Handlebars template with the opinion
// boxes it declares.
import { createHash } from 'node:crypto'
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import Handlebars from 'handlebars'
import { strictDateFormat } from '../plugins/input.ts'
import { jianHandlebars } from './render.ts'

export type Schema = {
  $id?: string
  title?: string
  $ref?: string
  readOnly?: boolean
  properties?: Record<string, Schema>
  required?: string[]
  allOf?: Schema[]
  [k: string]: unknown
}

/** What a version is made of, as read from forms/ or from the form_versions table. */
export interface FormSource {
  key: string
  schema: Schema
  common: Schema
  template: string
}

export type Picker = 'person' | 'unit' | 'department' | 'document'

export interface FormVersion {
  key: string
  /** 0 for the files on disk before the registry has synced with the database. */
  version: number
  hash: string
  title: string
  /** The 笺's schema as written (with $refs to the common definitions). */
  schema: Schema
  source: FormSource
  /** Top-level fields in schema order, with their Chinese labels. */
  fields: string[]
  labels: Record<string, string>
  /** Fields marked readOnly in the schema: filled by the system, editable by no step. */
  systemFields: string[]
  /** Fields holding ids of people, units or departments (for showing names). */
  pickers: Record<string, Picker>
  /** Opinion boxes the template declares with {{opinionBox "id" "label"}}, in order. */
  boxes: Map<string, string>
  validateFull: ValidateFunction
  validateDraft: ValidateFunction
  template: HandlebarsTemplateDelegate
}

type Ajv = InstanceType<typeof Ajv2020.default>
const AjvClass = Ajv2020 as unknown as typeof Ajv2020.default

export function hashSource(texts: { schema: string; template: string; common: string }): string {
  const h = createHash('sha256')
  for (const part of [texts.schema, texts.template, texts.common]) h.update(`${Buffer.byteLength(part)}:`).update(part)
  return h.digest('hex')
}

export function compileForm(source: FormSource, version: number, hash: string): FormVersion {
  // One ajv per version: versions share $ids, and an old version must keep its old common defs.
  const ajv: Ajv = new AjvClass({ allErrors: true, strict: false })
  ;(addFormats as unknown as (a: Ajv) => void)(ajv)
  strictDateFormat(ajv) // a 笺's dates too are real dates of 1900–2999
  ajv.addSchema(source.common)
  const schema = source.schema
  const properties = schema.properties ?? {}
  // A first draft needs only a title; each field's type is still checked. The cross-field rules
  // (allOf) and the other required fields wait for the step that edits them.
  const draft: Schema = { ...schema, $id: (schema.$id ?? source.key).replace(/schema\.json$/, 'draft.json'), required: ['title'] }
  delete draft.allOf
  const fields = Object.keys(properties)
  const labels = Object.fromEntries(fields.map((f) => [f, properties[f].title ?? f]))
  return {
    key: source.key,
    version,
    hash,
    title: schema.title ?? source.key,
    schema,
    source,
    fields,
    labels,
    systemFields: fields.filter((f) => properties[f].readOnly === true),
    pickers: Object.fromEntries(fields.flatMap((f) => {
      const picker = pickerOf(properties[f], source.common)
      return picker ? [[f, picker]] : []
    })),
    boxes: opinionBoxes(source.template, source.key),
    validateFull: ajv.compile(schema),
    validateDraft: ajv.compile(draft),
    template: jianHandlebars.compile(source.template),
  }
}

/** A property $ref'ing a person/unit/department def (or a list of them) holds ids to show as names. */
function pickerOf(prop: Schema, common: Schema): Picker | null {
  const def = commonDef(prop.$ref, common)
  const item = def?.items ? commonDef((def.items as Schema).$ref, common) ?? (def.items as Schema) : def
  const picker = item?.['x-picker']
  return ['person', 'unit', 'department', 'document'].includes(picker as string) ? (picker as Picker) : null
}

function commonDef(ref: string | undefined, common: Schema): Schema | null {
  const m = /common\.schema\.json#\/\$defs\/(.+)$|^#\/\$defs\/(.+)$/.exec(ref ?? '')
  const defs = (common.$defs ?? {}) as Record<string, Schema>
  return m ? defs[m[1] ?? m[2]] ?? null : null
}

/**
 * The schema made self-contained for clients: each $ref to the common definitions replaced by
 * the definition, the property's own keywords (its Chinese title) winning. `x-picker` stays, to
 * tell a client which picker (person, unit, department, document) a field needs.
 */
export function inline(schema: Schema, common: Schema): Schema {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk)
    if (!node || typeof node !== 'object') return node
    const { $ref, ...rest } = node as Schema
    const out: Schema = {}
    const def = $ref ? commonDef($ref, common) : null
    if (def) Object.assign(out, walk(def))
    else if ($ref) out.$ref = $ref
    for (const [k, v] of Object.entries(rest)) if (k !== '$id') out[k] = walk(v)
    return out
  }
  return walk(schema) as Schema
}

/** Reads the opinion boxes from the template's syntax tree, so they are known without rendering. */
function opinionBoxes(template: string, key: string): Map<string, string> {
  const boxes = new Map<string, string>()
  class Finder extends Handlebars.Visitor {
    MustacheStatement(node: hbs.AST.MustacheStatement): void {
      const name = (node.path as hbs.AST.PathExpression).original
      if (name === 'opinionBox') {
        const [id, label] = node.params as hbs.AST.StringLiteral[]
        if (id?.type !== 'StringLiteral' || label?.type !== 'StringLiteral') {
          throw new Error(`${key}/template.hbs: opinionBox takes two quoted strings, the box id and its label`)
        }
        if (boxes.has(id.value)) throw new Error(`${key}/template.hbs: opinion box ${id.value} appears twice`)
        boxes.set(id.value, label.value)
      }
      super.MustacheStatement(node)
    }
  }
  new Finder().accept(Handlebars.parse(template))
  return boxes
}
