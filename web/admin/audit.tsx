// 行为审计: the unit's trail of who did what, when and from where (logins, documents opened,
// files downloaded, 笺 printed, every flow action, admin changes), filtered by person, action and
// day, exported as CSV, and its hash chain checked: an entry deleted or edited shows where.
import { useEffect, useState } from 'preact/hooks'
import { Problem } from '../components/shell.tsx'
import { get, query, saveFrom } from '../lib/api.ts'
import { channelLabel, formatTime } from '../lib/format.ts'

interface Entry {
  id: string
  at: string
  actorId: string | null
  actorName: string | null
  channel: string | null
  ip: string | null
  action: string
  actionName?: string
  channelName?: string | null
  target: string | null
  status: number
  detail: Record<string, unknown> | null
}
interface Check { intact: boolean; checked: number; brokenAt?: { id: string; reason: string } }

const PAGE = 50

export function Audit() {
  const [filters, setFilters] = useState({ actor: '', action: '', from: '', to: '' })
  const [offset, setOffset] = useState(0)
  const [page, setPage] = useState<{ total: number; items: Entry[] } | null>(null)
  const [check, setCheck] = useState<Check | null>(null)
  const [error, setError] = useState<unknown>(null)

  const load = (at = offset) => get<{ total: number; items: Entry[] }>(`/admin/audit${query({ ...filters, limit: PAGE, offset: at })}`).then((p) => {
    setPage(p)
    setOffset(at)
    setError(null)
  }, setError)
  useEffect(() => void load(0), [])
  const field = (name: keyof typeof filters) => ({
    value: filters[name],
    onInput: (e: Event) => setFilters({ ...filters, [name]: (e.currentTarget as HTMLInputElement).value }),
  })

  return (
    <section aria-label="行为审计">
      <form class="filters audit-filters" onSubmit={(e) => { e.preventDefault(); void load(0) }}>
        <label>人员 <input name="actor" placeholder="编号或姓名" {...field('actor')} /></label>
        <label>操作 <input name="action" placeholder="如 complete、/auth/login" {...field('action')} /></label>
        <label>自 <input name="from" type="date" {...field('from')} /></label>
        <label>至 <input name="to" type="date" {...field('to')} /></label>
        <button type="submit">查询</button>
        <button type="button" onClick={() => saveFrom(`/admin/audit.csv${query(filters)}`, '行为审计.csv').catch(setError)}>导出 CSV</button>
        <button type="button" onClick={() => get<Check>('/admin/audit/verify').then(setCheck, setError)}>校验完整性</button>
      </form>
      {check && (check.intact
        ? <p class="alert ok" role="status">审计记录完整：已逐条校验 {check.checked} 条，哈希链无断点。</p>
        : <p class="alert error" role="alert">审计记录已被篡改：第 {check.brokenAt?.id} 条处断开（{check.brokenAt?.reason}）。请立即报告并保全数据库。</p>)}
      <Problem error={error} />
      {page && (
        <>
          <table class="list compact audit-table" aria-label="审计记录">
            <thead><tr><th>时间</th><th>人员</th><th>渠道</th><th>来源地址</th><th>操作</th><th>对象</th><th>结果</th><th>详情</th></tr></thead>
            <tbody>
              {page.items.map((e) => (
                <tr key={e.id} data-entry={e.id} class={e.status >= 400 ? 'refused' : ''}>
                  <td>{formatTime(e.at)}</td>
                  <td>{e.actorName ?? '—'}{e.actorId && e.actorId !== e.actorName ? <small> {e.actorId}</small> : null}</td>
                  <td>{e.channel ? e.channelName ?? channelLabel(e.channel) : '—'}</td>
                  <td>{e.ip}</td>
                  <td>{e.actionName && e.actionName !== e.action ? <span class="action-name">{e.actionName} </span> : null}<code>{e.action}</code></td>
                  <td><small>{e.target}</small></td>
                  <td>{e.status}</td>
                  <td><small>{e.detail ? JSON.stringify(e.detail) : ''}</small></td>
                </tr>
              ))}
            </tbody>
          </table>
          <p class="pager">
            共 {page.total} 条
            <button type="button" disabled={offset === 0} onClick={() => void load(Math.max(0, offset - PAGE))}>上一页</button>
            <button type="button" disabled={offset + PAGE >= page.total} onClick={() => void load(offset + PAGE)}>下一页</button>
          </p>
        </>
      )}
    </section>
  )
}
