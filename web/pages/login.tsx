// 登录: username and password; the token goes to localStorage and the user back where they were.
import { useState } from 'preact/hooks'
import { Problem, mount } from '../components/shell.tsx'
import { login } from '../lib/api.ts'
import { params } from '../lib/format.ts'

function LoginPage() {
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [error, setError] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)

  const submit = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      await login(username.trim(), password)
      const next = params().next
      // Only a path of this site, never another origin.
      location.href = next && next.startsWith('/app/') ? next : '/app/inbox'
    } catch (err) {
      setError(err)
      setBusy(false)
    }
  }

  return (
    <div class="login">
      <form class="card login-card" onSubmit={submit}>
        <h1>公文流转</h1>
        <p class="muted">请使用本单位分配的账号登录</p>
        <Problem error={error} />
        <label class="field-label" for="username">用户名</label>
        <input id="username" name="username" autoComplete="username" required value={username} onInput={(e) => setUsername((e.currentTarget as HTMLInputElement).value)} />
        <label class="field-label" for="password">密码</label>
        <input id="password" name="password" type="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword((e.currentTarget as HTMLInputElement).value)} />
        <button type="submit" class="primary" disabled={busy}>{busy ? '正在登录……' : '登录'}</button>
        <p class="notice-inline">本系统只办理内部和公开公文，严禁处理涉密文件。</p>
      </form>
    </div>
  )
}

mount(LoginPage, { public: true })
