// Steps shared by the flow tests: wait for a person's task and complete it over REST.
import type { Api } from './stack.ts'
import { taskFor } from './stack.ts'

/** Waits for `user`'s task at `step` on the document, completes it, and returns the task key. */
export async function act(api: Api, user: string, documentId: string, step: string, body: { route: string; nextHandler?: string; opinion?: string; data?: Record<string, unknown> }) {
  const task = await taskFor(api, user, documentId, step)
  // 用印 needs a 正文; the 盖章 handler adds the fixed-layout one where a test has not.
  if (body.route === '用印') await ensureZhengwen(api, user, documentId)
  // Steps with an opinion box need an opinion; '同意' stands in where a test does not care.
  const res = await api.as(user).post(`/tasks/${task.taskKey}/complete`, { opinion: '同意', ...body })
  if (res.status !== 200) throw new Error(`${user} could not complete ${step}: ${res.status} ${JSON.stringify(res.body)}`)
  return task.taskKey
}

export async function documentAs(api: Api, user: string, id: string) {
  const res = await api.as(user).get(`/documents/${id}`)
  if (res.status !== 200) throw new Error(`${user} cannot read ${id}: ${res.status}`)
  return res.body
}

/** Uploads a small 正文 (PDF) as `user` unless the document has one: 用印 refuses a document without. */
export async function ensureZhengwen(api: Api, user: string, documentId: string) {
  const files = await api.as(user).get(`/documents/${documentId}/files`)
  if (files.status === 200 && files.body.items.some((f: { kind: string; fromSource: boolean }) => f.kind === '正文' && !f.fromSource)) return
  const res = await api.upload(user, `/documents/${documentId}/files`, { bytes: Buffer.from(`%PDF-1.4\n% 正文 ${documentId}\n%%EOF\n`), name: '正文.pdf', type: 'application/pdf' }, { kind: '正文' })
  if (res.status !== 201) throw new Error(`${user} could not upload the 正文 of ${documentId}: ${res.status} ${JSON.stringify(res.body)}`)
}
