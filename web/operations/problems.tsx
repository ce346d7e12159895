// 运行监控 · 待处理问题: documents stuck at one step longer than the chosen limit (催办, 取消), automated
// steps that failed and are being retried, and engine incidents (重试, 取消).
import { useEffect, useState } from 'preact/hooks'
import { useAction } from '../admin/use-action.ts'
import { Notice, Problem } from '../components/shell.tsx'
import { get, post, query } from '../lib/api.ts'
import { formatTime, kindLabels } from '../lib/format.ts'

interface Stuck {
  taskKey: string
  stepName: string
  assigneeName: string | null
  candidateRole: string | null
  since: string
  days: number
  documentId: string
  title: string
  kind: string
}
interface Failure {
  id: string
  stepName: string
  topic: string | null
  kind: string
  message: string | null
  retries: number | null
  since: string | null
  document: { id: string; title: string; kind: string } | null
}
interface Problems {
  stuckDays: number
  engineAvailable: boolean
  stuck: Stuck[]
  failing: Failure[]
  incidents: Failure[]
}

function DocumentCell({ document }: { document: Failure['document'] }) {
  if (!document) return <span class="muted">（无对应公文）</span>
  return <><a href={`/app/track/${document.id}`}>{document.title}</a> <span class="muted small">{kindLabels[document.kind] ?? document.kind}</span></>
}

export function ProblemsPanel() {
  const [stuckDays, setStuckDays] = useState(3)
  const [data, setData] = useState<Problems | null>(null)
  const [loadError, setLoadError] = useState<unknown>(null)
  const load = (days = stuckDays) => get<Problems>(`/operations/problems${query({ stuckDays: days })}`).then((d) => {
    setLoadError(null)
    setData(d)
  }, setLoadError)
  const { error, notice, run } = useAction(() => load())
  useEffect(() => void load(), [])

  const cancel = (path: string, title: string) => {
    const reason = prompt(`取消“${title}”的流转？请填写原因（记入流转日志）：`)
    if (reason === null) return
    run(() => post(path, { reason }), `已取消“${title}”的流转。`)
  }

  return (
    <section class="card ops-problems" aria-label="待处理问题">
      <div class="card-head">
        <h2>待处理问题</h2>
        <form class="inline" onSubmit={(e) => { e.preventDefault(); void load(stuckDays) }}>
          <label>停留超过 <input type="number" name="stuckDays" min={0} max={3650} step="any" value={stuckDays} onInput={(e) => setStuckDays(Number((e.target as HTMLInputElement).value))} /> 天</label>
          <button type="submit" class="small">刷新</button>
        </form>
      </div>
      <Problem error={loadError ?? error} />
      <Notice text={notice} />
      {data && !data.engineAvailable && <p class="alert error" role="alert">流程引擎暂无应答：下面只列出滞留公文。</p>}
      {!data ? (!loadError && <p class="muted">正在加载……</p>) : (
        <>
          <h3>滞留公文（{data.stuck.length}）</h3>
          {data.stuck.length === 0 ? <p class="muted">没有在一个步骤停留超过 {data.stuckDays} 天的公文。</p> : (
            <table class="list compact" data-list="stuck">
              <thead><tr><th>公文</th><th>当前步骤</th><th>办理人</th><th>到达时间</th><th>已停留</th><th /></tr></thead>
              <tbody>
                {data.stuck.map((s) => (
                  <tr key={s.taskKey} data-task={s.taskKey} data-document={s.documentId}>
                    <td data-label="公文"><a href={`/app/track/${s.documentId}`}>{s.title}</a> <span class="muted small">{kindLabels[s.kind] ?? s.kind}</span></td>
                    <td data-label="当前步骤"><span class="tag step">{s.stepName}</span></td>
                    <td data-label="办理人">{s.assigneeName ?? '（待认领）'}</td>
                    <td data-label="到达时间">{formatTime(s.since)}</td>
                    <td data-label="已停留">{s.days} 天</td>
                    <td class="row-actions">
                      <button type="button" class="small primary" onClick={() => run(() => post(`/operations/tasks/${encodeURIComponent(s.taskKey)}/urge`), `已催办“${s.title}”的办理人。`)}>催办</button>
                      <button type="button" class="small" onClick={() => cancel(`/operations/documents/${s.documentId}/cancel`, s.title)}>取消</button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}

          <h3>自动步骤失败（{data.failing.length}）</h3>
          {data.failing.length === 0 ? <p class="muted">没有正在重试的自动步骤。</p> : (
            <table class="list compact" data-list="failing">
              <thead><tr><th>公文</th><th>步骤</th><th>错误</th><th>剩余重试</th><th /></tr></thead>
              <tbody>
                {data.failing.map((f) => (
                  <tr key={f.id} data-id={f.id}>
                    <td data-label="公文"><DocumentCell document={f.document} /></td>
                    <td data-label="步骤"><span class="tag step">{f.stepName || '—'}</span></td>
                    <td data-label="错误"><small>{f.message ?? '—'}</small></td>
                    <td data-label="剩余重试">{f.retries ?? '—'} 次（系统自动重试）</td>
                    <td class="row-actions">
                      {f.document && <button type="button" class="small" onClick={() => cancel(`/operations/documents/${f.document!.id}/cancel`, f.document!.title)}>取消</button>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}

          <h3>流程引擎异常（{data.incidents.length}）</h3>
          {data.incidents.length === 0 ? <p class="muted">没有需要处理的流程引擎异常。</p> : (
            <table class="list compact" data-list="incidents">
              <thead><tr><th>公文</th><th>步骤</th><th>错误</th><th>发生时间</th><th /></tr></thead>
              <tbody>
                {data.incidents.map((i) => (
                  <tr key={i.id} data-incident={i.id} data-document={i.document?.id}>
                    <td data-label="公文"><DocumentCell document={i.document} /></td>
                    <td data-label="步骤"><span class="tag step">{i.stepName || '—'}</span></td>
                    <td data-label="错误"><small>{i.message ?? '—'}</small></td>
                    <td data-label="发生时间">{formatTime(i.since)}</td>
                    <td class="row-actions">
                      <button type="button" class="small primary" onClick={() => run(() => post(`/operations/incidents/${encodeURIComponent(i.id)}/retry`), `已重试“${i.stepName}”。`)}>重试</button>
                      {i.document && <button type="button" class="small" onClick={() => cancel(`/operations/incidents/${encodeURIComponent(i.id)}/cancel`, i.document!.title)}>取消</button>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  )
}
