// 新建: a drafter starts a 发文 or 呈阅笺, a registry clerk registers a paper 收文. The fields are
// those of the flow's first step, from the 笺's schema; on success the first task opens.
import { useEffect, useMemo, useState } from 'preact/hooks'
import { get, post, query } from '../lib/api.ts'
import type { startable } from '../lib/format.ts'
import { FieldList, type Schema, useDirectory } from './fields.tsx'
import { Problem, fieldError } from './shell.tsx'

type Kind = (typeof startable)[number]

const defaults: Record<string, Record<string, unknown>> = {
  fawen: { urgency: '平件', publicity: '主动公开' },
  chengyue: { urgency: '平件' },
  shouwen: { urgency: '平件' },
}

export function NewDocument({ kind, onClose }: { kind: Kind; onClose: () => void }) {
  const dir = useDirectory()
  const [schema, setSchema] = useState<Schema | null>(null)
  const [values, setValues] = useState<Record<string, unknown>>(defaults[kind.kind] ?? {})
  const [error, setError] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)
  // One key per form opened: a double click or a retry after a timeout starts one document.
  const idempotencyKey = useMemo(randomKey, [kind.kind])

  useEffect(() => { get(`/forms/${kind.form}`).then((f) => setSchema(f.schema), setError) }, [kind.form])

  const submit = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      const data = Object.fromEntries(Object.entries(values).filter(([f, v]) => kind.fields.includes(f) && v !== undefined))
      const doc = await post('/documents', { kind: kind.kind, data }, { 'idempotency-key': idempotencyKey })
      // The first step reaches the inbox through the engine a moment later; open it when it does.
      for (let i = 0; i < 40; i++) {
        const inbox = await get(`/tasks${query({ kind: kind.kind, limit: 50 })}`)
        const task = inbox.items.find((t: any) => t.documentId === doc.id)
        if (task) {
          location.href = `/app/task/${task.taskKey}`
          return
        }
        await new Promise((r) => setTimeout(r, 250))
      }
      location.href = `/app/track/${doc.id}`
    } catch (err) {
      setError(err)
      setBusy(false)
    }
  }

  const required: string[] = schema?.required ?? []
  return (
    <form class="card new-document" onSubmit={submit} aria-label={kind.label}>
      <div class="card-head">
        <h2>{kind.label}</h2>
        <button type="button" class="link" onClick={onClose}>取消</button>
      </div>
      <Problem error={error} />
      {schema ? (
        <FieldList
          order={kind.fields.filter((f) => schema.properties?.[f])}
          schema={schema}
          labels={{}}
          editable={kind.fields}
          values={values}
          required={required}
          error={(f) => fieldError(error, f)}
          dir={dir}
          onChange={(f, v) => setValues((old) => ({ ...old, [f]: v }))}
        />
      ) : <p class="muted">正在加载……</p>}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || !schema}>{busy ? '正在提交……' : kind.kind === 'shouwen' ? '登记并办理' : '起草并办理'}</button>
      </div>
      <p class="muted small">起草后进入“{kind.kind === 'shouwen' ? '登记' : '拟稿'}”步骤，可上传正文与附件，再送下一步。</p>
    </form>
  )
}


/** A random key; crypto.randomUUID exists only on https or localhost, getRandomValues everywhere. */
function randomKey(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('')
}
