// The 笺's fields from its JSON Schema: an input for each field the step may edit, the value as
// text for the ones it may only read. Units and people are chosen from lists, never typed.
import { useEffect, useState } from 'preact/hooks'
import { get } from '../lib/api.ts'
import { formatDay, formatTime } from '../lib/format.ts'
import { RecipientPicker } from './recipient-picker.tsx'

export type Schema = Record<string, any>
export interface Directory {
  units: Array<{ id: string; name: string }>
  people: Array<{ id: string; name: string; department: string | null }>
  departments: Array<{ id: string; name: string }>
}

let directory: Promise<Directory> | null = null
/** The unit list, the caller's colleagues and departments, loaded once per page. */
export function useDirectory(): Directory {
  const [dir, setDir] = useState<Directory>({ units: [], people: [], departments: [] })
  useEffect(() => {
    directory ??= Promise.all([get('/units'), get('/people'), get('/departments')]).then(([units, people, departments]) => ({ units, people, departments }))
    directory.then(setDir, () => undefined)
  }, [])
  return dir
}

const picker = (s: Schema) => (s?.['x-picker'] ?? s?.items?.['x-picker']) as string | undefined
/** The list a picker chooses from, or undefined for a field typed by hand. */
const options = (dir: Directory, kind: string | undefined) =>
  kind === 'unit' ? dir.units : kind === 'person' ? dir.people : kind === 'department' ? dir.departments : undefined

function nameOf(dir: Directory, kind: string | undefined, id: unknown): string {
  const list = options(dir, kind) ?? []
  return list.find((x) => x.id === id)?.name ?? String(id)
}

/** A value as the 笺 shows it. */
export function display(schema: Schema, value: unknown, dir: Directory): string {
  if (value === undefined || value === null || value === '') return ''
  if (Array.isArray(value)) {
    return value.map((v) => (typeof v === 'object' && v ? (v.name ?? v.versionId) : nameOf(dir, picker(schema), v))).join('、')
  }
  if (schema?.format === 'date-time') return formatTime(String(value))
  if (schema?.format === 'date') return formatDay(String(value))
  if (typeof value === 'boolean') return value ? '是' : '否'
  return picker(schema) ? nameOf(dir, picker(schema), value) : String(value)
}

interface FieldProps {
  name: string
  schema: Schema
  label: string
  value: unknown
  required?: boolean
  editable: boolean
  error?: string
  dir: Directory
  onChange?: (value: unknown) => void
}

export function Field({ name, schema, label, value, required, editable, error, dir, onChange }: FieldProps) {
  const id = `f-${name}`
  const head = (
    <label class="field-label" for={editable ? id : undefined}>
      {label}{editable && required && <span class="req" aria-label="必填">*</span>}
    </label>
  )
  if (!editable) {
    const text = display(schema, value, dir)
    const long = typeof value === 'string' && value.length > 60
    return (
      <div class={`field readonly${long ? ' wide' : ''}`} data-field={name}>
        {head}
        <div class="field-value">{text || <span class="muted">（未填）</span>}</div>
      </div>
    )
  }
  return (
    <div class={`field${isLong(schema) || Array.isArray(value) || schema.type === 'array' ? ' wide' : ''}${error ? ' invalid' : ''}`} data-field={name}>
      {head}
      <Input id={id} name={name} schema={schema} value={value} dir={dir} onChange={onChange!} />
      {schema.description && <small class="hint">{schema.description}</small>}
      {error && <small class="field-error">{error}</small>}
    </div>
  )
}

const isLong = (s: Schema) => s.type === 'string' && !s.enum && !s.format && (s.maxLength ?? 0) > 500

function Input({ id, name, schema, value, dir, onChange }: { id: string; name: string; schema: Schema; value: unknown; dir: Directory; onChange: (v: unknown) => void }) {
  const text = (e: Event) => (e.currentTarget as HTMLInputElement).value
  const kind = picker(schema)
  if (schema.type === 'array' && kind === 'unit') return <RecipientPicker id={id} name={name} value={value} units={dir.units} onChange={onChange} />
  if (schema.type === 'array' && options(dir, kind)) {
    const choices = options(dir, kind)!
    const chosen = new Set(Array.isArray(value) ? (value as string[]) : [])
    const toggle = (optionId: string, on: boolean) => {
      const next = choices.map((o) => o.id).filter((x) => (x === optionId ? on : chosen.has(x)))
      onChange(next.length ? next : undefined)
    }
    return (
      <div class="choices" id={id} role="group" aria-label={name}>
        {choices.map((o) => (
          <label key={o.id} class="choice">
            <input type="checkbox" name={name} value={o.id} checked={chosen.has(o.id)} onChange={(e) => toggle(o.id, (e.currentTarget as HTMLInputElement).checked)} />
            {o.name}
          </label>
        ))}
      </div>
    )
  }
  if (schema.type === 'array') {
    // A list with no directory to pick from: ids, separated by commas.
    const list = Array.isArray(value) ? (value as string[]).join(',') : ''
    return <input id={id} name={name} value={list} placeholder="编号，多个以逗号分隔" onInput={(e) => { const v = text(e).split(/[,，、\s]+/).filter(Boolean); onChange(v.length ? v : undefined) }} />
  }
  if (schema.enum || options(dir, kind)) {
    const choices: Array<{ id: string; name: string }> = schema.enum ? (schema.enum as string[]).map((v) => ({ id: v, name: v })) : options(dir, kind)!
    return (
      <select id={id} name={name} value={(value as string) ?? ''} onChange={(e) => onChange(text(e) || undefined)}>
        <option value="">请选择</option>
        {choices.map((o) => <option key={o.id} value={o.id}>{o.name}</option>)}
      </select>
    )
  }
  if (schema.type === 'boolean') {
    return <input id={id} type="checkbox" name={name} checked={value === true} onChange={(e) => onChange((e.currentTarget as HTMLInputElement).checked)} />
  }
  if (schema.format === 'date') {
    return <input id={id} type="date" name={name} value={(value as string) ?? ''} onInput={(e) => onChange(text(e) || undefined)} />
  }
  if (isLong(schema)) {
    return <textarea id={id} name={name} rows={6} value={(value as string) ?? ''} onInput={(e) => onChange(text(e) || undefined)} />
  }
  return <input id={id} name={name} value={(value as string) ?? ''} maxLength={schema.maxLength} onInput={(e) => onChange(text(e) || undefined)} />
}

/** The fields in order: editable ones as inputs, read-only ones as text; hidden ones never arrive. */
export function FieldList(props: {
  order: string[]
  schema: Schema
  labels: Record<string, string>
  editable: string[]
  values: Record<string, unknown>
  required: string[]
  error?: (field: string) => string | undefined
  dir: Directory
  onChange?: (field: string, value: unknown) => void
  fullSchema?: Record<string, Schema>
}) {
  return (
    <div class="fields">
      {props.order.map((name) => {
        const editable = props.editable.includes(name)
        const schema = props.schema.properties?.[name] ?? props.fullSchema?.[name] ?? {}
        return (
          <Field
            key={name}
            name={name}
            schema={schema}
            label={props.labels[name] ?? schema.title ?? name}
            value={props.values[name]}
            required={props.required.includes(name)}
            editable={editable}
            error={props.error?.(name)}
            dir={props.dir}
            onChange={(v) => props.onChange?.(name, v)}
          />
        )
      })}
    </div>
  )
}
