// 委托 (/app/delegation): name a delegate of the unit for a period (the unit admin also for someone
// else), list and end one's delegations, and see what delegates did in one's name.
import { useEffect, useState } from 'preact/hooks'
import { Notice, Problem, Shell, fieldError, mount } from '../components/shell.tsx'
import { currentUser, get, post, query } from '../lib/api.ts'
import { formatTime } from '../lib/format.ts'

const flowNames: Record<string, string> = { fawen: '发文', fenwen: '分文报批', chengyue: '呈阅笺' }

interface Delegation {
  id: string; delegatorId: string; delegatorName: string; delegateId: string; delegateName: string
  from: string; to: string; flows: string[] | null; active: boolean
}
interface Person { id: string; name: string; department: string | null }
interface OnMyBehalf {
  actions: Array<{ documentId: string; title: string; stepName: string; actorName: string; route: string | null; opinion: string | null; at: string }>
  open: Array<{ documentId: string; title: string; stepName: string; delegateName: string; createdAt: string }>
}

const today = () => new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' })
const value = (e: Event) => (e.currentTarget as HTMLInputElement).value

function FieldError({ error, field }: { error: unknown; field: string }) {
  const message = fieldError(error, field)
  return message ? <span class="field-error">{message}</span> : null
}

function DelegationPage() {
  const me = currentUser()
  const admin = !!me?.roles.includes('unit_admin')
  const [list, setList] = useState<Delegation[] | null>(null)
  const [people, setPeople] = useState<Person[]>([])
  const [behalf, setBehalf] = useState<OnMyBehalf | null>(null)
  const [form, setForm] = useState({ delegator: me?.userId ?? '', delegate: '', from: today(), to: today(), flows: [] as string[] })
  const [error, setError] = useState<unknown>(null)
  const [notice, setNotice] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

  const load = () => {
    get<Delegation[]>(`/delegations${query({ all: admin || undefined })}`).then(setList, setError)
    get<OnMyBehalf>('/delegations/on-my-behalf').then(setBehalf, setError)
  }
  useEffect(() => {
    load()
    get<Person[]>('/people').then(setPeople, () => undefined)
  }, [])

  const run = async (action: () => Promise<unknown>, done: string) => {
    setBusy(true)
    setError(null)
    setNotice(null)
    try {
      await action()
      setNotice(done)
      load()
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }
  const submit = (e: Event) => {
    e.preventDefault()
    const body = { delegate: form.delegate, from: form.from, to: form.to, ...(form.flows.length ? { flows: form.flows } : {}), ...(form.delegator !== me?.userId ? { delegator: form.delegator } : {}) }
    void run(() => post('/delegations', body), '委托已设置：期内分配给委托人的新待办将转给受托人办理')
  }
  const toggleFlow = (flow: string) =>
    setForm({ ...form, flows: form.flows.includes(flow) ? form.flows.filter((f) => f !== flow) : [...form.flows, flow] })

  return (
    <Shell active="delegation">
      <h1>委托办理</h1>
      <p class="muted">休假、出差期间，可将分配给本人的新待办委托本单位其他人员代为办理；代办的事项在流转记录中记为“受托人 代 委托人”。</p>
      <Problem error={error} />
      <Notice text={notice} />

      <form class="card narrow" aria-label="设置委托" onSubmit={submit}>
        <h2>设置委托</h2>
        {admin && <>
          <label class="field-label" for="delegator">委托人</label>
          <select id="delegator" value={form.delegator} onChange={(e) => setForm({ ...form, delegator: value(e) })}>
            {people.map((p) => <option key={p.id} value={p.id}>{p.name}{p.id === me?.userId ? '（本人）' : ''}</option>)}
          </select>
          <FieldError error={error} field="delegator" />
        </>}
        <label class="field-label" for="delegate">受托人</label>
        <select id="delegate" required value={form.delegate} onChange={(e) => setForm({ ...form, delegate: value(e) })}>
          <option value="">请选择</option>
          {people.filter((p) => p.id !== form.delegator).map((p) => <option key={p.id} value={p.id}>{p.name}{p.department ? `（${p.department}）` : ''}</option>)}
        </select>
        <FieldError error={error} field="delegate" />
        <label class="field-label" for="from">开始日期</label>
        <input id="from" type="date" required value={form.from} onInput={(e) => setForm({ ...form, from: value(e) })} />
        <FieldError error={error} field="from" />
        <label class="field-label" for="to">结束日期（含）</label>
        <input id="to" type="date" required value={form.to} onInput={(e) => setForm({ ...form, to: value(e) })} />
        <FieldError error={error} field="to" />
        <fieldset>
          <legend class="field-label">委托的流程（不选为全部流程）</legend>
          {Object.entries(flowNames).map(([k, v]) => (
            <label key={k} class="check"><input type="checkbox" name="flows" value={k} checked={form.flows.includes(k)} onChange={() => toggleFlow(k)} /> {v}</label>
          ))}
        </fieldset>
        <button type="submit" class="primary" disabled={busy}>{busy ? '正在保存……' : '设置委托'}</button>
      </form>

      <section class="card" aria-label="委托列表">
        <h2>{admin ? '本单位的委托' : '我的委托'}</h2>
        {!list ? <p class="muted">正在加载……</p> : list.length === 0 ? <p class="muted">没有委托。</p> : (
          <table class="list compact">
            <thead><tr><th>委托人</th><th>受托人</th><th>期间</th><th>流程</th><th>状态</th><th /></tr></thead>
            <tbody>
              {list.map((d) => (
                <tr key={d.id} data-id={d.id}>
                  <td data-label="委托人">{d.delegatorName}</td>
                  <td data-label="受托人">{d.delegateName}</td>
                  <td data-label="期间">{d.from} 至 {d.to}</td>
                  <td data-label="流程">{d.flows ? d.flows.map((f) => flowNames[f] ?? f).join('、') : '全部'}</td>
                  <td data-label="状态">{d.active ? '生效中' : '未到期'}</td>
                  <td class="row-actions">
                    {(admin || d.delegatorId === me?.userId) && (
                      <button type="button" class="small" disabled={busy} onClick={() => confirm(`撤销${d.delegatorName}委托${d.delegateName}的委托？`) && run(() => post(`/delegations/${d.id}/revoke`), '委托已撤销')}>撤销</button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section class="card" aria-label="以我名义办理">
        <h2>以我名义办理的事项</h2>
        {!behalf ? <p class="muted">正在加载……</p> : <>
          {behalf.open.length > 0 && <>
            <h3>正由受托人办理</h3>
            <ul class="plain" id="delegated-open">
              {behalf.open.map((x) => <li key={x.documentId + x.stepName}><a href={`/app/track/${x.documentId}`}>{x.title}</a> · {x.stepName} · {x.delegateName} · {formatTime(x.createdAt)}</li>)}
            </ul>
          </>}
          {behalf.actions.length === 0 ? <p class="muted">还没有受托人以您的名义办理过事项。</p> : (
            <table class="list compact" id="on-my-behalf">
              <thead><tr><th>公文</th><th>步骤</th><th>办理人</th><th>办理方式与意见</th><th>时间</th></tr></thead>
              <tbody>
                {behalf.actions.map((a, i) => (
                  <tr key={i}>
                    <td data-label="公文"><a href={`/app/track/${a.documentId}`}>{a.title}</a></td>
                    <td data-label="步骤">{a.stepName}</td>
                    <td data-label="办理人">{a.actorName}</td>
                    <td data-label="办理方式与意见">{[a.route, a.opinion].filter(Boolean).join('：')}</td>
                    <td data-label="时间">{formatTime(a.at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>}
      </section>
    </Shell>
  )
}

mount(DelegationPage)
