// PUT and PATCH for the admin pages (web/lib/api.ts offers GET, POST and uploads): the same token,
// the same ApiError with the server's Chinese message and field details.
import { ApiError, redirectToLogin, token } from '../lib/api.ts'

async function send<T>(method: 'PUT' | 'PATCH', path: string, body: unknown): Promise<T> {
  let res: Response
  try {
    res = await fetch(path, { method, headers: { authorization: `Bearer ${token()}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  } catch {
    throw new ApiError(0, '无法连接服务器，请检查网络后重试')
  }
  if (res.status === 401) {
    redirectToLogin()
    throw new ApiError(401, '登录已失效，请重新登录')
  }
  const data = await res.json().catch(() => null)
  if (!res.ok) throw new ApiError(res.status, data?.message ?? `请求失败（${res.status}）`, data?.code, data?.details ?? [])
  return data as T
}

export const put = <T = any>(path: string, body: unknown) => send<T>('PUT', path, body)
export const patch = <T = any>(path: string, body: unknown) => send<T>('PATCH', path, body)
