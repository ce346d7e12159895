// The field failures of issue 11, each as a behaviour through REST on the real engine: JSON taken
// as typed, receipt times the server's, 用印 needs a 正文, 撤回 judged by whether the next
// handler opened the task, 转笺/合并 carry the sender's files, the true channel of an opinion,
// and the deploy lint's opinion boxes.
import t from 'tap'
import { Api, draft, startFawen, startStack, taskFor, waitFor } from './helpers/stack.ts'
import { act, documentAs } from './helpers/flows.ts'

const stack = await startStack()
t.teardown(() => stack.close())
const api = new Api(stack)

/** A refusal with the project's error body naming `field`. */
function refusedNaming(t: Pick<typeof import('tap').default, 'equal' | 'ok'>, res: { status: number; body: any }, status: number, field: string) {
  t.equal(res.status, status, JSON.stringify(res.body))
  t.ok(res.body?.details?.some((d: { field: string }) => d.field === field), `names ${field}: ${JSON.stringify(res.body?.details)}`)
}

t.test('JSON is taken as typed, and text that cannot be stored is refused naming the field', async (t) => {
  const id = await startFawen(api)
  const nigao = await taskFor(api, 'zhangwei', id, 'nigao')
  refusedNaming(t, await api.as('zhangwei').post(`/tasks/${nigao.taskKey}/complete`, { route: '送审核', nextHandler: 'lina', opinion: 123 }), 400, 'opinion')
  refusedNaming(t, await api.as('zhangwei').post(`/tasks/${nigao.taskKey}/complete`, { route: '送审核', nextHandler: 'lina', opinion: true }), 400, 'opinion')
  refusedNaming(t, await api.as('zhangwei').post(`/tasks/${nigao.taskKey}/complete`, { route: ['送审核'], nextHandler: 'lina' }), 400, 'route')
  refusedNaming(t, await api.as('zhangwei').post('/people/me/phrases', { text: 42 }), 400, 'text')
  const surrogate = await api.call('POST', '/documents', { as: 'zhangwei', raw: '{"kind":"fawen","data":{"title":"\\ud800关于"}}' })
  refusedNaming(t, surrogate, 400, 'data.title')
  const inOpinion = await api.call('POST', `/tasks/${nigao.taskKey}/complete`, { as: 'zhangwei', raw: '{"route":"送审核","nextHandler":"lina","opinion":"同意\\udc00"}' })
  refusedNaming(t, inOpinion, 400, 'opinion')
  t.equal((await api.as('zhangwei').get(`/tasks/${nigao.taskKey}`)).body.state ?? 'open', 'open', 'the task is still open')
  t.same((await documentAs(api, 'zhangwei', id)).log, [], 'nothing was recorded')
  // query strings still carry numbers and booleans as text
  const page = await api.as('zhangwei').get('/documents?mine=true&limit=1&offset=0')
  t.equal(page.status, 200, JSON.stringify(page.body))
  t.equal(page.body.items.length, 1)
  t.equal((await api.as('zhangwei').post(`/tasks/${nigao.taskKey}/complete`, { route: '送审核', nextHandler: 'lina', opinion: '123' })).status, 200, 'the same opinion as text goes through')
})

t.test('the receipt time is the server’s, set once at 签收/登记: a client-sent 收文时间 is refused', async (t) => {
  const paper = { title: '关于开展校园安全检查的函', sourceUnit: '柳州市应急管理局', urgency: '平件' }
  const forged = await api.as('fengxue').post('/documents', { kind: 'shouwen', data: { ...paper, receivedAt: '2020-01-01T00:00:00Z' } })
  refusedNaming(t, forged, 400, 'receivedAt')
  t.match(forged.body.message, /收文时间/)
  const before = Date.now()
  const res = await api.as('fengxue').post('/documents', { kind: 'shouwen', data: paper })
  t.equal(res.status, 201, JSON.stringify(res.body))
  const id = res.body.id
  const doc = await documentAs(api, 'fengxue', id)
  const at = Date.parse(doc.receivedAt)
  t.ok(at >= before - 5000 && at <= Date.now() + 5000, `received now by the server’s clock: ${doc.receivedAt}`)
  t.equal(Date.parse(doc.data.receivedAt), at, 'the 笺 field holds the same time')
  // 登记 cannot change it either
  const dengji = await taskFor(api, 'fengxue', id, 'dengji')
  const changed = await api.as('fengxue').post(`/tasks/${dengji.taskKey}/complete`, { route: '送拟办', data: { receivedAt: '2020-01-01T00:00:00Z' } })
  refusedNaming(t, changed, 400, 'receivedAt')
  const again = await documentAs(api, 'fengxue', id)
  t.equal(again.receivedAt, doc.receivedAt, 'unchanged')
  const jian = await api.as('fengxue').get(`/documents/${id}/jian?print=1`)
  t.equal(jian.status, 200)
  t.notMatch(String(jian.body), /2020/, 'the printed 笺 does not show the forged date')
  t.match(String(jian.body), new RegExp(String(new Date(at).getUTCFullYear())), 'it shows the server’s')

})
