// 版本: the unit's versions of a flow — the standard ones shipped with the system and those its
// admin deployed — which one new documents use (the newest), and the unit's documents still
// running on each (they finish on the version they started with).
import { formatTime } from '../../lib/format.ts'

export interface Version {
  key: string
  processId: string
  version: number
  scope: 'standard' | 'unit'
  current: boolean
  deployedAt: string
  deployedBy: string | null
  runningCount: number
  running: Array<{ id: string; title: string; createdAt: string }>
}

export const versionLabel = (v: Version) => `第 ${v.version} 版（${v.scope === 'unit' ? '本单位修改' : '标准流程'}）`

export function Versions({ versions, loaded, onOpen }: { versions: Version[]; loaded: string | null; onOpen: (v: Version) => void }) {
  return (
    <table class="list compact versions-table" aria-label="流程版本">
      <thead><tr><th>版本</th><th>部署时间</th><th>状态</th><th>办理中的公文</th><th /></tr></thead>
      <tbody>
        {versions.map((v) => (
          <tr key={v.key} data-key={v.key} data-scope={v.scope} class={v.key === loaded ? 'loaded' : undefined}>
            <td data-label="版本">{versionLabel(v)}</td>
            <td data-label="部署时间">{formatTime(v.deployedAt)}{v.deployedBy ? ` · ${v.deployedBy}` : ''}</td>
            <td data-label="状态">{v.current ? <span class="tag">新公文使用</span> : <span class="muted">—</span>}</td>
            <td data-label="办理中的公文">
              <span class="running-count">{v.runningCount}</span> 件
              {v.running.length > 0 && (
                <details>
                  <summary>查看</summary>
                  <ul class="running">
                    {v.running.map((d) => <li key={d.id}><a href={`/app/track/${d.id}`}>{d.title}</a> <span class="muted small">{formatTime(d.createdAt)}</span></li>)}
                  </ul>
                </details>
              )}
            </td>
            <td class="row-actions">
              <button type="button" class="small" disabled={v.key === loaded} onClick={() => onOpen(v)}>{v.key === loaded ? '已打开' : '打开'}</button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
