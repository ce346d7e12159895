// 正文与附件: every file of the document with its versions (newest first); download or preview a
// version, and, where the caller may, upload a new file or a new version of one.
import { useEffect, useState } from 'preact/hooks'
import { download, get, preview, upload } from '../lib/api.ts'
import { formatSize, formatTime } from '../lib/format.ts'
import { Problem } from './shell.tsx'

interface Version {
  versionId: string
  version: number
  name: string
  size: number
  mimeType: string
  sha256: string
  uploaderName: string | null
  uploadedAt: string
}
interface DocFile {
  fileId: string
  kind: string
  name: string
  fromSource?: boolean
  versions: Version[]
}

/** The sealed 正文 no longer matches its seal record: shown in red wherever the files are. */
export function SealAlert() {
  return (
    <div class="alert error seal-alert" role="alert">
      <strong>正文文件与盖章时的记录不一致，可能已被篡改，请联系管理员。</strong>该正文已停止下载。
    </div>
  )
}

const previewable = (mime: string) => /^(application\/pdf|image\/|text\/plain)/.test(mime)

/** `sealAlert`: show the broken-seal alert here (off where the page shows it already). */
export function Files({ documentId, canUpload, sealAlert = true }: { documentId: string; canUpload: boolean; sealAlert?: boolean }) {
  const [files, setFiles] = useState<DocFile[] | null>(null)
  const [seal, setSeal] = useState<{ sealIntact: boolean | null; sealedVersionId: string | null }>({ sealIntact: null, sealedVersionId: null })
  const [error, setError] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)
  const [kind, setKind] = useState('正文')

  const load = () => get<{ items: DocFile[]; sealIntact: boolean | null; sealedVersionId: string | null }>(`/documents/${documentId}/files`).then((r) => {
    setFiles(r.items)
    setSeal({ sealIntact: r.sealIntact, sealedVersionId: r.sealedVersionId })
  }, setError)
  useEffect(() => { load() }, [documentId])

  const send = async (path: string, file: File | undefined, fields: Record<string, string> = {}) => {
    if (!file) return
    const form = new FormData()
    for (const [k, v] of Object.entries(fields)) form.append(k, v)
    form.append('file', file, file.name)
    setBusy(true)
    setError(null)
    try {
      await upload(path, form)
      await load()
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }
  const picked = (e: Event) => {
    const input = e.currentTarget as HTMLInputElement
    const file = input.files?.[0]
    input.value = ''
    return file
  }
  const act = (work: Promise<void>) => work.catch(setError)

  const hasBody = files?.some((f) => f.kind === '正文' && !f.fromSource)
  return (
    <div class="files">
      {sealAlert && seal.sealIntact === false && <SealAlert />}
      <Problem error={error} />
      {files === null ? <p class="muted">正在加载……</p> : files.length === 0 ? <p class="muted">尚无正文或附件。</p> : (
        <ul class="file-list">
          {files.map((f) => {
            const [latest, ...older] = f.versions
            return (
              <li key={f.fileId} data-file-kind={f.kind}>
                <div class="file-head">
                  <span class="tag">{f.kind}</span>
                  <span class="file-name">{latest?.name ?? f.name}</span>
                  {latest && <span class="muted">第 {latest.version} 版 · {formatSize(latest.size)}</span>}
                  {f.fromSource && <span class="tag subtle">来文单位</span>}
                  {latest && latest.versionId === seal.sealedVersionId && <span class="tag">已盖章</span>}
                </div>
                {latest && (
                  <div class="file-meta muted">{latest.uploaderName ?? ''} {formatTime(latest.uploadedAt)}<span class="sha" title={latest.sha256}> SHA-256 {latest.sha256.slice(0, 12)}…</span></div>
                )}
                <div class="file-actions">
                  {latest && <button type="button" class="small" onClick={() => act(download(latest.versionId, latest.name))}>下载</button>}
                  {latest && previewable(latest.mimeType) && <button type="button" class="small" onClick={() => act(preview(latest.versionId))}>预览</button>}
                  {canUpload && !f.fromSource && (
                    <label class={`button small${busy ? ' disabled' : ''}`}>
                      上传新版本
                      <input type="file" hidden disabled={busy} onChange={(e) => send(`/documents/${documentId}/files/${f.fileId}/versions`, picked(e))} />
                    </label>
                  )}
                </div>
                {older.length > 0 && (
                  <details>
                    <summary>历史版本（{older.length}）</summary>
                    <ul class="versions">
                      {older.map((v) => (
                        <li key={v.versionId}>
                          第 {v.version} 版 · {v.name} · {formatSize(v.size)} · {v.uploaderName ?? ''} {formatTime(v.uploadedAt)}
                          <button type="button" class="small link" onClick={() => act(download(v.versionId, v.name))}>下载</button>
                        </li>
                      ))}
                    </ul>
                  </details>
                )}
              </li>
            )
          })}
        </ul>
      )}
      {canUpload && (
        <div class="upload-row">
          <select aria-label="文件类别" value={kind} onChange={(e) => setKind((e.currentTarget as HTMLSelectElement).value)}>
            <option value="正文">{hasBody ? '正文（新版本）' : '正文'}</option>
            <option value="附件">附件</option>
          </select>
          <label class={`button${busy ? ' disabled' : ''}`}>
            {busy ? '正在上传……' : '上传文件'}
            <input type="file" name="file" hidden disabled={busy} onChange={(e) => send(`/documents/${documentId}/files`, picked(e), { kind })} />
          </label>
        </div>
      )}
    </div>
  )
}
