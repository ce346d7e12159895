// 督办 (/app/supervision): the supervised documents with their state (在办 / 已超期 / 已办结), and
// per item its record (催办, 反馈, 超期督办) with 催办 for the supervisor and 反馈 for the handlers.
import { useEffect, useState } from 'preact/hooks'
import { Notice, Problem, Shell, mount } from '../components/shell.tsx'
import { get, post, query } from '../lib/api.ts'
import { formatTime, kindLabels, params } from '../lib/format.ts'
import '../styles/reading.css'

const states = ['', '在办', '已超期', '已办结'] as const
const stateClass: Record<string, string> = { 在办: 'light-green', 已超期: 'light-red', 已办结: 'muted' }
const eventLabels: Record<string, string> = { urge: '催办', reply: '反馈', escalation: '超期督办' }

function SupervisionPage() {
  const [state, setState] = useState<string>(params().state ?? '')
  const [data, setData] = useState<{ total: number; items: any[] } | null>(null)
  const [open, setOpen] = useState<string | null>(null)
  const [error, setError] = useState<unknown>(null)
  const [reload, setReload] = useState(0)
  // A reload after 催办 or 反馈 keeps the list (and the open item with its notice) on the page
  // while it fetches; only a change of tab shows loading.
  useEffect(() => {
    setError(null)
    let latest = true
    get(`/supervision${query({ state, limit: 200 })}`).then((d) => latest && setData(d), (e) => latest && setError(e))
    return () => { latest = false }
  }, [state, reload])
  return (
    <Shell active="supervision">
      <div class="inbox-head">
        <div class="tabs" role="tablist">
          {states.map((s) => (
            <button key={s} type="button" role="tab" aria-selected={s === state} class={s === state ? 'tab active' : 'tab'} onClick={() => { setState(s); setOpen(null); setData(null) }}>
              {s || '全部'}{s === state && data ? <span class="count">{data.total}</span> : null}
            </button>
          ))}
        </div>
      </div>
      <Problem error={error} />
      {!data ? (!error && <p class="muted">正在加载……</p>) : data.items.length === 0 ? <p class="empty">没有{state || ''}督办事项。</p> : (
        <table class="list supervision-list">
          <thead><tr><th>状态</th><th>类型</th><th>标题</th><th>督办人</th><th>办结期限</th><th>列入时间</th><th /></tr></thead>
          <tbody>
            {data.items.flatMap((i) => [
              <tr key={i.id} data-supervision={i.id} data-document={i.documentId}>
                <td data-label="状态"><span class={`state ${stateClass[i.state] ?? ''}`}>{i.state}</span></td>
                <td data-label="类型">{kindLabels[i.documentKind] ?? i.documentKind}</td>
                <td class="title-cell"><a href={`/app/track/${i.documentId}`}>{i.title}</a>{i.note && <div class="muted small">{i.note}</div>}</td>
                <td data-label="督办人">{i.supervisorName}</td>
                <td data-label="办结期限">{i.dueDate}</td>
                <td data-label="列入时间">{formatTime(i.createdAt)}</td>
                <td class="row-actions"><button type="button" class="small" onClick={() => setOpen(open === i.id ? null : i.id)}>{open === i.id ? '收起' : '详情'}</button></td>
              </tr>,
              open === i.id ? <tr key={`${i.id}-detail`} class="detail"><td colSpan={7}><Detail id={i.id} onChange={() => setReload((n) => n + 1)} /></td></tr> : null,
            ])}
          </tbody>
        </table>
      )}
    </Shell>
  )
}

function Detail({ id, onChange }: { id: string; onChange: () => void }) {
  const [item, setItem] = useState<any>(null)
  const [text, setText] = useState('')
  const [error, setError] = useState<unknown>(null)
  const [notice, setNotice] = useState<string | null>(null)
  const load = () => get(`/supervision/${id}`).then(setItem, setError)
  useEffect(() => { load() }, [id])
  if (!item) return <Problem error={error} />
  const send = async (kind: 'urge' | 'reply') => {
    setError(null)
    setNotice(null)
    try {
      const res: any = kind === 'urge' ? await post(`/supervision/${id}/urge`, { text: text.trim() || null }) : await post(`/supervision/${id}/replies`, { text })
      setNotice(kind === 'urge' ? `已催办（通知 ${res.notified} 人）。` : '已反馈。')
      setText('')
      await load()
      onChange()
    } catch (err) {
      setError(err)
    }
  }
  return (
    <section class="supervision" aria-label="督办详情">
      <p class="muted small">当前步骤：{item.currentSteps.join('、') || '无'}{item.escalatedAt ? `；${formatTime(item.escalatedAt)} 已超期督办` : ''}</p>
      {item.events.length === 0 ? <p class="muted">尚无催办和反馈记录。</p> : (
        <ol class="log">
          {item.events.map((e: any) => (
            <li key={e.id} data-event={e.kind}>
              <div class="log-head"><span class="log-step">{eventLabels[e.kind] ?? e.kind}</span><span class="log-actor">{e.actorName}</span></div>
              {e.text && <div class="log-opinion">{e.text}</div>}
              <div class="log-meta"><time dateTime={e.at}>{formatTime(e.at)}</time></div>
            </li>
          ))}
        </ol>
      )}
      <Notice text={notice} />
      <Problem error={error} />
      {(item.mayUrge || item.mayReply) && item.state !== '已办结' && (
        <form aria-label="催办与反馈" onSubmit={(e) => e.preventDefault()}>
          <textarea name="text" rows={2} maxLength={2000} placeholder={item.mayReply ? '反馈办理情况' : '催办要求（可不填）'} value={text} onInput={(e) => setText(e.currentTarget.value)} />
          <div class="actions">
            {item.mayUrge && <button type="button" onClick={() => send('urge')}>催办</button>}
            {item.mayReply && <button type="button" class="primary" onClick={() => send('reply')}>反馈</button>}
          </div>
        </form>
      )}
    </section>
  )
}

mount(SupervisionPage)
