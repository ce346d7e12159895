// 流程设计 (/app/modeler, unit admins): edit the unit's 发文, 分文报批 or 呈阅笺 in a bpmn-js modeler
// with the Camunda 7 properties, bind each user task to its 笺, role and field permissions from
// lists, check (校验) with the problems shown on the diagram, and deploy a new version for this
// unit only.
import { useEffect, useRef, useState } from 'preact/hooks'
import { Notice, Problem, Shell, mount } from '../components/shell.tsx'
import { BindingPanel, type FormInfo } from '../admin/modeler/binding-panel.tsx'
import { createModeler } from '../admin/modeler/editor.ts'
import { clearProblems, elementOf, reveal, showProblems } from '../admin/modeler/problems.ts'
import { Versions, versionLabel, type Version } from '../admin/modeler/versions.tsx'
import { ApiError, currentUser, get, post, type FieldProblem } from '../lib/api.ts'
import '../admin/admin.css'

interface Flow {
  baseId: string
  name: string
  form: string
  processId: string
  versions: Version[]
}

declare global {
  interface Window {
    __modeler?: any
  }
}

function ModelerPage() {
  const canvasRef = useRef<HTMLDivElement>(null)
  const panelRef = useRef<HTMLDivElement>(null)
  const [modeler, setModeler] = useState<any>(null)
  const [flows, setFlows] = useState<Flow[]>([])
  const [forms, setForms] = useState<FormInfo[]>([])
  const [baseId, setBaseId] = useState('fawen')
  const [loaded, setLoaded] = useState<Version | null>(null)
  const [selected, setSelected] = useState<any>(null)
  const [revision, setRevision] = useState(0)
  const [problems, setProblems] = useState<FieldProblem[] | null>(null)
  const [error, setError] = useState<unknown>(null)
  const [notice, setNotice] = useState<string | null>(null)
  const [busy, setBusy] = useState<string | null>(null)
  const opened = useRef<string | null>(null)
  const flow = flows.find((f) => f.baseId === baseId)

  const refresh = () => get<Flow[]>('/processes').then(setFlows, setError)

  const isAdmin = !!currentUser()?.roles.includes('unit_admin')

  useEffect(() => {
    if (!isAdmin) return
    const m = createModeler(canvasRef.current!, panelRef.current!)
    window.__modeler = m
    const pick = () => {
      const [el] = m.get('selection').get()
      setSelected(el?.type === 'bpmn:UserTask' ? el : null)
    }
    m.on('selection.changed', pick)
    m.on('commandStack.changed', () => {
      setRevision((r) => r + 1)
      pick()
    })
    setModeler(m)
    refresh()
    get<FormInfo[]>('/forms').then(setForms, setError)
    return () => m.destroy()
  }, [])

  // Opens the version new documents use whenever the flow changes (or the list first arrives).
  useEffect(() => {
    if (modeler && flow && opened.current !== baseId) {
      opened.current = baseId
      const current = flow.versions.find((v) => v.current) ?? flow.versions[0]
      if (current) open(current)
    }
  }, [modeler, flow, baseId])

  async function open(v: Version) {
    setError(null)
    setNotice(null)
    setProblems(null)
    canvasRef.current!.removeAttribute('data-ready')
    try {
      const xml = await get<string>(`/processes/${v.key}/xml`)
      await modeler.importXML(xml)
      modeler.get('canvas').zoom('fit-viewport', 'auto')
      setLoaded(v)
      setSelected(null)
      canvasRef.current!.setAttribute('data-ready', 'true')
    } catch (err) {
      setError(err)
    }
  }

  async function check(action: 'lint' | 'deploy') {
    setBusy(action)
    setError(null)
    setNotice(null)
    clearProblems(modeler)
    try {
      const { xml } = await modeler.saveXML({ format: true })
      if (action === 'lint') {
        const res = await post<{ problems: FieldProblem[] }>(`/processes/${baseId}/lint`, { xml })
        setProblems(res.problems)
        showProblems(modeler, res.problems)
        if (res.problems.length) reveal(modeler, res.problems[0].field)
        if (!res.problems.length) setNotice('校验通过，可以部署。')
      } else {
        const res = await post<{ processDefinitionKey: string; version: number }>(`/processes/${baseId}/deploy`, { xml })
        setProblems([])
        // the version list is refreshed before the notice, so whoever reads the notice sees the new version listed
        const list = await get<Flow[]>('/processes')
        setFlows(list)
        setLoaded(list.find((f) => f.baseId === baseId)?.versions.find((x) => x.key === res.processDefinitionKey) ?? null)
        setNotice(`已部署为本单位流程的第 ${res.version} 版：本单位的新公文按此版本办理，办理中的公文仍按原版本办结。`)
      }
    } catch (err) {
      if (err instanceof ApiError && err.details.length) {
        setProblems(err.details)
        showProblems(modeler, err.details)
        reveal(modeler, err.details[0].field)
      }
      setError(err instanceof ApiError && err.details.length ? new Error(`${err.message.split('：')[0]}。请按下列问题修改后再部署。`) : err)
    } finally {
      setBusy(null)
    }
  }

  if (!isAdmin) {
    return <Shell active="modeler"><p class="alert error">只有单位管理员可以设计流程。</p></Shell>
  }
  return (
    <Shell active="modeler">
      <div class="modeler-head">
        <h1>流程设计</h1>
        <div class="tabs" role="tablist">
          {flows.map((f) => (
            <button type="button" key={f.baseId} role="tab" class={`tab${f.baseId === baseId ? ' active' : ''}`} aria-selected={f.baseId === baseId} onClick={() => setBaseId(f.baseId)}>{f.name}</button>
          ))}
        </div>
        <span class="muted">{loaded ? `正在编辑：${flow?.name ?? ''} ${versionLabel(loaded)}` : ''}</span>
        <div class="modeler-actions">
          <button type="button" id="lint" disabled={!loaded || !!busy} onClick={() => check('lint')}>{busy === 'lint' ? '正在校验……' : '校验'}</button>
          <button type="button" id="deploy" class="primary" disabled={!loaded || !!busy} onClick={() => check('deploy')}>{busy === 'deploy' ? '正在部署……' : '部署为本单位新版本'}</button>
        </div>
      </div>
      <p class="muted small">修改只对本单位生效：部署后本单位的新公文按新版本办理，办理中的公文按原版本办结。分文报批须保留电子来文的开始事件。表达式只能引用变量、作比较和判断（如 <code>{"${route == '送签发'}"}</code>），除 <code>json.list(…)</code> 等少数写法外不能调用方法。</p>
      <Problem error={error} />
      <Notice text={notice} />
      {problems && problems.length > 0 && (
        <ol class="problem-list" aria-label="校验问题">
          {problems.map((p, i) => {
            const id = modeler && elementOf(modeler.get('elementRegistry'), p.field)
            return (
              <li key={i} data-field={p.field}>
                {id ? <button type="button" class="link" onClick={() => reveal(modeler, p.field)}>{id}</button> : <span class="tag subtle">{p.field}</span>} {p.message}
              </li>
            )
          })}
        </ol>
      )}
      <div class="modeler-layout">
        <div class="modeler-canvas" ref={canvasRef} aria-label="流程图编辑区" />
        <aside class="modeler-side">
          {selected && modeler ? (
            <BindingPanel modeler={modeler} element={selected} forms={forms} revision={revision} />
          ) : (
            <p class="card muted small">选中一个用户任务，在此选择它的笺、办理角色、意见栏和各字段的权限。</p>
          )}
          <div class="properties" ref={panelRef} aria-label="属性" />
        </aside>
      </div>
      <h2>版本</h2>
      {flow && <Versions versions={flow.versions} loaded={loaded?.key ?? null} onOpen={open} />}
    </Shell>
  )
}

mount(ModelerPage)
