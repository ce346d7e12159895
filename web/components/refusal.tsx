// 拒收/退文 on the pages: a recipient's 签收 cell shows 已退文 with the reason, and the sending unit's
// office re-sends a corrected version with its 更正说明; a re-sent 来文 links to the refused one.
import { useState } from 'preact/hooks'
import { Problem, fieldError } from './shell.tsx'
import { currentUser, post } from '../lib/api.ts'

const officeRoles = ['registry', 'office_head']

/** The 签收 cell of one recipient on a sent document. */
export function ReceiptCell({ documentId, d, onResent }: { documentId: string; d: any; onResent: () => void }) {
  const [open, setOpen] = useState(false)
  const [note, setNote] = useState('')
  const [error, setError] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)
  const me = currentUser()
  const mayResend = d.receiptStatus === '已退文' && me?.roles.some((r) => officeRoles.includes(r))
  const submit = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      await post(`/documents/${documentId}/recipients/${d.unitId}/resend`, { note })
      setOpen(false)
      onResent()
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }
  if (d.receiptStatus !== '已退文') {
    return (
      <span>
        <span class={d.signedAt ? 'receipt signed' : 'receipt'}>{d.receiptStatus}</span>
        {d.resendCount > 0 && <span class="muted resend-count">（已更正重发 {d.resendCount} 次）</span>}
      </span>
    )
  }
  return (
    <div class="refusal">
      <span class="receipt refused">已退文</span>
      <div class="refusal-reason">退文理由：{d.refusalReason}</div>
      {mayResend && !open && <button type="button" class="small" onClick={() => setOpen(true)}>更正后重新分发</button>}
      {open && (
        <form class="resend-form" onSubmit={submit}>
          <label>
            更正说明
            <textarea name="note" value={note} onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)} rows={2} />
          </label>
          {fieldError(error, 'note') && <span class="field-error">{fieldError(error, 'note')}</span>}
          <Problem error={error} />
          <button type="submit" disabled={busy}>重新分发</button>
          <button type="button" class="secondary" onClick={() => setOpen(false)}>取消</button>
        </form>
      )}
    </div>
  )
}

/** On a 来文: that it was refused, or that it is a corrected re-send of a refused one. */
export function RefusalNote({ doc }: { doc: any }) {
  if (doc.kind !== 'shouwen') return null
  return (
    <>
      {doc.status === 'refused' && <p class="refusal-note">本来文已拒收（已退文），理由：{doc.data?.refusalReason}</p>}
      {doc.previousIncomingId && (
        <p class="resent-note">
          来文单位更正后重新分发（更正说明：{doc.correctionNote ?? doc.data?.correctionNote}）。原来文：<a href={`/app/track/${doc.previousIncomingId}`}>已退回的来文</a>
          {(doc.previousRefusalReason ?? doc.data?.previousRefusalReason) && (
            <span class="muted">（退文理由：{doc.previousRefusalReason ?? doc.data?.previousRefusalReason}）</span>
          )}
        </p>
      )}
    </>
  )
}
