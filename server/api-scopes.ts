// What an integrator's API key may do: the scopes a unit admin grants per key, and the one table of
// routes a key may call with each. A route that is not in the table refuses every key (403), so a
// new route stays closed to keys until it is added here on purpose.

export const apiScopes = ['documents:start', 'documents:read', 'statistics:read', 'events:receive'] as const
export type ApiScope = (typeof apiScopes)[number]

/** The scopes as the admin pages and the OpenAPI document describe them. */
export const scopeNames: Record<ApiScope, string> = {
  'documents:start': '起草公文并办理本密钥发起的公文（待办、办理、撤回、退回、转办、上传正文附件、转笺与合并）',
  'documents:read': '查阅本单位的公文及其流转日志、流程图、笺和文件',
  'statistics:read': '查阅本单位的统计',
  'events:receive': '接收本密钥账号的通知（办理提醒、超期、催办、新待办）',
}

export const isApiScope = (s: string): s is ApiScope => (apiScopes as readonly string[]).includes(s)

/**
 * What a key needs for a route: any one of `scopes` ('any': every key, e.g. GET /me), and for
 * routes that act on a document, which document: the one named by the path (`document`: :id, and a
 * merge's `from`) or the task's (`task`: :key). A key acts only on documents it started.
 */
export interface KeyRoute {
  scopes: readonly ApiScope[] | 'any'
  actsOn?: 'document' | 'task'
}

const start = ['documents:start'] as const
const read = ['documents:read'] as const
const startOrRead = ['documents:start', 'documents:read'] as const

/** "METHOD /path" (as Fastify names the route) → what a key needs. HEAD follows GET. */
export const keyRoutes: Record<string, KeyRoute> = {
  'GET /me': { scopes: 'any' },

  'POST /documents': { scopes: start },
  'POST /documents/:id/convert': { scopes: start, actsOn: 'document' },
  'POST /documents/:id/merge': { scopes: start, actsOn: 'document' },
  'POST /documents/:id/files': { scopes: start, actsOn: 'document' },
  'POST /documents/:id/files/:fileId/versions': { scopes: start, actsOn: 'document' },
  'GET /tasks': { scopes: start },
  'GET /tasks/done': { scopes: start },
  'GET /tasks/:key': { scopes: start, actsOn: 'task' },
  'POST /tasks/:key/complete': { scopes: start, actsOn: 'task' },
  'POST /tasks/:key/withdraw': { scopes: start, actsOn: 'task' },
  'POST /tasks/:key/return': { scopes: start, actsOn: 'task' },
  'POST /tasks/:key/transfer': { scopes: start, actsOn: 'task' },
  'POST /tasks/:key/urge': { scopes: start, actsOn: 'task' },

  'GET /documents': { scopes: read },
  'GET /documents/:id': { scopes: read },
  'GET /documents/:id/diagram': { scopes: read },
  'GET /documents/:id/jian': { scopes: read },
  'GET /documents/:id/jian.pdf': { scopes: read },
  'GET /documents/:id/files': { scopes: read },
  'GET /files/versions/:versionId': { scopes: read },

  // What starting or reading needs to know: the 笺 and the directory (handlers, recipient units).
  'GET /forms': { scopes: startOrRead },
  'GET /forms/:key': { scopes: startOrRead },
  'GET /people': { scopes: startOrRead },
  'GET /people/:id': { scopes: startOrRead },
  'GET /departments': { scopes: startOrRead },
  'GET /units': { scopes: startOrRead },
  // Choosing 分发 recipients from the tree: a 发文's recipient fields take the same selection.
  'GET /recipient-groups': { scopes: startOrRead },
  'GET /recipient-lists': { scopes: startOrRead },
  'POST /recipients/resolve': { scopes: startOrRead },

  'GET /statistics': { scopes: ['statistics:read'] },
  'GET /operations/statistics': { scopes: ['statistics:read'] },
  'GET /operations/statistics.csv': { scopes: ['statistics:read'] },

  'GET /notifications': { scopes: ['events:receive'] },
  'POST /notifications/:id/read': { scopes: ['events:receive'] },
}

/** The table's entry for a request, or undefined (keys refused). */
export function keyRouteFor(method: string, url: string): KeyRoute | undefined {
  return keyRoutes[`${method === 'HEAD' ? 'GET' : method} ${url}`]
}

/** The Chinese sentence the OpenAPI document shows for a route. */
export function keyRouteNote(route: KeyRoute | undefined): string {
  if (!route) return 'API 密钥不能调用此接口。'
  if (route.scopes === 'any') return '任何 API 密钥均可调用。'
  const scopes = route.scopes.map((s) => `\`${s}\``).join(' 或 ')
  return `API 密钥须具有 ${scopes} 权限${route.actsOn ? '，且只能用于本密钥发起的公文' : ''}。`
}
