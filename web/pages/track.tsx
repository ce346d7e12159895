// 跟踪 (/app/track/<documentId>): where a document is — its diagram with the steps done and the
// current ones marked, the routing log beside it, its files, and for a 发文 after 分发 each
// recipient unit's 签收 status.
import { useEffect, useState } from 'preact/hooks'
import { Diagram, type DiagramData } from '../components/diagram.tsx'
import { useDirectory } from '../components/fields.tsx'
import { Files, SealAlert } from '../components/files.tsx'
import { RefusalNote, ReceiptCell } from '../components/refusal.tsx'
import { RoutingLog } from '../components/routing-log.tsx'
import { CirculationPanel } from '../components/reading.tsx'
import { SupervisionMark } from '../components/supervision-mark.tsx'
import { Problem, Shell, Urgency, mount } from '../components/shell.tsx'
import { get } from '../lib/api.ts'
import { formatTime, kindLabels, pathArg, roleLabel, statusLabels } from '../lib/format.ts'

function TrackPage() {
  const id = pathArg()
  const [doc, setDoc] = useState<any>(null)
  const [diagram, setDiagram] = useState<DiagramData | null>(null)
  const [error, setError] = useState<unknown>(null)
  const dir = useDirectory()
  const nameOf = (userId: string) => dir.people.find((p) => p.id === userId)?.name ?? userId

  const reload = () => get(`/documents/${id}`).then(setDoc, setError)
  useEffect(() => {
    get(`/documents/${id}`).then(setDoc, setError)
    // The signers added (加签) are marked on the diagram; without them the diagram still shows.
    Promise.all([get(`/documents/${id}/diagram`), get(`/documents/${id}/signers`).catch(() => [])]).then(([d, signers]) => setDiagram({ ...d, signers }), setError)
  }, [id])

  if (!doc) return <Shell>{error ? <Problem error={error} /> : <p class="muted">正在加载……</p>}</Shell>
  const number = doc.docNumber ?? doc.data?.incomingNumber
  return (
    <Shell>
      <div class="crumbs"><a href="/app/inbox">待办</a> › 流程跟踪</div>
      <header class="doc-head">
        <h1>{doc.title}</h1>
        <div class="doc-meta">
          <span class="tag">{kindLabels[doc.kind] ?? doc.kind}</span>
          <span class={`status status-${doc.status}`}>{statusLabels[doc.status] ?? doc.status}</span>
          <Urgency value={doc.urgency} />
          {number && <span class="doc-number">{number}</span>}
          <span class="muted">起草 {formatTime(doc.createdAt)}</span>
        </div>
        {doc.currentSteps.length > 0 && (
          <p class="current-steps">
            当前步骤：{doc.currentSteps.map((s: any) => `${s.stepName}（${s.assignee ? nameOf(s.assignee) : roleLabel(s.candidateRole)}）`).join('、')}
          </p>
        )}
        {doc.frozen && <p class="muted frozen-note">已签发：正文、附件及标题、主送、抄送等字段不可再修改；如需更正，请另起公文并引用原文。</p>}
        <RefusalNote doc={doc} />
        {doc.kind === 'lianhe' && doc.sourceDocumentId && (
          <p class="lead-document">联合发文：本单位为联合发文单位，<a href={`/app/track/${doc.sourceDocumentId}`}>查看主办单位的发文</a></p>
        )}
        {doc.corrects && (
          <p class="corrects">更正：<a href={`/app/track/${doc.corrects.id}`}>{doc.corrects.docNumber ?? ''}{doc.corrects.title ? `《${doc.corrects.title}》` : '原公文'}</a></p>
        )}
        {doc.corrections?.length > 0 && (
          <p class="corrections">已被更正：{doc.corrections.map((c: any, i: number) => (
            <span key={c.id}>{i > 0 && '、'}<a href={`/app/track/${c.id}`}>{c.docNumber ?? ''}《{c.title}》</a></span>
          ))}</p>
        )}
      </header>
      {doc.sealIntact === false && <SealAlert />}
      <Problem error={error} />
      <div class="track-layout">
        <section class="card track-diagram">
          <h2>流程图</h2>
          {diagram ? <Diagram data={diagram} /> : <p class="muted">正在加载流程图……</p>}
        </section>
        <aside class="track-side">
          {doc.deliveries.length > 0 && (
            <section class="card">
              <h2>分发与签收</h2>
              <table class="list compact deliveries">
                <thead><tr><th>收文单位</th><th>类别</th><th>签收</th><th>签收时间</th></tr></thead>
                <tbody>
                  {doc.deliveries.map((d: any) => (
                    <tr key={d.unitId} data-unit={d.unitId}>
                      <td data-label="收文单位">{d.unitName}</td>
                      <td data-label="类别">{d.kind}</td>
                      <td data-label="签收"><ReceiptCell documentId={doc.id} d={d} onResent={reload} /></td>
                      <td data-label="签收时间">{formatTime(d.signedAt) || <span class="muted">—</span>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          )}
          {(doc.coIssuers?.length > 0 || doc.seals?.length > 1) && <JointIssuance doc={doc} />}
          <CirculationPanel documentId={doc.id} onChange={() => get(`/documents/${id}`).then(setDoc, setError)} />
          <SupervisionMark documentId={doc.id} finished={['completed', 'canceled'].includes(doc.status)} />
          <section class="card">
            <h2>流转日志</h2>
            <RoutingLog log={doc.log} />
          </section>
          <section class="card">
            <h2>正文与附件</h2>
            <Files documentId={doc.id} canUpload={false} sealAlert={false} />
          </section>
        </aside>
      </div>
    </Shell>
  )
}

/** 联合发文: each co-issuer's 会签 answer, and every issuer's seal (the lead's first). */
function JointIssuance({ doc }: { doc: any }) {
  const answer = (c: any) => (c.agreed === null || c.agreed === undefined ? '待会签' : c.agreed ? '同意' : '不同意')
  return (
    <section class="card joint-issuance">
      <h2>联合发文</h2>
      {doc.coIssuers?.length > 0 && (
        <table class="list compact co-issuers">
          <thead><tr><th>联合发文单位</th><th>会签</th><th>用印</th></tr></thead>
          <tbody>
            {doc.coIssuers.map((c: any) => (
              <tr key={c.unitId} data-unit={c.unitId}>
                <td data-label="联合发文单位">{c.unitName}</td>
                <td data-label="会签">{answer(c)}{c.opinion ? `（${c.opinion}）` : ''}</td>
                <td data-label="用印">{c.sealedAt ? formatTime(c.sealedAt) : <span class="muted">未用印</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>印章</h3>
      {doc.seals?.length ? (
        <ul class="seals">
          {doc.seals.map((s: any) => (
            <li key={s.unitId} data-unit={s.unitId}>{s.sealName}{s.lead ? '（主办）' : ''} <span class="muted">{formatTime(s.sealedAt)}</span></li>
          ))}
        </ul>
      ) : (
        <p class="muted">尚未盖章</p>
      )}
    </section>
  )
}

mount(TrackPage)
