// 单位设置: 办理时限 and reminder per 紧急程度 (in hours), 空白签名, 发文字号 prefixes (default and per
// 文种), the seal's name, the password policy (off unless set); and the notification channels
// (webhook, SMS gateway).
import { useEffect, useState } from 'preact/hooks'
import { Notice, Problem } from '../components/shell.tsx'
import { get, put } from '../lib/api.ts'

interface Limit {
  limit: string
  remindBefore: string
}
interface UnitSettings {
  timeLimits: Record<string, Limit>
  allowBlankSignature: boolean
  docNumberPrefix: string
  docNumberPrefixes: Record<string, string>
  sealName: string
  passwordPolicy: PasswordPolicy | null
}
interface PasswordPolicy {
  minLength: number
  requireLetter: boolean
  requireDigit: boolean
  requireSymbol: boolean
  requireMixedCase: boolean
}

const defaultPolicy: PasswordPolicy = { minLength: 8, requireLetter: true, requireDigit: true, requireSymbol: false, requireMixedCase: false }
const policyRules: Array<[keyof Omit<PasswordPolicy, 'minLength'>, string]> = [
  ['requireLetter', '须含字母'], ['requireDigit', '须含数字'], ['requireSymbol', '须含符号'], ['requireMixedCase', '须含大小写字母'],
]

const urgencies = ['特急', '加急', '平件']
const docKinds = ['决议', '决定', '命令', '公报', '公告', '通告', '意见', '通知', '通报', '报告', '请示', '批复', '议案', '函', '纪要']

/** PT72H, P3D, PT1H30M → hours. */
export function hoursOf(iso: string): number {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(iso)
  if (!m) return 0
  const [d, h, min, s] = m.slice(1).map((x) => Number(x ?? 0))
  return d * 24 + h + min / 60 + s / 3600
}
/** Hours → PT72H, or whole minutes when not whole hours. */
export function isoOf(hours: number): string {
  return Number.isInteger(hours) ? `PT${hours}H` : `PT${Math.round(hours * 60)}M`
}

const value = (e: Event) => (e.currentTarget as HTMLInputElement).value

export function Settings() {
  const [s, setS] = useState<UnitSettings | null>(null)
  const [prefixes, setPrefixes] = useState<Array<[string, string]>>([])
  const [channels, setChannels] = useState<{ webhookUrl: string; smsGatewayUrl: string }>({ webhookUrl: '', smsGatewayUrl: '' })
  const [error, setError] = useState<unknown>(null)
  const [notice, setNotice] = useState<string | null>(null)

  useEffect(() => {
    get<UnitSettings>('/settings/unit').then((x) => {
      setS(x)
      setPrefixes(Object.entries(x.docNumberPrefixes))
    }, setError)
    get('/settings/notifications').then((c) => setChannels({ webhookUrl: c.webhookUrl ?? '', smsGatewayUrl: c.smsGatewayUrl ?? '' }), setError)
  }, [])
  if (!s) return <section class="card"><Problem error={error} />{!error && <p class="muted">正在加载……</p>}</section>

  const setLimit = (u: string, key: keyof Limit, hours: number) => setS({ ...s, timeLimits: { ...s.timeLimits, [u]: { ...s.timeLimits[u], [key]: isoOf(hours) } } })
  const save = async (e: Event) => {
    e.preventDefault()
    setError(null)
    setNotice(null)
    try {
      const saved = await put<UnitSettings>('/settings/unit', { ...s, docNumberPrefixes: Object.fromEntries(prefixes.filter(([k, v]) => k && v.trim())) })
      await put('/settings/notifications', { webhookUrl: channels.webhookUrl.trim() || null, smsGatewayUrl: channels.smsGatewayUrl.trim() || null })
      setS(saved)
      setPrefixes(Object.entries(saved.docNumberPrefixes))
      setNotice('单位设置已保存：新公文按新设置办理，办理中的公文仍按其起草时的办理时限。')
    } catch (err) {
      setError(err)
    }
  }

  return (
    <form class="card admin-section" id="settings" aria-label="单位设置" onSubmit={save}>
      <h2>单位设置</h2>
      <Problem error={error} />
      <Notice text={notice} />
      <h3>办理时限（每一步）</h3>
      <table class="list compact">
        <thead><tr><th>紧急程度</th><th>办理时限（小时）</th><th>提前提醒（小时）</th></tr></thead>
        <tbody>
          {urgencies.map((u) => (
            <tr key={u}>
              <td data-label="紧急程度">{u}</td>
              <td data-label="办理时限（小时）"><input type="number" id={`limit-${u}`} min={0.5} step={0.5} required value={hoursOf(s.timeLimits[u]?.limit ?? 'PT72H')} onInput={(e) => setLimit(u, 'limit', Number(value(e)))} /></td>
              <td data-label="提前提醒（小时）"><input type="number" id={`remind-${u}`} min={0.5} step={0.5} required value={hoursOf(s.timeLimits[u]?.remindBefore ?? 'PT12H')} onInput={(e) => setLimit(u, 'remindBefore', Number(value(e)))} /></td>
            </tr>
          ))}
        </tbody>
      </table>

      <div class="settings-grid">
        <div class="field"><label class="field-label" for="seal-name">印章名称</label>
          <input id="seal-name" required maxLength={100} value={s.sealName} onInput={(e) => setS({ ...s, sealName: value(e) })} /></div>
        <div class="field"><label class="field-label" for="doc-prefix">默认发文字号前缀</label>
          <input id="doc-prefix" required maxLength={20} value={s.docNumberPrefix} onInput={(e) => setS({ ...s, docNumberPrefix: value(e) })} />
          <span class="hint">如 柳政办发，编号为 柳政办发〔2026〕1号</span></div>
        <label class="choice"><input id="blank-signature" type="checkbox" checked={s.allowBlankSignature} onChange={(e) => setS({ ...s, allowBlankSignature: (e.currentTarget as HTMLInputElement).checked })} /> 签发允许空白签名（不填意见）</label>
      </div>

      <h3>按文种的发文字号前缀</h3>
      <table class="list compact">
        <thead><tr><th>文种</th><th>前缀</th><th /></tr></thead>
        <tbody>
          {prefixes.map(([kind, prefix], i) => (
            <tr key={i}>
              <td data-label="文种"><select aria-label="文种" value={kind} onChange={(e) => setPrefixes(prefixes.map((p, j) => (j === i ? [value(e), p[1]] : p)))}>
                {docKinds.map((k) => <option key={k} value={k} disabled={k !== kind && prefixes.some((p) => p[0] === k)}>{k}</option>)}
              </select></td>
              <td data-label="前缀"><input aria-label="前缀" maxLength={20} value={prefix} onInput={(e) => setPrefixes(prefixes.map((p, j) => (j === i ? [p[0], value(e)] : p)))} /></td>
              <td class="row-actions"><button type="button" class="small" onClick={() => setPrefixes(prefixes.filter((_, j) => j !== i))}>删除</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" class="small" disabled={prefixes.length >= docKinds.length} onClick={() => setPrefixes([...prefixes, [docKinds.find((k) => !prefixes.some((p) => p[0] === k))!, '']])}>添加文种前缀</button>

      <h3>密码规则</h3>
      <fieldset class="password-policy" aria-label="密码规则">
        <label><input type="checkbox" id="policy-on" checked={!!s.passwordPolicy} onChange={(e) => setS({ ...s, passwordPolicy: (e.currentTarget as HTMLInputElement).checked ? { ...defaultPolicy } : null })} /> 设置或修改密码时检查（不启用则只要求至少 8 位）</label>
        {s.passwordPolicy && (
          <div class="settings-grid">
            <div class="field"><label class="field-label" for="policy-min">最短位数</label>
              <input id="policy-min" type="number" min={8} max={72} value={s.passwordPolicy.minLength} onInput={(e) => setS({ ...s, passwordPolicy: { ...s.passwordPolicy!, minLength: Number(value(e)) } })} /></div>
            {policyRules.map(([key, label]) => (
              <label key={key}><input type="checkbox" id={`policy-${key}`} checked={s.passwordPolicy![key]} onChange={(e) => setS({ ...s, passwordPolicy: { ...s.passwordPolicy!, [key]: (e.currentTarget as HTMLInputElement).checked } })} /> {label}</label>
            ))}
          </div>
        )}
      </fieldset>

      <h3>通知通道</h3>
      <div class="settings-grid">
        <div class="field"><label class="field-label" for="webhook-url">Webhook 地址</label>
          <input id="webhook-url" type="url" placeholder="不填则不推送" value={channels.webhookUrl} onInput={(e) => setChannels({ ...channels, webhookUrl: value(e) })} /></div>
        <div class="field"><label class="field-label" for="sms-url">短信网关地址</label>
          <input id="sms-url" type="url" placeholder="不填则不发短信" value={channels.smsGatewayUrl} onInput={(e) => setChannels({ ...channels, smsGatewayUrl: value(e) })} /></div>
      </div>
      <div class="actions"><button type="submit" class="primary" id="save-settings">保存设置</button></div>
    </form>
  )
}
