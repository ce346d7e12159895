// 步骤设置: for the selected user task, the 笺, the role, who picks the handler, the opinion box and
// each field's permission (可编辑 / 只读 / 隐藏), all chosen from lists, never typed.
import { useEffect, useState } from 'preact/hooks'
import { get } from '../../lib/api.ts'
import { roleLabels } from '../../lib/format.ts'
import { BindingWriter, CHOSEN_HANDLER, permissionOf, readBinding, type Permission } from './binding.ts'

/** Roles a step may be offered to (the server checks the same list). */
export const stepRoles = ['drafter', 'dept_head', 'office_reviewer', 'office_head', 'leader', 'registry']
const permissionLabels: Record<Permission, string> = { editable: '可编辑', readonly: '只读', hidden: '隐藏' }

export interface FormInfo {
  key: string
  title: string
}
interface FormDescription {
  schema: { properties?: Record<string, { title?: string }> }
  boxes: Array<{ id: string; label: string }>
}

const described = new Map<string, Promise<FormDescription>>()
function describe(key: string): Promise<FormDescription> {
  let d = described.get(key)
  if (!d) {
    d = get<FormDescription>(`/forms/${encodeURIComponent(key)}`)
    d.catch(() => described.delete(key))
    described.set(key, d)
  }
  return d
}

interface Props {
  modeler: any
  element: any
  forms: FormInfo[]
  /** Changes whenever the diagram changes, so the panel re-reads the binding (undo included). */
  revision: number
}

export function BindingPanel({ modeler, element, forms, revision }: Props) {
  const binding = readBinding(element)
  const [form, setForm] = useState<FormDescription | null>(null)
  const [error, setError] = useState<string | null>(null)
  const write = new BindingWriter(modeler, element)

  useEffect(() => {
    setForm(null)
    setError(null)
    if (binding.form && forms.some((f) => f.key === binding.form)) describe(binding.form).then(setForm, (e) => setError(e.message))
  }, [binding.form, forms])

  const fields = Object.entries(form?.schema.properties ?? {}).map(([name, s]) => ({ name, label: s.title ?? name, known: true }))
  // Fields the binding properties name but the 笺 lacks: shown so the admin sees and removes them.
  const strays = [...binding.editable, ...binding.hidden].filter((f) => form && !fields.some((x) => x.name === f))
  const groupsIsRole = !binding.groups || stepRoles.includes(binding.groups)
  void revision

  return (
    <section class="card binding-panel" aria-label="步骤设置" data-element={element.id}>
      <h2>步骤设置：{element.businessObject.name || element.id}</h2>
      <label class="field-label" for="binding-form">笺</label>
      <select id="binding-form" value={binding.form ?? ''} onChange={(e) => write.form((e.currentTarget as HTMLSelectElement).value)}>
        {!binding.form && <option value="">请选择笺</option>}
        {binding.form && !forms.some((f) => f.key === binding.form) && <option value={binding.form}>{binding.form}（不存在）</option>}
        {forms.map((f) => <option key={f.key} value={f.key}>{f.title}（{f.key}）</option>)}
      </select>

      <label class="field-label" for="binding-role">办理角色</label>
      <select id="binding-role" value={binding.groups ?? ''} onChange={(e) => write.role((e.currentTarget as HTMLSelectElement).value)}>
        {!binding.groups && <option value="">请选择角色</option>}
        {!groupsIsRole && <option value={binding.groups!}>按表达式：{binding.groups}</option>}
        {stepRoles.map((r) => <option key={r} value={r}>{roleLabels[r] ?? r}（{r}）</option>)}
      </select>
      <label class="choice">
        <input id="binding-chosen" type="checkbox" checked={binding.assignee === CHOSEN_HANDLER} disabled={!!binding.assignee && binding.assignee !== CHOSEN_HANDLER}
          onChange={(e) => write.handlerChosen((e.currentTarget as HTMLInputElement).checked)} />
        由上一步指定办理人（不指定时交给该角色的所有人员）
      </label>
      {binding.assignee && binding.assignee !== CHOSEN_HANDLER && <p class="hint">办理人按表达式确定：<code>{binding.assignee}</code></p>}

      {error && <p class="alert error">{error}</p>}
      {form && (
        <>
          <label class="field-label" for="binding-opinion">意见栏</label>
          <select id="binding-opinion" value={binding.opinion ?? ''} onChange={(e) => write.opinion((e.currentTarget as HTMLSelectElement).value || null)}>
            <option value="">无意见栏</option>
            {binding.opinion && !form.boxes.some((b) => b.id === binding.opinion) && <option value={binding.opinion}>{binding.opinion}（笺中没有）</option>}
            {form.boxes.map((b) => <option key={b.id} value={b.id}>{b.label}</option>)}
          </select>
          {binding.opinion && <p class="hint">有意见栏的步骤，办理时须填写意见。</p>}
          <table class="list compact perms">
            <thead><tr><th>笺的字段</th><th>本步骤</th></tr></thead>
            <tbody>
              {[...fields, ...strays.map((name) => ({ name, label: `${name}（不是此笺的字段）`, known: false }))].map((f) => (
                <tr key={f.name} class={f.known ? undefined : 'stray'}>
                  <td><label for={`perm-${f.name}`}>{f.label}</label></td>
                  <td>
                    <select id={`perm-${f.name}`} name={`perm-${f.name}`} data-field={f.name} value={permissionOf(binding, f.name)}
                      onChange={(e) => write.permission(binding, f.name, (e.currentTarget as HTMLSelectElement).value as Permission)}>
                      {(Object.keys(permissionLabels) as Permission[]).map((p) => <option key={p} value={p}>{permissionLabels[p]}</option>)}
                    </select>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  )
}
