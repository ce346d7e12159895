// Who is calling: a person with a login token, or an integrator with a unit-bound API key.
import type { ApiScope } from '../api-scopes.ts'

export interface Principal {
  userId: string
  unitId: string
  departmentId: string | null
  name: string
  /** Roles held, each also as role@department (e.g. dept_head@liuzhou-gov-zonghe). */
  roles: string[]
  /** web for people, api for integrators; recorded with every action. */
  channel: 'web' | 'api'
  /** 'mobile' when a person's client says it runs on a phone (X-Gongwen-Channel: mobile); people only. */
  client?: 'mobile'
  /** The key an integrator called with: what it may do (see api-scopes.ts). */
  apiKey?: { id: string; name: string; scopes: ApiScope[] }
}

/** The channel an action is recorded (and printed on the 笺) with: 网页, 移动端 or 接口. */
export function recordedChannel(p: Principal): 'web' | 'mobile' | 'api' {
  if (p.channel === 'api') return 'api'
  return p.client === 'mobile' ? 'mobile' : 'web'
}
