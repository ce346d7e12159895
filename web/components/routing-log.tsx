// 流转日志: who did what, when, with which opinion, on which channel — the same record as the API's.
import { channelLabel, formatTime, roleLabel } from '../lib/format.ts'

export interface LogEntry {
  step: string
  stepName: string
  actorId: string | null
  actorName: string
  actorRole: string | null
  actorRoleName?: string | null
  route: string | null
  opinion: string | null
  blankSignature?: boolean
  channel: string
  channelName?: string
  at: string
}

export function RoutingLog({ log }: { log: LogEntry[] }) {
  if (!log.length) return <p class="muted">尚无流转记录。</p>
  return (
    <ol class="log">
      {log.map((e, i) => (
        <li key={i} class={e.channel === 'system' ? 'system' : undefined}>
          <div class="log-head">
            <span class="log-step">{e.stepName}</span>
            <span class="log-actor">{e.actorName}{e.actorRole ? `（${e.actorRoleName ?? roleLabel(e.actorRole)}）` : ''}</span>
            {e.route && <span class="tag">{e.route}</span>}
          </div>
          {e.opinion && <div class="log-opinion">{e.opinion}</div>}
          {e.blankSignature && <div class="log-opinion muted">（空白签名）</div>}
          <div class="log-meta">
            <time dateTime={e.at}>{formatTime(e.at)}</time>
            <span>{e.channelName ?? channelLabel(e.channel)}</span>
          </div>
        </li>
      ))}
    </ol>
  )
}
