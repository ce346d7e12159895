// 组织机构 (/app/platform, the platform administrator): the tree of units (city → 区县 → 部门/乡镇)
// with their 统一社会信用代码, state and admins; create, rename, deactivate, merge; import from a
// CSV/XLSX spreadsheet with a dry run whose problems are listed row by row; name a unit's admins.
import { useEffect, useState } from 'preact/hooks'
import { Notice, Problem, Shell, fieldError, mount } from '../components/shell.tsx'
import { useAction } from '../admin/use-action.ts'
import { currentUser, get, patch, post } from '../lib/api.ts'
import '../admin/admin.css'
import '../admin/platform.css'

interface Unit {
  id: string
  name: string
  creditCode: string | null
  level: string
  parentId: string | null
  active: boolean
  mergedInto: string | null
  docNumberPrefix: string
  sealName: string
  peopleCount: number
  admins: Array<{ id: string; name: string }>
}

interface Report {
  dryRun: boolean
  ok: boolean
  rows: number
  created: string[]
  updated: string[]
  problems: Array<{ row: number; field: string; message: string }>
}

const levels: Record<string, string> = { city: '市', county: '区县', department: '部门', township: '乡镇' }
const columnNames: Record<string, string> = { id: '单位编号', name: '单位名称', creditCode: '统一社会信用代码', level: '层级', parentId: '上级单位编号', docNumberPrefix: '发文字号前缀', sealName: '印章名称' }
const value = (e: Event) => (e.currentTarget as HTMLInputElement).value

function PlatformPage() {
  const [units, setUnits] = useState<Unit[]>([])
  const [loadError, setLoadError] = useState<unknown>(null)
  const load = () => get<Unit[]>('/platform/units').then(setUnits, setLoadError)
  useEffect(() => void load(), [])
  if (!currentUser()?.roles.includes('platform_admin')) {
    return <Shell active="platform"><p class="alert error">只有平台管理员可以管理组织机构。</p></Shell>
  }
  return (
    <Shell active="platform">
      <h1>组织机构</h1>
      <Problem error={loadError} />
      <Tree units={units} onChange={load} />
      <NewUnit units={units} onChange={load} />
      <Import onChange={load} />
    </Shell>
  )
}

function Tree({ units, onChange }: { units: Unit[]; onChange: () => Promise<unknown> }) {
  const { error, notice, run } = useAction(onChange)
  const [open, setOpen] = useState<{ id: string; what: 'rename' | 'merge' | 'admin' } | null>(null)
  const [form, setForm] = useState<Record<string, string>>({})
  const byParent = (parent: string | null) => units.filter((u) => u.parentId === parent)
  const nameOf = (id: string | null) => units.find((u) => u.id === id)?.name ?? id
  const set = (k: string) => (e: Event) => setForm({ ...form, [k]: value(e) })
  const act = async (e: Event, u: Unit) => {
    e.preventDefault()
    const done =
      open?.what === 'rename' ? await run(() => patch(`/platform/units/${encodeURIComponent(u.id)}`, { name: form.name }), `已改名为“${form.name}”`)
      : open?.what === 'merge' ? await run(() => post(`/platform/units/${encodeURIComponent(u.id)}/merge`, { into: form.into }), `${u.name}已并入${nameOf(form.into)}`)
      : await run(() => post(`/platform/units/${encodeURIComponent(u.id)}/admins`, { username: form.username, name: form.name, password: form.password }), `已指定${form.name}为${u.name}的管理员`)
    if (done) setOpen(null)
  }
  const deactivate = (u: Unit) => {
    if (confirm(`停用“${u.name}”？其公文和历史仍可查阅，但不能再起草新公文，也不再接收分发。`)) void run(() => post(`/platform/units/${encodeURIComponent(u.id)}/deactivate`), `${u.name}已停用`)
  }
  const node = (u: Unit) => (
    <li key={u.id} data-id={u.id} class={u.active ? undefined : 'muted'}>
      <div class="unit-row">
        <strong>{u.name}</strong> <span class="tag">{levels[u.level] ?? u.level}</span>{' '}
        <small class="muted">{u.id} · {u.creditCode ?? '（无信用代码）'}</small>{' '}
        {!u.active && <span class="tag">{u.mergedInto ? `已并入${nameOf(u.mergedInto)}` : '已停用'}</span>}
        <small> 管理员：{u.admins.length ? u.admins.map((a) => a.name).join('、') : '未指定'}</small>
        {u.active && (
          <span class="row-actions">
            <button type="button" class="small" onClick={() => { setOpen({ id: u.id, what: 'rename' }); setForm({ name: u.name }) }}>改名</button>
            <button type="button" class="small" onClick={() => { setOpen({ id: u.id, what: 'admin' }); setForm({}) }}>指定管理员</button>
            <button type="button" class="small" onClick={() => { setOpen({ id: u.id, what: 'merge' }); setForm({}) }}>并入…</button>
            <button type="button" class="small" onClick={() => deactivate(u)}>停用</button>
          </span>
        )}
      </div>
      {open?.id === u.id && (
        <form class="inline" onSubmit={(e) => act(e, u)}>
          {open.what === 'rename' && <input aria-label="新名称" value={form.name ?? ''} required maxLength={100} onInput={set('name')} />}
          {open.what === 'merge' && (
            <select aria-label="并入单位" value={form.into ?? ''} required onChange={set('into')}>
              <option value="">选择并入的单位</option>
              {units.filter((o) => o.active && o.id !== u.id).map((o) => <option key={o.id} value={o.id}>{o.name}</option>)}
            </select>
          )}
          {open.what === 'admin' && (
            <>
              <input aria-label="用户名" placeholder="用户名" value={form.username ?? ''} required onInput={set('username')} />
              <input aria-label="姓名" placeholder="姓名" value={form.name ?? ''} required onInput={set('name')} />
              <input aria-label="初始密码" placeholder="初始密码" type="password" value={form.password ?? ''} required minLength={8} onInput={set('password')} />
            </>
          )}
          <button type="submit" class="small primary">确定</button>
          <button type="button" class="small" onClick={() => setOpen(null)}>取消</button>
        </form>
      )}
      {byParent(u.id).length > 0 && <ul class="tree">{byParent(u.id).map(node)}</ul>}
    </li>
  )
  return (
    <section class="card admin-section" id="tree" aria-label="组织树">
      <h2>组织树</h2>
      <Problem error={error} />
      <Notice text={notice} />
      <ul class="tree">{byParent(null).map(node)}</ul>
    </section>
  )
}

function NewUnit({ units, onChange }: { units: Unit[]; onChange: () => Promise<unknown> }) {
  const empty = { id: '', name: '', creditCode: '', level: 'county', parentId: '', docNumberPrefix: '', sealName: '' }
  const [u, setU] = useState(empty)
  const { error, notice, run } = useAction(onChange)
  const set = (k: keyof typeof empty) => (e: Event) => setU({ ...u, [k]: value(e) })
  const submit = async (e: Event) => {
    e.preventDefault()
    const body = { ...u, parentId: u.parentId || null, sealName: u.sealName || undefined, creditCode: u.creditCode.trim().toUpperCase() }
    if (await run(() => post('/platform/units', body), `已新建“${u.name}”，其流程已部署，可立即收发公文`)) setU(empty)
  }
  const field = (k: keyof typeof empty, label: string, input: preact.JSX.Element) => (
    <div class={`field${fieldError(error, k) ? ' invalid' : ''}`}>
      <label class="field-label" for={`unit-${k}`}>{label}</label>
      {input}
      {fieldError(error, k) && <small class="field-error">{fieldError(error, k)}</small>}
    </div>
  )
  return (
    <section class="card admin-section" id="new-unit" aria-label="新建单位">
      <h2>新建单位</h2>
      <Problem error={error} />
      <Notice text={notice} />
      <form class="fields" onSubmit={submit}>
        {field('id', '单位编号', <input id="unit-id" value={u.id} required placeholder="如 liubei-gov" onInput={set('id')} />)}
        {field('name', '单位名称', <input id="unit-name" value={u.name} required maxLength={100} onInput={set('name')} />)}
        {field('creditCode', '统一社会信用代码', <input id="unit-creditCode" value={u.creditCode} required maxLength={18} onInput={set('creditCode')} />)}
        {field('level', '层级', (
          <select id="unit-level" value={u.level} onChange={set('level')}>
            {Object.entries(levels).map(([k, v]) => <option key={k} value={k}>{v}</option>)}
          </select>
        ))}
        {field('parentId', '上级单位', (
          <select id="unit-parentId" value={u.parentId} onChange={set('parentId')}>
            <option value="">（无，顶级）</option>
            {units.filter((o) => o.active).map((o) => <option key={o.id} value={o.id}>{o.name}</option>)}
          </select>
        ))}
        {field('docNumberPrefix', '发文字号前缀', <input id="unit-docNumberPrefix" value={u.docNumberPrefix} required maxLength={20} onInput={set('docNumberPrefix')} />)}
        {field('sealName', '印章名称（可空）', <input id="unit-sealName" value={u.sealName} maxLength={100} onInput={set('sealName')} />)}
        <div><button type="submit" class="primary">新建单位</button></div>
      </form>
    </section>
  )
}

async function fileContent(file: File): Promise<{ format: 'csv' | 'xlsx'; content: string }> {
  if (!/\.xlsx$/i.test(file.name)) return { format: 'csv', content: await file.text() }
  const bytes = new Uint8Array(await file.arrayBuffer())
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return { format: 'xlsx', content: btoa(binary) }
}

function Import({ onChange }: { onChange: () => Promise<unknown> }) {
  const [file, setFile] = useState<File | null>(null)
  const [report, setReport] = useState<Report | null>(null)
  const [error, setError] = useState<unknown>(null)
  const send = async (dryRun: boolean) => {
    if (!file) return
    setError(null)
    setReport(null)
    try {
      setReport(await post<Report>('/platform/units/import', { ...(await fileContent(file)), dryRun }))
      if (!dryRun) await onChange()
    } catch (err) {
      setError(err)
    }
  }
  return (
    <section class="card admin-section" id="import" aria-label="导入单位">
      <h2>从表格导入</h2>
      <p class="hint">CSV（UTF-8）或 XLSX，第一行为列名：单位编号、单位名称、统一社会信用代码、层级（市/区县/部门/乡镇）、上级单位编号、发文字号前缀、印章名称（可空）。已有的单位编号为修改。先试导入：逐行检查，不做任何修改；正式导入要么全部成功，要么一行也不导入。</p>
      <div class="inline-form">
        <input type="file" aria-label="表格文件" accept=".csv,.xlsx" onChange={(e) => { setFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null); setReport(null) }} />
        <button type="button" disabled={!file} onClick={() => send(true)}>试导入</button>
        <button type="button" class="primary" disabled={!file} onClick={() => send(false)}>正式导入</button>
      </div>
      <Problem error={error} />
      {report && (
        <div class="import-report" role="status">
          {report.ok
            ? <p class="alert ok">{report.dryRun ? '检查通过，可以正式导入' : '已导入'}：共 {report.rows} 行，新建 {report.created.length} 个单位，修改 {report.updated.length} 个。</p>
            : <p class="alert error">共 {report.rows} 行，发现 {report.problems.length} 处问题，未做任何修改：</p>}
          {report.problems.length > 0 && (
            <table class="list compact">
              <thead><tr><th>行</th><th>字段</th><th>问题</th></tr></thead>
              <tbody>{report.problems.map((p) => <tr key={`${p.row}-${p.field}-${p.message}`}><td>{p.row}</td><td>{columnNames[p.field] ?? p.field}</td><td>{p.message}</td></tr>)}</tbody>
            </table>
          )}
        </div>
      )}
    </section>
  )
}

mount(PlatformPage)
