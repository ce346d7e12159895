// The track page's 列入督办 form for the office: a supervisor of the unit and a due date.
import { useState } from 'preact/hooks'
import { useDirectory } from './fields.tsx'
import { Notice, Problem } from './shell.tsx'
import { currentUser, post } from '../lib/api.ts'

const OFFICE_ROLES = ['office_head', 'office_reviewer', 'registry']

export function SupervisionMark({ documentId, finished }: { documentId: string; finished: boolean }) {
  const me = currentUser()
  const dir = useDirectory()
  const [open, setOpen] = useState(false)
  const [form, setForm] = useState({ supervisorId: '', dueDate: '', note: '' })
  const [error, setError] = useState<unknown>(null)
  const [notice, setNotice] = useState<string | null>(null)
  if (finished || !me || !OFFICE_ROLES.some((r) => me.roles.includes(r))) return null
  const set = (field: keyof typeof form) => (e: Event) => setForm({ ...form, [field]: (e.currentTarget as HTMLInputElement).value })
  const submit = async (e: Event) => {
    e.preventDefault()
    setError(null)
    try {
      const item: any = await post(`/documents/${documentId}/supervision`, { supervisorId: form.supervisorId, dueDate: form.dueDate, note: form.note.trim() || null })
      setNotice(`已列入督办，督办人 ${item.supervisorName}，办结期限 ${item.dueDate}。`)
      setOpen(false)
    } catch (err) {
      setError(err)
    }
  }
  return (
    <section class="card supervision" aria-label="督办">
      <h2>督办</h2>
      <Notice text={notice} />
      <Problem error={error} />
      {!open ? <button type="button" class="small" onClick={() => setOpen(true)}>列入督办……</button> : (
        <form aria-label="列入督办" onSubmit={submit}>
          <label>督办人<select name="supervisorId" value={form.supervisorId} onChange={set('supervisorId')} required>
            <option value="">请选择</option>
            {dir.people.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
          </select></label>
          <label>办结期限<input name="dueDate" type="date" value={form.dueDate} onInput={set('dueDate')} required /></label>
          <label>督办要求<input name="note" maxLength={500} value={form.note} onInput={set('note')} /></label>
          <div class="actions"><button type="submit" class="primary">列入督办</button><button type="button" class="link" onClick={() => setOpen(false)}>取消</button></div>
        </form>
      )}
      <p class="muted small"><a href="/app/supervision">查看督办事项</a></p>
    </section>
  )
}
