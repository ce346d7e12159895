// Steps shared by the flow tests: wait for a person's task and complete it over REST.
import type { Api } from './stack.ts'
import { taskFor } from './stack.ts'

/** Waits for `user`'s task at `step` on the document, completes it, and returns the task key. */
export async function act(api: Api, user: string, documentId: string, step: string, body: { route: string; nextHandler?: string; opinion?: string; data?: Record<string, unknown> }) {
  const task = await taskFor(api, user, documentId, step)
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
