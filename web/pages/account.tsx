// 本人账号 (/app/account): change one's own password. Every other session of the person ends (the
// server raises the token version); this page goes on with the new token. The unit's password
// policy, if any, is checked by the server and its message shown under the field.
import { useState } from 'preact/hooks'
import { Notice, Problem, Shell, mount } from '../components/shell.tsx'
import { ApiError, changePassword, currentUser } from '../lib/api.ts'

function AccountPage() {
  const me = currentUser()
  const [form, setForm] = useState({ oldPassword: '', newPassword: '', repeat: '' })
  const [error, setError] = useState<unknown>(null)
  const [notice, setNotice] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const field = (name: keyof typeof form) => ({
    id: name, name, type: 'password' as const, required: true, value: form[name],
    onInput: (e: Event) => setForm({ ...form, [name]: (e.currentTarget as HTMLInputElement).value }),
  })

  const submit = async (e: Event) => {
    e.preventDefault()
    setError(null)
    setNotice(null)
    if (form.newPassword !== form.repeat) {
      setError(new ApiError(400, '两次输入的新密码不一致', 'VALIDATION', [{ field: 'repeat', message: '请再输入一遍同样的新密码' }]))
      return
    }
    setBusy(true)
    try {
      await changePassword(form.oldPassword, form.newPassword)
      setForm({ oldPassword: '', newPassword: '', repeat: '' })
      setNotice('密码已修改。您在其他设备上的登录已全部失效，需用新密码重新登录。')
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }

  return (
    <Shell active="account">
      <h1>本人账号</h1>
      <p class="muted">{me?.name}（{me?.userId}）· {me?.unitId}</p>
      <form class="card narrow" aria-label="修改密码" onSubmit={submit}>
        <h2>修改密码</h2>
        <Problem error={error} />
        <Notice text={notice} />
        <label class="field-label" for="oldPassword">原密码</label>
        <input {...field('oldPassword')} autoComplete="current-password" />
        <label class="field-label" for="newPassword">新密码</label>
        <input {...field('newPassword')} autoComplete="new-password" />
        <label class="field-label" for="repeat">再次输入新密码</label>
        <input {...field('repeat')} autoComplete="new-password" />
        <button type="submit" class="primary" disabled={busy}>{busy ? '正在保存……' : '修改密码'}</button>
      </form>
    </Shell>
  )
}

mount(AccountPage)
