// 待办: the lists (待办, 已办, 我的发文, 收文, 待阅) with search by title, 发文字号 and date, paging,
// 撤回 on 已办 items, and 新建 for those who may start a document.
import { useEffect, useState } from 'preact/hooks'
import { NewDocument } from '../components/new-document.tsx'
import { ReadingTable } from '../components/reading.tsx'
import { Light, Notice, Problem, Shell, Urgency, mount } from '../components/shell.tsx'
import { currentUser, get, post, query } from '../lib/api.ts'
import { formatTime, kindLabels, params, startable, statusLabels } from '../lib/format.ts'

const tabs = [
  { id: 'todo', label: '待办', path: '/tasks' },
  { id: 'done', label: '已办', path: '/tasks/done' },
  { id: 'mine', label: '我的发文', path: '/documents', fixed: { kind: 'fawen', mine: true } },
  { id: 'incoming', label: '收文', path: '/documents', fixed: { kind: 'shouwen' } },
  { id: 'reading', label: '待阅', path: '/reading' },
] as const
type TabId = (typeof tabs)[number]['id']
const pageSize = 20

interface Filters { q: string; from: string; to: string; kind: string }

function InboxPage() {
  const me = currentUser()!
  const initial = params()
  const [tab, setTab] = useState<TabId>((tabs.find((t) => t.id === initial.tab)?.id ?? 'todo') as TabId)
  const [filters, setFilters] = useState<Filters>({ q: initial.q ?? '', from: initial.from ?? '', to: initial.to ?? '', kind: initial.kind ?? '' })
  const [applied, setApplied] = useState<Filters>(filters)
  const [page, setPage] = useState(Math.max(0, Number(initial.page ?? 1) - 1))
  const [loaded, setLoaded] = useState<{ items: any[]; total: number; key: string } | null>(null)
  const [error, setError] = useState<unknown>(null)
  const [notice, setNotice] = useState<string | null>(null)
  const [creating, setCreating] = useState<(typeof startable)[number] | null>(null)
  const [reload, setReload] = useState(0)
  const current = tabs.find((t) => t.id === tab)!
  // The list shown is the answer for the tab, search and page chosen now: until it arrives the
  // page shows loading, never the previous page's rows under the new page number.
  const key = JSON.stringify([tab, applied, page, reload])
  const data = loaded?.key === key ? loaded : null

  useEffect(() => {
    const fixed = 'fixed' in current ? current.fixed : {}
    const search = { q: applied.q, from: applied.from, to: applied.to, kind: applied.kind, ...fixed, limit: pageSize, offset: page * pageSize }
    const url = new URL(location.href)
    url.search = query({ tab: tab === 'todo' ? undefined : tab, q: applied.q, from: applied.from, to: applied.to, kind: applied.kind, page: page ? page + 1 : undefined })
    history.replaceState(null, '', url)
    setError(null)
    // An answer to an earlier tab, page or search that arrives late is dropped.
    let latest = true
    get(`${current.path}${query(search)}`).then((d) => latest && setLoaded({ ...d, key }), (e) => latest && setError(e))
    return () => { latest = false }
  }, [key])

  const choose = (id: TabId) => { setTab(id); setPage(0); setNotice(null) }
  const search = (e: Event) => { e.preventDefault(); setPage(0); setApplied({ ...filters }) }
  const clear = () => { const empty = { q: '', from: '', to: '', kind: '' }; setFilters(empty); setApplied(empty); setPage(0) }
  const withdraw = async (item: any) => {
    if (!confirm(`撤回“${item.title}”？下一步办理人尚未打开时可以撤回，公文回到您的待办。`)) return
    setError(null)
    try {
      await post(`/tasks/${item.taskKey}/withdraw`, {})
      setNotice(`已撤回“${item.title}”，公文回到您的待办。`)
      setReload((n) => n + 1)
    } catch (err) {
      setError(err)
    }
  }
  const set = (field: keyof Filters) => (e: Event) => setFilters({ ...filters, [field]: (e.currentTarget as HTMLInputElement).value })
  const pages = data ? Math.max(1, Math.ceil(data.total / pageSize)) : 1
  const isTasks = tab === 'todo' || tab === 'done'

  return (
    <Shell active="inbox">
      <div class="inbox-head">
        <div class="tabs" role="tablist">
          {tabs.map((t) => (
            <button key={t.id} type="button" role="tab" aria-selected={t.id === tab} class={t.id === tab ? 'tab active' : 'tab'} onClick={() => choose(t.id)}>
              {t.label}{t.id === tab && data ? <span class="count">{data.total}</span> : null}
            </button>
          ))}
        </div>
        <div class="create">
          {startable.filter((s) => me.roles.includes(s.role)).map((s) => (
            <button key={s.kind} type="button" class="primary" onClick={() => setCreating(s)}>{s.label}</button>
          ))}
        </div>
      </div>
      {creating && <NewDocument key={creating.kind} kind={creating} onClose={() => setCreating(null)} />}
      <form class="filters" onSubmit={search} role="search">
        <input name="q" type="search" placeholder="标题或发文字号" value={filters.q} onInput={set('q')} aria-label="标题或发文字号" />
        <label class="date">自<input name="from" type="date" value={filters.from} onInput={set('from')} aria-label="起始日期" /></label>
        <label class="date">至<input name="to" type="date" value={filters.to} onInput={set('to')} aria-label="截止日期" /></label>
        {isTasks && (
          <select name="kind" value={filters.kind} onChange={set('kind')} aria-label="公文类型">
            <option value="">全部类型</option>
            {Object.entries(kindLabels).map(([k, v]) => <option key={k} value={k}>{v}</option>)}
          </select>
        )}
        <button type="submit">查询</button>
        <button type="button" class="link" onClick={clear}>清除</button>
      </form>
      <Notice text={notice} />
      <Problem error={error} />
      {!data ? (!error && <p class="muted">正在加载……</p>) : data.items.length === 0 ? <p class="empty">没有符合条件的{current.label}。</p> : tab === 'reading' ? (
        <ReadingTable items={data.items} />
      ) : isTasks ? (
        <TaskTable items={data.items} done={tab === 'done'} onWithdraw={withdraw} />
      ) : (
        <DocumentTable items={data.items} incoming={tab === 'incoming'} />
      )}
      {data && data.total > pageSize && (
        <nav class="pager" aria-label="分页">
          <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)}>上一页</button>
          <span>第 {page + 1} / {pages} 页，共 {data.total} 条</span>
          <button type="button" disabled={page + 1 >= pages} onClick={() => setPage(page + 1)}>下一页</button>
        </nav>
      )}
    </Shell>
  )
}

function TaskTable({ items, done, onWithdraw }: { items: any[]; done: boolean; onWithdraw: (item: any) => void }) {
  return (
    <table class="list">
      <thead>
        <tr>
          <th>紧急程度</th>{!done && <th>时限</th>}<th>类型</th><th>标题</th><th>步骤</th><th>来自</th><th>{done ? '办理时间' : '收到时间'}</th><th />
        </tr>
      </thead>
      <tbody>
        {items.map((t) => (
          <tr key={t.taskKey} data-task={t.taskKey} data-document={t.documentId}>
            <td data-label="紧急程度"><Urgency value={t.urgency} /></td>
            {!done && <td data-label="时限"><Light light={t.light} deadline={t.deadline} /></td>}
            <td data-label="类型">{kindLabels[t.documentKind] ?? t.documentKind}</td>
            <td class="title-cell">
              <a href={`/app/task/${t.taskKey}`}>{t.title}</a>
              {t.docNumber && <div class="muted small">{t.docNumber}</div>}
            </td>
            <td data-label="步骤">{t.stepName}{done && t.route ? <span class="muted">（{t.route}）</span> : null}</td>
            <td data-label="来自">{t.fromName ?? <span class="muted">—</span>}</td>
            <td data-label={done ? '办理时间' : '收到时间'}>{formatTime(done ? t.closedAt ?? t.createdAt : t.createdAt)}</td>
            <td class="row-actions">
              <a class="button small" href={`/app/track/${t.documentId}`}>跟踪</a>
              {done && <button type="button" class="small" onClick={() => onWithdraw(t)}>撤回</button>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function DocumentTable({ items, incoming }: { items: any[]; incoming: boolean }) {
  return (
    <table class="list">
      <thead>
        <tr><th>紧急程度</th><th>标题</th><th>{incoming ? '来文字号' : '发文字号'}</th>{incoming && <th>来文单位</th>}<th>状态</th><th>{incoming ? '收到时间' : '起草时间'}</th></tr>
      </thead>
      <tbody>
        {items.map((d) => (
          <tr key={d.id} data-document={d.id}>
            <td data-label="紧急程度"><Urgency value={d.urgency} /></td>
            <td class="title-cell"><a href={`/app/track/${d.id}`}>{d.title}</a></td>
            <td data-label={incoming ? '来文字号' : '发文字号'}>{(incoming ? d.incomingNumber : d.docNumber) ?? <span class="muted">—</span>}</td>
            {incoming && <td data-label="来文单位">{d.sourceUnitName ?? <span class="muted">—</span>}</td>}
            <td data-label="状态">{statusLabels[d.status] ?? d.status}{d.currentSteps ? <span class="muted">（{d.currentSteps}）</span> : null}</td>
            <td data-label={incoming ? '收到时间' : '起草时间'}>{formatTime(d.createdAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

mount(InboxPage)
