// 传阅 in the pages: the 待阅/已阅 list of the inbox, and the track page's panel where a reader
// marks 已阅, the sender sees each reader's 已阅/未阅 and urges (催阅), and a handler sends it.
import { useEffect, useState } from 'preact/hooks'
import { useDirectory } from './fields.tsx'
import { Notice, Problem, Urgency } from './shell.tsx'
import { get, post } from '../lib/api.ts'
import { formatTime, kindLabels } from '../lib/format.ts'
import '../styles/reading.css'

/** The inbox's 待阅 tab: documents sent to me for reading. */
export function ReadingTable({ items }: { items: any[] }) {
  return (
    <table class="list reading">
      <thead>
        <tr><th>紧急程度</th><th>类型</th><th>标题</th><th>传阅人</th><th>附言</th><th>传阅时间</th><th>状态</th></tr>
      </thead>
      <tbody>
        {items.map((r) => (
          <tr key={r.id} data-reading={r.id} data-document={r.documentId}>
            <td data-label="紧急程度"><Urgency value={r.urgency} /></td>
            <td data-label="类型">{kindLabels[r.documentKind] ?? r.documentKind}</td>
            <td class="title-cell">
              <a href={`/app/track/${r.documentId}`}>{r.title}</a>
              {r.docNumber && <div class="muted small">{r.docNumber}</div>}
            </td>
            <td data-label="传阅人">{r.senderName}</td>
            <td data-label="附言">{r.note ?? <span class="muted">—</span>}</td>
            <td data-label="传阅时间">{formatTime(r.sentAt)}</td>
            <td data-label="状态">
              {r.readAt ? <span class="receipt signed">已阅</span> : <span class="receipt">待阅</span>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

/** The track page's 传阅 card; renders nothing for someone with no part in any circulation who may not send. */
export function CirculationPanel({ documentId, onChange }: { documentId: string; onChange?: () => void }) {
  const [data, setData] = useState<any>(null)
  const [error, setError] = useState<unknown>(null)
  const [notice, setNotice] = useState<string | null>(null)
  const [reload, setReload] = useState(0)
  useEffect(() => {
    get(`/documents/${documentId}/circulations`).then(setData, setError)
  }, [documentId, reload])
  if (!data) return error ? <Problem error={error} /> : null
  if (!data.maySend && data.sent.length === 0 && data.mine.length === 0) return null
  const act = async (what: () => Promise<unknown>, text: string) => {
    setError(null)
    setNotice(null)
    try {
      await what()
      setNotice(text)
      setReload((n) => n + 1)
      onChange?.()
    } catch (err) {
      setError(err)
    }
  }
  return (
    <section class="card circulation" aria-label="传阅">
      <h2>传阅</h2>
      <Notice text={notice} />
      <Problem error={error} />
      {data.mine.map((m: any) => <MyReading key={m.id} item={m} onRead={(comment) => act(() => post(`/reading/${m.id}/read`, { comment: comment || null }), '已标为已阅。')} />)}
      {data.sent.map((c: any) => (
        <div key={c.id} class="circulation-sent" data-circulation={c.id}>
          <p class="muted small">
            {formatTime(c.sentAt)} 传阅{c.note ? `，附言：${c.note}` : ''}（已阅 {c.readCount} / {c.readers.length}）
          </p>
          <table class="list compact readers">
            <thead><tr><th>传阅对象</th><th>状态</th><th>阅读时间</th><th>意见</th></tr></thead>
            <tbody>
              {c.readers.map((r: any) => (
                <tr key={r.userId} data-reader={r.userId}>
                  <td data-label="传阅对象">{r.name}{r.viaDepartment ? <span class="muted small">（{r.viaDepartment}）</span> : null}</td>
                  <td data-label="状态"><span class={r.readAt ? 'receipt signed' : 'receipt'}>{r.status}</span></td>
                  <td data-label="阅读时间">{formatTime(r.readAt) || <span class="muted">—</span>}</td>
                  <td data-label="意见">{r.comment ?? <span class="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {c.readCount < c.readers.length && (
            <button type="button" class="small" onClick={() => act(() => post(`/circulations/${c.id}/urge`), '已催阅尚未阅的人员。')}>催阅</button>
          )}
        </div>
      ))}
      {data.maySend && <SendForm documentId={documentId} onSent={() => act(async () => undefined, '已传阅。')} onError={setError} />}
    </section>
  )
}

function MyReading({ item, onRead }: { item: any; onRead: (comment: string) => void }) {
  const [comment, setComment] = useState('')
  if (item.readAt) {
    return <p class="my-reading">您已于 {formatTime(item.readAt)} 阅{item.comment ? `，意见：${item.comment}` : ''}。</p>
  }
  return (
    <form class="my-reading" aria-label="阅知" onSubmit={(e) => { e.preventDefault(); onRead(comment.trim()) }}>
      <p>{item.senderName} 传阅给您{item.note ? `：${item.note}` : ''}</p>
      <textarea name="comment" rows={2} maxLength={2000} placeholder="阅读意见（可不填）" value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
      <button type="submit" class="primary">标为已阅</button>
    </form>
  )
}

function SendForm({ documentId, onSent, onError }: { documentId: string; onSent: () => void; onError: (err: unknown) => void }) {
  const dir = useDirectory()
  const [people, setPeople] = useState<string[]>([])
  const [departments, setDepartments] = useState<string[]>([])
  const [note, setNote] = useState('')
  const [open, setOpen] = useState(false)
  const chosen = (e: Event) => [...(e.currentTarget as HTMLSelectElement).selectedOptions].map((o) => o.value)
  if (!open) return <button type="button" class="small" onClick={() => setOpen(true)}>传阅……</button>
  const send = async (e: Event) => {
    e.preventDefault()
    try {
      await post(`/documents/${documentId}/circulations`, { people, departments, note: note.trim() || null })
      setPeople([])
      setDepartments([])
      setNote('')
      setOpen(false)
      onSent()
    } catch (err) {
      onError(err)
    }
  }
  return (
    <form class="circulate" aria-label="发起传阅" onSubmit={send}>
      <label>传阅人员<select name="people" multiple size={5} onChange={(e) => setPeople(chosen(e))}>
        {dir.people.map((p) => <option key={p.id} value={p.id} selected={people.includes(p.id)}>{p.name}</option>)}
      </select></label>
      <label>传阅部门（部门内全部人员）<select name="departments" multiple size={4} onChange={(e) => setDepartments(chosen(e))}>
        {dir.departments.map((d) => <option key={d.id} value={d.id} selected={departments.includes(d.id)}>{d.name}</option>)}
      </select></label>
      <label>附言<input name="note" maxLength={500} value={note} onInput={(e) => setNote(e.currentTarget.value)} /></label>
      <div class="actions">
        <button type="submit" class="primary">发送传阅</button>
        <button type="button" class="link" onClick={() => setOpen(false)}>取消</button>
      </div>
    </form>
  )
}
