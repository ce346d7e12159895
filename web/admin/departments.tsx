// 科室: the unit's departments with their head count; add one, rename one in place.
import { useState } from 'preact/hooks'
import { useAction } from './use-action.ts'
import { Notice, Problem, fieldError } from '../components/shell.tsx'
import { post, patch } from '../lib/api.ts'

export interface Department {
  id: string
  name: string
  peopleCount: number
}

export function Departments({ departments, onChange }: { departments: Department[]; onChange: () => Promise<unknown> }) {
  const [name, setName] = useState('')
  const [editing, setEditing] = useState<{ id: string; name: string } | null>(null)
  const { error, notice, run } = useAction(onChange)
  const add = async (e: Event) => {
    e.preventDefault()
    if (await run(() => post('/admin/departments', { name }), `已新增科室“${name.trim()}”`)) setName('')
  }
  const rename = async (e: Event) => {
    e.preventDefault()
    if (editing && (await run(() => patch(`/admin/departments/${encodeURIComponent(editing.id)}`, { name: editing.name }), `已改名为“${editing.name.trim()}”`))) setEditing(null)
  }

  return (
    <section class="card admin-section" id="departments" aria-label="科室">
      <h2>科室</h2>
      <Problem error={error} />
      <Notice text={notice} />
      <table class="list compact">
        <thead><tr><th>名称</th><th>人数</th><th /></tr></thead>
        <tbody>
          {departments.map((d) => (
            <tr key={d.id} data-id={d.id}>
              <td data-label="名称">
                {editing?.id === d.id ? (
                  <form class="inline" onSubmit={rename}>
                    <input aria-label="新名称" name="rename" value={editing.name} required maxLength={50} onInput={(e) => setEditing({ id: d.id, name: (e.currentTarget as HTMLInputElement).value })} />
                    <button type="submit" class="small primary">保存</button>
                    <button type="button" class="small" onClick={() => setEditing(null)}>取消</button>
                  </form>
                ) : d.name}
              </td>
              <td data-label="人数">{d.peopleCount}</td>
              <td class="row-actions">
                {editing?.id !== d.id && <button type="button" class="small" onClick={() => setEditing({ id: d.id, name: d.name })}>改名</button>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form class="inline-form" onSubmit={add}>
        <div class="field">
          <label class="field-label" for="department-name">新科室名称</label>
          <input id="department-name" value={name} required maxLength={50} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
          {fieldError(error, 'name') && <span class="field-error">{fieldError(error, 'name')}</span>}
        </div>
        <button type="submit" class="primary">新增科室</button>
      </form>
    </section>
  )
}
