// 接口密钥: the unit's integrator keys with their scopes, prefix, when made and last used; make a
// key (name, scopes), change its scopes, rotate it (new secret, the old one stops at once) or revoke
// it. A secret is shown once, right after it is made or rotated, and never again.
import { useEffect, useState } from 'preact/hooks'
import { useAction } from './use-action.ts'
import { Notice, Problem, fieldError } from '../components/shell.tsx'
import { get, patch, post } from '../lib/api.ts'
import { formatTime } from '../lib/format.ts'

export interface ApiKey {
  id: string
  name: string
  prefix: string | null
  scopes: string[]
  accountId: string
  accountName: string
  createdAt: string
  createdBy: string | null
  lastUsedAt: string | null
  rotatedAt: string | null
  revokedAt: string | null
  revokedBy: string | null
}

const scopeLabels: Record<string, string> = {
  'documents:start': '起草并办理自己发起的公文',
  'documents:read': '查阅本单位公文',
  'statistics:read': '查阅统计',
  'events:receive': '接收通知',
}
const allScopes = Object.keys(scopeLabels)
const value = (e: Event) => (e.currentTarget as HTMLInputElement).value

function ScopeChoices({ chosen, onChange, prefix }: { chosen: string[]; onChange: (scopes: string[]) => void; prefix: string }) {
  return (
    <div class="role-choices" role="group" aria-label="权限">
      {allScopes.map((s) => (
        <label key={s} title={s}>
          <input type="checkbox" name={`${prefix}-scope`} value={s} checked={chosen.includes(s)}
            onChange={(e) => onChange((e.currentTarget as HTMLInputElement).checked ? [...chosen, s] : chosen.filter((x) => x !== s))} />
          {scopeLabels[s]}（<code>{s}</code>）
        </label>
      ))}
    </div>
  )
}

export function ApiKeys() {
  const [keys, setKeys] = useState<ApiKey[] | null>(null)
  const [loadError, setLoadError] = useState<unknown>(null)
  const [draft, setDraft] = useState<{ name: string; scopes: string[] }>({ name: '', scopes: ['documents:read'] })
  const [editing, setEditing] = useState<{ id: string; scopes: string[] } | null>(null)
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null)
  const load = () => get<ApiKey[]>('/admin/api-keys').then(setKeys, setLoadError)
  const { error, notice, run } = useAction(load)
  useEffect(() => void load(), [])

  const create = async (e: Event) => {
    e.preventDefault()
    setSecret(null)
    let made: (ApiKey & { secret: string }) | null = null
    if (await run(async () => { made = await post<ApiKey & { secret: string }>('/admin/api-keys', draft) }, `已新建接口密钥“${draft.name.trim()}”`)) {
      setSecret({ name: made!.name, secret: made!.secret })
      setDraft({ name: '', scopes: ['documents:read'] })
    }
  }
  const saveScopes = async (k: ApiKey) => {
    if (!editing) return
    if (await run(() => patch(`/admin/api-keys/${k.id}`, { scopes: editing.scopes }), `已修改“${k.name}”的权限，立即生效`)) setEditing(null)
  }
  const rotate = async (k: ApiKey) => {
    if (!confirm(`轮换“${k.name}”？将生成新密钥，原密钥（${k.prefix ?? ''}…）立即失效，对接系统须改用新密钥。`)) return
    setSecret(null)
    let rotated: (ApiKey & { secret: string }) | null = null
    if (await run(async () => { rotated = await post<ApiKey & { secret: string }>(`/admin/api-keys/${k.id}/rotate`) }, `已轮换“${k.name}”，原密钥已失效`)) {
      setSecret({ name: rotated!.name, secret: rotated!.secret })
    }
  }
  const revoke = (k: ApiKey) => {
    if (confirm(`吊销“${k.name}”？该密钥将立即且永久失效，不能恢复。`)) run(() => post(`/admin/api-keys/${k.id}/revoke`), `已吊销“${k.name}”`)
  }
  const copy = () => void navigator.clipboard?.writeText(secret!.secret).catch(() => undefined)

  if (!keys) return <section class="card"><Problem error={loadError} />{!loadError && <p class="muted">正在加载……</p>}</section>
  return (
    <section class="card admin-section" id="api-keys" aria-label="接口密钥">
      <h2>接口密钥</h2>
      <p class="muted small">对接系统用接口密钥（请求头 <code>X-API-Key</code>）调用本单位的接口。每个密钥只能做所选权限允许的事，且只能办理它自己发起的公文；系统只保存密钥的摘要，完整密钥只在新建或轮换时显示一次。</p>
      <Problem error={error} />
      <Notice text={notice} />
      {secret && (
        <div class="alert ok secret-once" role="status">
          <strong>“{secret.name}”的密钥（只显示这一次，请立即复制保存）：</strong>
          <div class="secret-row"><code id="new-secret">{secret.secret}</code>
            <button type="button" class="small" onClick={copy}>复制</button>
            <button type="button" class="small" onClick={() => setSecret(null)}>我已保存</button></div>
        </div>
      )}
      {keys.length === 0 ? <p class="muted">本单位还没有接口密钥。</p> : (
        <table class="list compact">
          <thead><tr><th>名称</th><th>密钥</th><th>权限</th><th>新建与使用</th><th /></tr></thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k.id} data-id={k.id} class={k.revokedAt ? 'revoked' : undefined}>
                <td data-label="名称">{k.name}<br /><small class="muted">账号 {k.accountId}</small></td>
                <td data-label="密钥"><code>{k.prefix ? `${k.prefix}…` : '—'}</code>
                  {k.revokedAt && <span class="tag step">已吊销</span>}</td>
                <td data-label="权限" class="scopes">
                  {editing?.id === k.id ? (
                    <>
                      <ScopeChoices prefix={`edit-${k.id}`} chosen={editing.scopes} onChange={(s) => setEditing({ ...editing, scopes: s })} />
                      <button type="button" class="primary small" onClick={() => saveScopes(k)}>保存</button>
                      <button type="button" class="small" onClick={() => setEditing(null)}>取消</button>
                    </>
                  ) : (k.scopes.map((s) => scopeLabels[s] ?? s).join('、') || '无')}
                </td>
                <td data-label="新建与使用"><small>
                  {formatTime(k.createdAt)} 新建{k.createdBy ? `（${k.createdBy}）` : ''}
                  <br />{k.lastUsedAt ? `最近使用 ${formatTime(k.lastUsedAt)}` : '从未使用'}
                  {k.rotatedAt && <><br />{formatTime(k.rotatedAt)} 轮换</>}
                  {k.revokedAt && <><br />{formatTime(k.revokedAt)} 吊销{k.revokedBy ? `（${k.revokedBy}）` : ''}</>}
                </small></td>
                <td class="row-actions">
                  {!k.revokedAt && editing?.id !== k.id && <>
                    <button type="button" class="small" onClick={() => setEditing({ id: k.id, scopes: k.scopes })}>修改权限</button>
                    <button type="button" class="small" onClick={() => rotate(k)}>轮换</button>
                    <button type="button" class="small" onClick={() => revoke(k)}>吊销</button>
                  </>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>新建接口密钥</h2>
      <form class="inline-form" id="add-api-key" onSubmit={create}>
        <div class="field"><label class="field-label" for="api-key-name">名称（如对接的系统）</label>
          <input id="api-key-name" required maxLength={50} value={draft.name} onInput={(e) => setDraft({ ...draft, name: value(e) })} />
          {fieldError(error, 'name') && <span class="field-error">{fieldError(error, 'name')}</span>}</div>
        <ScopeChoices prefix="new" chosen={draft.scopes} onChange={(s) => setDraft({ ...draft, scopes: s })} />
        <button type="submit" class="primary">新建密钥</button>
      </form>
    </section>
  )
}
