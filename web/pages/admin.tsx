// 单位管理 (/app/admin, unit admins): the unit's departments, people and their roles, and the unit's
// settings (办理时限, 空白签名, 发文字号 prefixes, seal, notification channels), and 失败待处理
// (completions and notifications the system gave up retrying), and 接口密钥 (integrators' API keys
// with their scopes), and 行为审计 (the unit's audit trail).
import { useEffect, useState } from 'preact/hooks'
import { Problem, Shell, mount } from '../components/shell.tsx'
import { Departments, type Department } from '../admin/departments.tsx'
import { People, type Person } from '../admin/people.tsx'
import { Settings } from '../admin/settings.tsx'
import { DeadLetters } from '../admin/dead-letters.tsx'
import { ApiKeys } from '../admin/api-keys.tsx'
import { Audit } from '../admin/audit.tsx'
import { currentUser, get } from '../lib/api.ts'
import '../admin/admin.css'

const tabs = [
  { id: 'people', label: '人员与角色' },
  { id: 'departments', label: '科室' },
  { id: 'settings', label: '单位设置' },
  { id: 'api-keys', label: '接口密钥' },
  { id: 'dead-letters', label: '失败待处理' },
  { id: 'audit', label: '行为审计' },
]

function AdminPage() {
  const [tab, setTab] = useState(() => (tabs.some((t) => `#${t.id}` === location.hash) ? location.hash.slice(1) : 'people'))
  const [departments, setDepartments] = useState<Department[]>([])
  const [people, setPeople] = useState<Person[]>([])
  const [error, setError] = useState<unknown>(null)

  const load = () => Promise.all([
    get<Department[]>('/admin/departments').then(setDepartments, setError),
    get<Person[]>('/admin/people').then(setPeople, setError),
  ])
  useEffect(() => void load(), [])
  const choose = (id: string) => {
    setTab(id)
    history.replaceState(null, '', `#${id}`)
  }

  if (!currentUser()?.roles.includes('unit_admin')) {
    return <Shell active="admin"><p class="alert error">只有单位管理员可以管理本单位的科室、人员和设置。</p></Shell>
  }
  return (
    <Shell active="admin">
      <h1>单位管理</h1>
      <div class="tabs" role="tablist">
        {tabs.map((t) => (
          <button type="button" key={t.id} role="tab" class={`tab${t.id === tab ? ' active' : ''}`} aria-selected={t.id === tab} onClick={() => choose(t.id)}>{t.label}</button>
        ))}
      </div>
      <Problem error={error} />
      {tab === 'people' && <People people={people} departments={departments} onChange={load} />}
      {tab === 'departments' && <Departments departments={departments} onChange={load} />}
      {tab === 'settings' && <Settings />}
      {tab === 'api-keys' && <ApiKeys />}
      {tab === 'dead-letters' && <DeadLetters />}
      {tab === 'audit' && <Audit />}
    </Shell>
  )
}

mount(AdminPage)
