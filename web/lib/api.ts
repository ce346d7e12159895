// The REST client of the pages: the login token kept in localStorage, sent as Authorization:
// Bearer; errors as ApiError with the server's Chinese message and field details.

const TOKEN_KEY = 'gongwen.token'
const USER_KEY = 'gongwen.user'

export interface Me {
  userId: string
  unitId: string
  departmentId: string | null
  name: string
  roles: string[]
}

export interface FieldProblem {
  field: string
  message: string
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    readonly details: FieldProblem[] = [],
  ) {
    super(message)
  }
}

export const token = () => localStorage.getItem(TOKEN_KEY)

export function currentUser(): Me | null {
  const raw = localStorage.getItem(USER_KEY)
  return raw && token() ? (JSON.parse(raw) as Me) : null
}

/** Changes one's own password: every other session ends, this page keeps working with the new token. */
export async function changePassword(oldPassword: string, newPassword: string): Promise<void> {
  const res = await request<{ token: string }>('POST', '/auth/password', { oldPassword, newPassword })
  localStorage.setItem(TOKEN_KEY, res.token)
}

/** Ends the session on the server too (its token stops working), then forgets it here. */
export async function logout(): Promise<void> {
  await request('POST', '/auth/logout').catch(() => undefined)
  localStorage.removeItem(TOKEN_KEY)
  localStorage.removeItem(USER_KEY)
  location.href = '/app/login'
}

/** Sends the browser to the login page, to come back here afterwards. */
export function redirectToLogin(): void {
  location.href = `/app/login?next=${encodeURIComponent(location.pathname + location.search)}`
}

export async function login(username: string, password: string): Promise<Me> {
  const res = await request<{ token: string; user: Me }>('POST', '/auth/login', { username, password }, { anonymous: true })
  localStorage.setItem(TOKEN_KEY, res.token)
  localStorage.setItem(USER_KEY, JSON.stringify(res.user))
  return res.user
}

async function request<T>(method: string, path: string, body?: unknown, opts: { anonymous?: boolean; headers?: Record<string, string> } = {}): Promise<T> {
  const headers: Record<string, string> = { ...opts.headers }
  // Opinions and other actions are recorded with their channel: 移动端 from a phone.
  if (onPhone()) headers['x-gongwen-channel'] = 'mobile'
  const t = token()
  if (t && !opts.anonymous) headers.authorization = `Bearer ${t}`
  let payload: BodyInit | undefined
  if (body instanceof FormData) payload = body
  else if (body !== undefined) {
    headers['content-type'] = 'application/json'
    payload = JSON.stringify(body)
  }
  let res: Response
  try {
    res = await fetch(path, { method, headers, body: payload })
  } catch {
    throw new ApiError(0, '无法连接服务器，请检查网络后重试')
  }
  if (res.status === 401 && !opts.anonymous) {
    localStorage.removeItem(TOKEN_KEY)
    redirectToLogin()
    throw new ApiError(401, '登录已失效，请重新登录')
  }
  const text = await res.text()
  let data: any = null
  try {
    data = text ? JSON.parse(text) : null
  } catch {
    data = text
  }
  if (!res.ok) throw new ApiError(res.status, data?.message ?? `请求失败（${res.status}）`, data?.code, data?.details ?? [])
  return data as T
}

export const get = <T = any>(path: string) => request<T>('GET', path)
export const post = <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => request<T>('POST', path, body ?? {}, { headers })
export const upload = <T = any>(path: string, form: FormData) => request<T>('POST', path, form)
export const put = <T = any>(path: string, body: unknown) => request<T>('PUT', path, body)
export const patch = <T = any>(path: string, body: unknown) => request<T>('PATCH', path, body)

/** A query string from the set values only. */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
  const s = q.toString()
  return s ? `?${s}` : ''
}

/** Downloads a file version with the token (a plain link could not send it). */
export function download(versionId: string, name: string): Promise<void> {
  return saveFrom(`/files/versions/${versionId}`, name)
}

/** Saves what a GET of `path` answers as a file named `name`, sending the token. */
export async function saveFrom(path: string, name: string): Promise<void> {
  const res = await fetch(path, { headers: { authorization: `Bearer ${token()}` } })
  if (!res.ok) throw new ApiError(res.status, `下载失败（${res.status}）`)
  const url = URL.createObjectURL(await res.blob())
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
}

/** Opens a file version in a new tab (PDF, images, text) for preview. */
export async function preview(versionId: string): Promise<void> {
  const win = window.open('', '_blank')
  const res = await fetch(`/files/versions/${versionId}`, { headers: { authorization: `Bearer ${token()}` } })
  if (!res.ok) {
    win?.close()
    throw new ApiError(res.status, `打开失败（${res.status}）`)
  }
  const url = URL.createObjectURL(await res.blob())
  if (win) win.location.href = url
  else location.href = url
}

/** Whether the app runs on a phone: a mobile user agent, or a narrow touch screen. */
export function onPhone(): boolean {
  if (typeof navigator === 'undefined') return false
  if (/Android.*Mobile|iPhone|iPod|Windows Phone|HarmonyOS.*Mobile|MicroMessenger.*Mobile/i.test(navigator.userAgent)) return true
  return typeof matchMedia === 'function' && matchMedia('(max-width: 640px) and (pointer: coarse)').matches
}
