// The 办理 panel of a task: 办理方式 (only the routes the model allows here), the next handler
// (only the people the server offers for that route), the opinion with 常用意见, and submit;
// 退回 to an earlier handler and 转办 to a colleague; on a task I completed, 撤回.
import { useEffect, useState } from 'preact/hooks'
import { currentUser, get, post, query } from '../lib/api.ts'
import { fieldError } from './shell.tsx'

interface Route { name: string; nextStep: string | null; nextRole: string | null; needsHandler: boolean; handlers: Array<{ id: string; name: string }> }
interface Props {
  task: any
  edits: () => Record<string, unknown>
  error: unknown
  onError: (err: unknown) => void
  onDone: (message: string) => void
}

export function ActionPanel({ task, edits, error, onError, onDone }: Props) {
  const routes: Route[] = task.routes ?? []
  // A submission the unit admin gave back after the engine kept refusing it: offered again.
  const saved = task.savedSubmission as { route: string; nextHandler: string | null; opinion: string | null } | null
  const [route, setRoute] = useState(saved && routes.some((r) => r.name === saved.route) ? saved.route : routes.length === 1 ? routes[0].name : '')
  const [handler, setHandler] = useState(saved?.nextHandler ?? '')
  const [opinion, setOpinion] = useState(saved?.opinion ?? '')
  const [phrases, setPhrases] = useState<Array<{ id: string; text: string }>>([])
  const [colleagues, setColleagues] = useState<Array<{ id: string; name: string }>>([])
  const [returnTo, setReturnTo] = useState('')
  const [transferTo, setTransferTo] = useState('')
  const [busy, setBusy] = useState(false)
  const me = currentUser()
  const box = task.form?.opinion as { label: string; blankSignature: string | null } | null
  const chosen = routes.find((r) => r.name === route)
  const role = task.candidateRole ? String(task.candidateRole).split('@')[0] : null

  const loadPhrases = () => get('/people/me/phrases').then(setPhrases, () => undefined)
  useEffect(() => {
    loadPhrases()
    if (role && task.state === 'open') get(`/people${query({ role })}`).then((people) => setColleagues(people.filter((p: any) => p.id !== me?.userId)), () => undefined)
  }, [task.taskKey])

  const run = async (work: () => Promise<string>) => {
    setBusy(true)
    onError(null)
    try {
      onDone(await work())
    } catch (err) {
      onError(err)
      setBusy(false)
    }
  }
  const submit = (e: Event) => {
    e.preventDefault()
    run(async () => {
      const data = edits()
      const res = await post(`/tasks/${task.taskKey}/complete`, {
        route, opinion: opinion.trim() || undefined, nextHandler: handler || undefined, ...(Object.keys(data).length ? { data } : {}),
      })
      return res.state === 'pending' ? '办理已保存，流程引擎恢复后将自动提交。' : `已${route}。`
    })
  }
  const savePhrase = async () => {
    try {
      await post('/people/me/phrases', { text: opinion.trim() })
      await loadPhrases()
    } catch (err) {
      onError(err)
    }
  }
  const text = (e: Event) => (e.currentTarget as HTMLInputElement).value
  const writeOpinion = (value: string) => {
    setOpinion(value)
    if (fieldError(error, 'opinion')) onError(null)
  }

  if (task.state === 'canceled') {
    return <section class="card actions-panel"><h2>办理</h2><p>此事项已收回或已结束，无需办理。</p></section>
  }
  if (task.stuck) {
    return (
      <section class="card actions-panel">
        <h2>办理</h2>
        <p class="alert error">您的办理（{task.route}）多次提交到流程引擎均未成功，已转单位管理员处理（失败待处理）。</p>
        <p class="muted small">您填写的内容已保存，不会丢失；单位管理员重试成功后流程将继续，放弃时此事项会回到您的待办。</p>
      </section>
    )
  }
  if (task.state !== 'open') {
    return (
      <section class="card actions-panel">
        <h2>办理</h2>
        <p>您已办理此事项{task.route ? `（${task.route}）` : ''}。</p>
        <p class="muted small">下一步办理人尚未打开时，可以撤回。</p>
        <button type="button" disabled={busy} onClick={() => run(async () => {
          await post(`/tasks/${task.taskKey}/withdraw`, {})
          return '已撤回，公文回到您的待办。'
        })}>撤回</button>
      </section>
    )
  }

  return (
    <form class="card actions-panel" onSubmit={submit} aria-label="办理">
      <h2>办理</h2>
      {saved && <p class="muted small">已恢复上次未能提交到流程引擎的办理内容，请核对后重新提交。</p>}
      <fieldset class="routes">
        <legend>办理方式</legend>
        {routes.map((r) => (
          <label key={r.name} class="choice route">
            <input type="radio" name="route" value={r.name} checked={route === r.name} onChange={() => { setRoute(r.name); setHandler('') }} />
            <span>{r.name}</span>{r.nextStep && <small class="muted">→ {r.nextStep}</small>}
          </label>
        ))}
        {fieldError(error, 'route') && <small class="field-error">{fieldError(error, 'route')}</small>}
      </fieldset>
      {chosen?.needsHandler && (
        <div class={`field${fieldError(error, 'nextHandler') ? ' invalid' : ''}`}>
          <label class="field-label" for="nextHandler">下一步办理人</label>
          <select id="nextHandler" name="nextHandler" value={handler} onChange={(e) => setHandler(text(e))}>
            <option value="">{chosen.nextStep ?? '下一步'}的所有人员</option>
            {chosen.handlers.map((h) => <option key={h.id} value={h.id}>{h.name}</option>)}
          </select>
          {fieldError(error, 'nextHandler') && <small class="field-error">{fieldError(error, 'nextHandler')}</small>}
        </div>
      )}
      <div class={`field${fieldError(error, 'opinion') ? ' invalid' : ''}`}>
        <label class="field-label" for="opinion">
          {box ? `${box.label}意见` : '意见'}{box && !box.blankSignature && <span class="req" aria-label="必填">*</span>}
        </label>
        {phrases.length > 0 && (
          <select name="phrase" aria-label="常用意见" value="" onChange={(e) => writeOpinion(text(e))}>
            <option value="">常用意见……</option>
            {phrases.map((p) => <option key={p.id} value={p.text}>{p.text}</option>)}
          </select>
        )}
        <textarea id="opinion" name="opinion" rows={4} maxLength={2000} value={opinion} onInput={(e) => writeOpinion(text(e))} />
        {fieldError(error, 'opinion') && <small class="field-error">{fieldError(error, 'opinion')}</small>}
        {opinion.trim() && !phrases.some((p) => p.text === opinion.trim()) && (
          <button type="button" class="link small" onClick={savePhrase}>存为常用意见</button>
        )}
      </div>
      <button type="submit" class="primary wide" disabled={busy || !route}>{route ? `提交：${route}` : '请选择办理方式'}</button>

      {task.returnTargets?.length > 0 && (
        <div class="other-action">
          <label class="field-label" for="returnTo">退回</label>
          <div class="inline">
            <select id="returnTo" name="returnTo" value={returnTo} onChange={(e) => setReturnTo(text(e))}>
              <option value="">选择退回到……</option>
              {task.returnTargets.map((r: any) => <option key={r.taskKey} value={r.taskKey}>{r.stepName}（{r.handlerName}）</option>)}
            </select>
            <button type="button" disabled={busy || !returnTo} onClick={() => run(async () => {
              await post(`/tasks/${task.taskKey}/return`, { toTaskKey: returnTo, opinion: opinion.trim() || undefined })
              return '已退回。'
            })}>退回</button>
          </div>
        </div>
      )}
      {role && colleagues.length > 0 && (
        <div class="other-action">
          <label class="field-label" for="transferTo">转办</label>
          <div class="inline">
            <select id="transferTo" name="transferTo" value={transferTo} onChange={(e) => setTransferTo(text(e))}>
              <option value="">选择同事……</option>
              {colleagues.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
            </select>
            <button type="button" disabled={busy || !transferTo} onClick={() => run(async () => {
              await post(`/tasks/${task.taskKey}/transfer`, { to: transferTo, opinion: opinion.trim() || undefined })
              return '已转办。'
            })}>转办</button>
          </div>
        </div>
      )}
    </form>
  )
}
