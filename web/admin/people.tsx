// 人员: the unit's people with department and roles; add a person (username, name, department,
// initial password, roles); change a person's name, department, roles or password; unlock an
// account locked by failed logins; end a person's login sessions (强制下线).
import { useState } from 'preact/hooks'
import { useAction } from './use-action.ts'
import { Notice, Problem, fieldError } from '../components/shell.tsx'
import { post, patch } from '../lib/api.ts'
import { formatTime, roleLabels } from '../lib/format.ts'
import type { Department } from './departments.tsx'

export interface Person {
  id: string
  username: string
  name: string
  departmentId: string | null
  department: string | null
  roles: string[]
  integrator: boolean
  /** Locked by failed logins until then; null when not locked. */
  lockedUntil: string | null
}

interface Draft {
  username: string
  name: string
  departmentId: string
  password: string
  roles: string[]
}

const roles = Object.keys(roleLabels)
const value = (e: Event) => (e.currentTarget as HTMLInputElement).value

function RoleChoices({ chosen, onChange, prefix }: { chosen: string[]; onChange: (roles: string[]) => void; prefix: string }) {
  return (
    <div class="role-choices" role="group" aria-label="角色">
      {roles.map((r) => (
        <label key={r}>
          <input type="checkbox" name={`${prefix}-role`} value={r} checked={chosen.includes(r)}
            onChange={(e) => onChange((e.currentTarget as HTMLInputElement).checked ? [...chosen, r] : chosen.filter((x) => x !== r))} />
          {roleLabels[r]}
        </label>
      ))}
    </div>
  )
}

export function People({ people, departments, onChange }: { people: Person[]; departments: Department[]; onChange: () => Promise<unknown> }) {
  const empty: Draft = { username: '', name: '', departmentId: departments[0]?.id ?? '', password: '', roles: [] }
  const [draft, setDraft] = useState<Draft>(empty)
  const [editing, setEditing] = useState<(Omit<Draft, 'username'> & { id: string }) | null>(null)
  const { error, notice, run } = useAction(onChange)
  const add = async (e: Event) => {
    e.preventDefault()
    const body = { ...draft, departmentId: draft.departmentId || departments[0]?.id }
    if (await run(() => post('/admin/people', body), `已新增人员“${draft.name.trim()}”（${draft.username}）`)) setDraft(empty)
  }
  const save = async (e: Event) => {
    e.preventDefault()
    if (!editing) return
    const { id, password, ...rest } = editing
    const body = password ? { ...rest, password } : rest
    if (await run(() => patch(`/admin/people/${encodeURIComponent(id)}`, body), `已保存“${editing.name.trim()}”`)) setEditing(null)
  }
  const unlock = (p: Person) => run(() => post(`/admin/people/${encodeURIComponent(p.id)}/unlock`), `已解锁“${p.name}”的账号`)
  const revoke = (p: Person) => run(() => post(`/admin/people/${encodeURIComponent(p.id)}/revoke-sessions`), `“${p.name}”的登录已全部失效，须重新登录`)
  const err = (field: string) => fieldError(error, field) && <span class="field-error">{fieldError(error, field)}</span>

  return (
    <section class="card admin-section" id="people" aria-label="人员">
      <h2>人员与角色</h2>
      <Problem error={error} />
      <Notice text={notice} />
      <table class="list compact">
        <thead><tr><th>用户名</th><th>姓名</th><th>科室</th><th>角色</th><th /></tr></thead>
        <tbody>
          {people.map((p) => editing?.id === p.id ? (
            <tr key={p.id} data-id={p.id} class="editing">
              <td data-label="用户名">{p.username}</td>
              <td colSpan={4}>
                <form class="inline-form" onSubmit={save}>
                  <div class="field"><label class="field-label" for="edit-name">姓名</label>
                    <input id="edit-name" value={editing.name} required maxLength={50} onInput={(e) => setEditing({ ...editing, name: value(e) })} /></div>
                  <div class="field"><label class="field-label" for="edit-department">科室</label>
                    <select id="edit-department" value={editing.departmentId} onChange={(e) => setEditing({ ...editing, departmentId: value(e) })}>
                      {departments.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
                    </select></div>
                  {!p.integrator && <div class="field"><label class="field-label" for="edit-password">新密码（不改则留空）</label>
                    <input id="edit-password" type="password" autoComplete="new-password" minLength={8} value={editing.password} onInput={(e) => setEditing({ ...editing, password: value(e) })} /></div>}
                  <RoleChoices prefix="edit" chosen={editing.roles} onChange={(r) => setEditing({ ...editing, roles: r })} />
                  <button type="submit" class="primary small">保存</button>
                  <button type="button" class="small" onClick={() => setEditing(null)}>取消</button>
                </form>
              </td>
            </tr>
          ) : (
            <tr key={p.id} data-id={p.id}>
              <td data-label="用户名">{p.username}{p.integrator && <span class="tag subtle">接口账号</span>}
                {p.lockedUntil && <span class="tag step locked" title={`因连续密码错误锁定，至 ${formatTime(p.lockedUntil)} 自动解锁`}>已锁定</span>}</td>
              <td data-label="姓名">{p.name}</td>
              <td data-label="科室">{p.department ?? '—'}</td>
              <td data-label="角色" class="roles">{p.roles.map((r) => roleLabels[r] ?? r).join('、') || '—'}</td>
              <td class="row-actions">
                <button type="button" class="small" onClick={() => setEditing({ id: p.id, name: p.name, departmentId: p.departmentId ?? departments[0]?.id ?? '', password: '', roles: p.roles })}>修改</button>
                {p.lockedUntil && <button type="button" class="small" onClick={() => unlock(p)}>解锁</button>}
                {!p.integrator && <button type="button" class="small" title="使此人所有已登录的会话失效" onClick={() => revoke(p)}>强制下线</button>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>新增人员</h2>
      <form class="inline-form" id="add-person" onSubmit={add}>
        <div class="field"><label class="field-label" for="person-username">用户名</label>
          <input id="person-username" required pattern="[a-z][a-z0-9_.\-]{2,39}" title="小写字母开头，3–40 位字母、数字、_ . -" value={draft.username} onInput={(e) => setDraft({ ...draft, username: value(e) })} />{err('username')}</div>
        <div class="field"><label class="field-label" for="person-name">姓名</label>
          <input id="person-name" required maxLength={50} value={draft.name} onInput={(e) => setDraft({ ...draft, name: value(e) })} />{err('name')}</div>
        <div class="field"><label class="field-label" for="person-department">科室</label>
          <select id="person-department" value={draft.departmentId || departments[0]?.id} onChange={(e) => setDraft({ ...draft, departmentId: value(e) })}>
            {departments.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
          </select>{err('departmentId')}</div>
        <div class="field"><label class="field-label" for="person-password">初始密码（至少 8 位）</label>
          <input id="person-password" type="password" autoComplete="new-password" required minLength={8} value={draft.password} onInput={(e) => setDraft({ ...draft, password: value(e) })} />{err('password')}</div>
        <RoleChoices prefix="new" chosen={draft.roles} onChange={(r) => setDraft({ ...draft, roles: r })} />
        <button type="submit" class="primary">新增人员</button>
      </form>
    </section>
  )
}
