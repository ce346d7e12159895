// 加签 on the task page: the handler adds a person of the unit before (signs first, the task comes
// back) or after themselves (the handler's opinion now, the signer sends the step on); a signer
// added before sees only 签署 here.
import { useEffect, useState } from 'preact/hooks'
import { currentUser, get, post } from '../lib/api.ts'
import { Problem, fieldError } from './shell.tsx'

const modeLabels: Record<string, string> = { before: '前加签（加签人先审核，再回到本人）', after: '后加签（本人先签意见，由加签人继续办理）', parallel: '并行加签（加签人同时审核，签署后本人再办理）' }
interface Options { modes: string[]; mustSign: boolean; pending: { signerName: string; addedByName: string; mode?: string } | null }

export function AddSignerPanel({ taskKey, onSigning, onDone }: { taskKey: string; onSigning: (signing: boolean) => void; onDone: (message: string) => void }) {
  const [options, setOptions] = useState<Options | null>(null)
  const [people, setPeople] = useState<Array<{ id: string; name: string; department: string | null }>>([])
  const [mode, setMode] = useState('')
  const [signer, setSigner] = useState('')
  const [opinion, setOpinion] = useState('')
  const [error, setError] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)
  const [openForm, setOpenForm] = useState(false)
  const me = currentUser()

  useEffect(() => {
    get<Options>(`/tasks/${taskKey}/signers`).then((o) => {
      setOptions(o)
      onSigning(o.mustSign)
      if (o.modes.length) get('/people').then((p) => setPeople(p.filter((x: any) => x.id !== me?.userId)), () => undefined)
    }, () => undefined)
  }, [taskKey])

  const run = async (work: () => Promise<string>) => {
    setBusy(true)
    setError(null)
    try {
      onDone(await work())
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }
  const text = (e: Event) => (e.currentTarget as HTMLInputElement).value

  if (!options) return null
  if (options.mustSign) {
    return (
      <form class="card actions-panel" aria-label="加签签署" onSubmit={(e) => { e.preventDefault(); void run(async () => { await post(`/tasks/${taskKey}/sign`, { opinion }); return options.pending ? '已签署，交回原办理人' : '已签署' }) }}>
        <h2>加签签署</h2>
        <p class="muted small">{options.pending
          ? `${options.pending.addedByName}请您先行审核。签署意见后，待办交回原办理人继续办理。`
          : '并行加签：请您审核并签署意见，本步骤由原办理人继续办理。'}</p>
        <Problem error={error} />
        <label class="field-label" for="sign-opinion">加签意见<span class="req" aria-label="必填">*</span></label>
        <textarea id="sign-opinion" name="signOpinion" rows={4} maxLength={2000} required value={opinion} onInput={(e) => setOpinion(text(e))} />
        {fieldError(error, 'opinion') && <span class="field-error">{fieldError(error, 'opinion')}</span>}
        <button type="submit" class="primary" disabled={busy}>{busy ? '正在提交……' : '签署'}</button>
      </form>
    )
  }
  if (options.pending?.mode === 'parallel') return <p class="card muted small gw-parallel-pending">并行加签：待{options.pending.signerName}签署后，您方可办理本步骤。</p>
  if (!options.modes.length) return null
  if (!openForm) return <button type="button" class="add-signer-open" onClick={() => setOpenForm(true)}>加签……</button>
  return (
    <form class="card actions-panel" aria-label="加签" onSubmit={(e) => {
      e.preventDefault()
      void run(async () => {
        await post(`/tasks/${taskKey}/signers`, { signer, mode, ...(opinion.trim() ? { opinion } : {}) })
        return mode === 'before' ? '已加签，待加签人签署后回到您这里' : mode === 'parallel' ? '已并行加签，待加签人签署后您可继续办理' : '已加签，由加签人继续办理'
      })
    }}>
      <h2>加签</h2>
      <Problem error={error} />
      {options.modes.map((m) => (
        <label key={m} class="check"><input type="radio" name="addSignerMode" value={m} checked={mode === m} onChange={() => setMode(m)} /> {modeLabels[m] ?? m}</label>
      ))}
      {fieldError(error, 'mode') && <span class="field-error">{fieldError(error, 'mode')}</span>}
      <label class="field-label" for="add-signer">加签人</label>
      <select id="add-signer" name="addSigner" required value={signer} onChange={(e) => setSigner(text(e))}>
        <option value="">请选择</option>
        {people.map((p) => <option key={p.id} value={p.id}>{p.name}{p.department ? `（${p.department}）` : ''}</option>)}
      </select>
      {fieldError(error, 'signer') && <span class="field-error">{fieldError(error, 'signer')}</span>}
      <label class="field-label" for="add-signer-opinion">本人意见{mode === 'after' && <span class="req" aria-label="必填">*</span>}</label>
      <textarea id="add-signer-opinion" name="addSignerOpinion" rows={3} maxLength={2000} value={opinion} onInput={(e) => setOpinion(text(e))} />
      {fieldError(error, 'opinion') && <span class="field-error">{fieldError(error, 'opinion')}</span>}
      <button type="submit" class="primary" disabled={busy || !mode}>{busy ? '正在提交……' : '确定加签'}</button>
    </form>
  )
}
