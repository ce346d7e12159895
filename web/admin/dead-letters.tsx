// 失败待处理: what the retry loops gave up on in this unit — 办理提交 the flow engine kept refusing
// (the task is stuck, the handler's submission kept) and 通知投递 whose receiver kept failing —
// with what failed and why; 重试 puts an item back from the first attempt, 放弃 gives it up (an
// 办理提交 goes back to its handler's 待办, what they entered offered again).
import { useEffect, useState } from 'preact/hooks'
import { useAction } from './use-action.ts'
import { Notice, Problem } from '../components/shell.tsx'
import { get, post } from '../lib/api.ts'
import { formatTime } from '../lib/format.ts'

interface Completion {
  id: string
  stepName: string
  documentId: string
  title: string
  handlerName: string | null
  route: string | null
  opinion: string | null
  submittedAt: string | null
  attempts: number
  lastError: string | null
  deadAt: string | null
}
interface Delivery {
  id: string
  channel: string
  target: string
  title: string
  text: string
  recipientName: string | null
  attempts: number
  lastError: string | null
  deadAt: string | null
}

const channelNames: Record<string, string> = { webhook: 'Webhook', sms: '短信' }

export function DeadLetters() {
  const [items, setItems] = useState<{ completions: Completion[]; deliveries: Delivery[] } | null>(null)
  const [loadError, setLoadError] = useState<unknown>(null)
  const load = () => get<{ completions: Completion[]; deliveries: Delivery[] }>('/admin/dead-letters').then(setItems, setLoadError)
  const { error, notice, run } = useAction(load)
  useEffect(() => void load(), [])

  const act = (kind: 'completion' | 'delivery', id: string, action: 'retry' | 'discard', done: string) =>
    run(() => post(`/admin/dead-letters/${kind}/${encodeURIComponent(id)}/${action}`, {}), done)
  const discardCompletion = (c: Completion) => {
    if (confirm(`放弃此办理提交？“${c.title}”的“${c.stepName}”将退回${c.handlerName ?? '办理人'}的待办，已填写的内容会作为草稿保留。`)) {
      act('completion', c.id, 'discard', '已放弃：该待办已退回办理人，已填写的内容保留为草稿。')
    }
  }

  if (!items) return <section class="card"><Problem error={loadError} />{!loadError && <p class="muted">正在加载……</p>}</section>
  return (
    <section class="card admin-section" id="dead-letters" aria-label="失败待处理">
      <h2>失败待处理</h2>
      <p class="muted small">系统多次自动重试仍未成功的事项。可在排除原因（如流程引擎、接收地址）后重试，或放弃。</p>
      <Problem error={error} />
      <Notice text={notice} />

      <h3>办理提交（{items.completions.length}）</h3>
      {items.completions.length === 0 ? <p class="muted">没有未能提交到流程引擎的办理。</p> : (
        <table class="list compact">
          <thead><tr><th>公文与步骤</th><th>办理人与提交内容</th><th>失败原因</th><th /></tr></thead>
          <tbody>
            {items.completions.map((c) => (
              <tr key={c.id} data-id={c.id}>
                <td data-label="公文与步骤"><a href={`/app/track/${c.documentId}`}>{c.title}</a><br /><span class="tag step">{c.stepName}</span></td>
                <td data-label="办理人与提交内容">
                  {c.handlerName ?? '—'} · {c.route ?? '—'}{c.opinion ? `：${c.opinion}` : ''}
                  <br /><small class="muted">提交于 {formatTime(c.submittedAt)}</small>
                </td>
                <td data-label="失败原因">
                  <small>{c.lastError ?? '—'}</small>
                  <br /><small class="muted">已尝试 {c.attempts} 次，{formatTime(c.deadAt)} 停止重试</small>
                </td>
                <td class="row-actions">
                  <button type="button" class="small primary" onClick={() => act('completion', c.id, 'retry', '已重新提交，系统将自动重试。')}>重试</button>
                  <button type="button" class="small" onClick={() => discardCompletion(c)}>放弃</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h3>通知投递（{items.deliveries.length}）</h3>
      {items.deliveries.length === 0 ? <p class="muted">没有投递失败的通知。</p> : (
        <table class="list compact">
          <thead><tr><th>通知</th><th>渠道与接收人</th><th>失败原因</th><th /></tr></thead>
          <tbody>
            {items.deliveries.map((d) => (
              <tr key={d.id} data-id={d.id}>
                <td data-label="通知">{d.title}<br /><small class="muted">{d.text}</small></td>
                <td data-label="渠道与接收人">{channelNames[d.channel] ?? d.channel} → {d.recipientName ?? '—'}<br /><small class="muted">{d.target}</small></td>
                <td data-label="失败原因">
                  <small>{d.lastError ?? '—'}</small>
                  <br /><small class="muted">已尝试 {d.attempts} 次，{formatTime(d.deadAt)} 停止重试</small>
                </td>
                <td class="row-actions">
                  <button type="button" class="small primary" onClick={() => act('delivery', d.id, 'retry', '已重新投递，系统将自动重试。')}>重试</button>
                  <button type="button" class="small" onClick={() => act('delivery', d.id, 'discard', '已放弃该通知投递。')}>放弃</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}
