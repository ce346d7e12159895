// The frame of every logged-in page: top bar with navigation and the user, the 涉密 notice, and
// mount(), which sends a visitor without a token to the login page first.
import type { ComponentChildren, ComponentType } from 'preact'
import { render } from 'preact'
import { ApiError, currentUser, logout, redirectToLogin } from '../lib/api.ts'
import { lightLabels } from '../lib/format.ts'
import '../styles/app.css'

export function mount(Page: ComponentType, opts: { public?: boolean } = {}): void {
  if (!opts.public && !currentUser()) {
    redirectToLogin()
    return
  }
  const root = document.getElementById('app')!
  root.textContent = '' // the shell's loading text
  render(<Page />, root)
}

export function Shell({ children, active }: { children: ComponentChildren; active?: string }) {
  const me = currentUser()
  const link = (href: string, label: string, name: string) => (
    <a href={href} class={active === name ? 'active' : undefined}>{label}</a>
  )
  return (
    <div class="app">
      <header class="topbar">
        <a class="brand" href="/app/inbox">公文流转</a>
        <nav>
          {link('/app/inbox', '待办', 'inbox')}
          {link('/app/delegation', '委托', 'delegation')}
          {link('/app/supervision', '督办', 'supervision')}
          {me?.roles.includes('unit_admin') && link('/app/modeler', '流程设计', 'modeler')}
          {me?.roles.includes('unit_admin') && link('/app/admin', '单位管理', 'admin')}
          {me?.roles.includes('platform_admin') && link('/app/platform', '组织机构', 'platform')}
          {(me?.roles.includes('office_head') || me?.roles.includes('unit_admin')) && link('/app/operations', '运行监控', 'operations')}
        </nav>
        <a class={`who${active === 'account' ? ' active' : ''}`} href="/app/account" title={`${me?.unitId ?? ''}：修改密码`}>{me?.name}</a>
        <button type="button" class="link light" onClick={logout}>退出</button>
      </header>
      <main class="page">{children}</main>
      <footer class="notice">本系统只办理内部和公开公文，严禁处理涉密文件。</footer>
    </div>
  )
}

/** An error from the API: its message and, per field, what is wrong. */
export function Problem({ error }: { error: unknown }) {
  if (!error) return null
  const message = error instanceof Error ? error.message : String(error)
  // Details the message already says (one problem) are not repeated.
  const details = error instanceof ApiError ? error.details.filter((d) => !message.includes(d.message)) : []
  return (
    <div class="alert error" role="alert">
      <strong>{message}</strong>
      {details.length > 0 && (
        <ul>{details.map((d) => <li key={d.field + d.message}>{d.message}</li>)}</ul>
      )}
    </div>
  )
}

export function Notice({ text }: { text: string | null }) {
  return text ? <div class="alert ok" role="status">{text}</div> : null
}

/** The message for one field, when the last error named it. */
export function fieldError(error: unknown, field: string): string | undefined {
  if (!(error instanceof ApiError)) return undefined
  return error.details.find((d) => d.field === field || d.field.startsWith(`${field}.`) || d.field.startsWith(`${field}/`))?.message
}

export function Light({ light, deadline }: { light: string | null; deadline?: string | null }) {
  if (!light) return <span class="muted">—</span>
  const label = lightLabels[light] ?? light
  return (
    <span class={`light light-${light}`} title={deadline ? `时限 ${new Date(deadline).toLocaleString('zh-CN')}` : undefined}>
      <i aria-hidden="true" />{label}
    </span>
  )
}

export function Urgency({ value }: { value: string | null | undefined }) {
  if (!value) return null
  return <span class={`urgency urgency-${value === '特急' ? 'high' : value === '加急' ? 'mid' : 'low'}`}>{value}</span>
}
