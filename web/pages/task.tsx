// 办理 (/app/task/<key>): the 笺 with this step's fields to fill, the files, the routing log, and
// the panel to act: 办理方式, next handler, opinion (常用意见), submit; 退回, 转办, and 撤回 once done.
import { useEffect, useState } from 'preact/hooks'
import { RefusalNote } from '../components/refusal.tsx'
import { ActionPanel } from '../components/action-panel.tsx'
import { AddSignerPanel } from '../components/add-signer-panel.tsx'
import { FieldList, type Schema, useDirectory } from '../components/fields.tsx'
import { Files } from '../components/files.tsx'
import { RoutingLog } from '../components/routing-log.tsx'
import { Light, Notice, Problem, Shell, Urgency, fieldError, mount } from '../components/shell.tsx'
import { ApiError, currentUser, get, token } from '../lib/api.ts'
import { formatTime, kindLabels, pathArg } from '../lib/format.ts'

function TaskPage() {
  const key = pathArg()
  const dir = useDirectory()
  const [task, setTask] = useState<any>(null)
  const [full, setFull] = useState<Schema | null>(null)
  const [values, setValues] = useState<Record<string, unknown>>({})
  const [error, setError] = useState<unknown>(null)
  const [notice, setNotice] = useState<string | null>(null)
  const [printing, setPrinting] = useState(false)
  // A signer added before the handler (加签) only signs: the 办理 panel is not theirs to use.
  const [signing, setSigning] = useState(false)

  const load = async () => {
    try {
      const t = await get(`/tasks/${key}`)
      setTask(t)
      setValues({ ...(t.form?.data ?? t.document.data ?? {}), ...(t.savedSubmission?.data ?? {}) })
      if (t.form) get(`/forms/${t.form.key}?version=${t.form.version}`).then((f) => setFull(f.schema), () => undefined)
    } catch (err) {
      setError(err)
    }
  }
  useEffect(() => { load() }, [key])

  if (!task) {
    return <Shell active="inbox">{error ? <Problem error={error} /> : <p class="muted">正在加载……</p>}<a href="/app/inbox">返回待办</a></Shell>
  }
  const form = task.form
  const open = task.state === 'open'
  const mine = task.assignee === null || task.assignee === currentUser()?.userId
  const visible: string[] = form ? [...form.editable, ...form.readOnly] : Object.keys(task.document.data ?? {})
  const order = full ? Object.keys(full.properties ?? {}).filter((f) => visible.includes(f)) : visible
  const edits = () => Object.fromEntries((form?.editable ?? []).filter((f: string) => JSON.stringify(values[f]) !== JSON.stringify(form.data[f])).map((f: string) => [f, values[f]]))
  const done = (message: string) => {
    setNotice(message)
    setTimeout(() => { location.href = '/app/inbox' }, 1200)
  }

  return (
    <Shell active="inbox">
      <div class="crumbs"><a href="/app/inbox">待办</a> › {task.stepName}</div>
      <header class="doc-head">
        <h1>{task.document.title}</h1>
        <div class="doc-meta">
          <span class="tag">{kindLabels[task.document.kind] ?? task.document.kind}</span>
          <span class="tag step">{task.stepName}</span>
          <Urgency value={task.document.data?.urgency} />
          {open && <Light light={task.light} deadline={task.deadline} />}
          {task.document.docNumber && <span class="doc-number">{task.document.docNumber}</span>}
          <span class="muted">收到 {formatTime(task.createdAt)}</span>
          <a href={`/app/track/${task.document.id}`}>流程跟踪</a>
          <button type="button" class="link" onClick={() => openJian(task.document.id).catch(setError)}>查看笺</button>
          <button type="button" class="link" disabled={printing} aria-busy={printing} onClick={() => {
            setPrinting(true)
            setError(null)
            downloadPdf(task.document.id, task.document.title).catch(setError).finally(() => setPrinting(false))
          }}>{printing ? <><span class="spinner" aria-hidden="true" />正在生成 PDF…</> : '下载 PDF'}</button>
        </div>
        <RefusalNote doc={task.document} />
      </header>
      <Notice text={notice} />
      <Problem error={error} />
      <div class="task-layout">
        <div class="task-main">
          <section class="card jian" aria-label={form?.title ?? '笺'}>
            <h2>{form?.title ?? '笺'}</h2>
            <FieldList
              order={order}
              schema={form?.schema ?? {}}
              fullSchema={full?.properties}
              labels={form?.labels ?? {}}
              editable={open && mine ? form?.editable ?? [] : []}
              values={values}
              required={form?.schema?.required ?? []}
              error={(f) => fieldError(error, f)}
              dir={dir}
              onChange={(f, v) => setValues((old) => ({ ...old, [f]: v }))}
            />
          </section>
          <section class="card">
            <h2>正文与附件</h2>
            <Files documentId={task.document.id} canUpload={open} />
          </section>
          <section class="card">
            <h2>流转日志</h2>
            <RoutingLog log={task.document.log} />
          </section>
        </div>
        <aside class="task-side">
          {!signing && <ActionPanel task={task} edits={edits} error={error} onError={setError} onDone={done} />}
          {open && <AddSignerPanel taskKey={task.taskKey} onSigning={setSigning} onDone={done} />}
        </aside>
      </div>
    </Shell>
  )
}

/** The 笺 as printed (HTML from the server, fetched with the token, shown in a new tab). */
async function openJian(documentId: string) {
  const win = window.open('', '_blank')
  const res = await fetch(`/documents/${documentId}/jian?print=1`, { headers: { authorization: `Bearer ${token()}` } })
  if (!res.ok) {
    win?.close()
    throw new ApiError(res.status, `无法打开笺（${res.status}）`)
  }
  const url = URL.createObjectURL(new Blob([await res.text()], { type: 'text/html' }))
  if (win) win.location.href = url
}

/** The 笺 as a PDF, saved as <title>.pdf; a busy server answers 503 with when to try again. */
async function downloadPdf(documentId: string, title: string) {
  let res: Response
  try {
    res = await fetch(`/documents/${documentId}/jian.pdf`, { headers: { authorization: `Bearer ${token()}` } })
  } catch {
    throw new ApiError(0, '无法连接服务器，请检查网络后重试')
  }
  if (!res.ok) {
    const body = await res.json().catch(() => null)
    const wait = res.headers.get('retry-after')
    const message = body?.message ?? `无法生成 PDF（${res.status}）`
    throw new ApiError(res.status, wait ? `${message}（约 ${wait} 秒后可重试）` : message, body?.code)
  }
  const url = URL.createObjectURL(await res.blob())
  const link = document.createElement('a')
  link.href = url
  link.download = `${title}.pdf`
  link.click()
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
}

mount(TaskPage)
