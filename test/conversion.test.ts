// 转笺 and 合并 keep every file version (by sha256) and every routing-log entry.
import { createHash, randomBytes } from 'node:crypto'
import t from 'tap'
import { Api, startFawen, startStack, taskFor, waitFor } from './helpers/stack.ts'
import { act, documentAs } from './helpers/flows.ts'

const stack = await startStack()
t.teardown(() => stack.close())
const api = new Api(stack)

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
const bytes = (n: number) => randomBytes(n)

async function hashes(as: string, id: string) {
  const res = await api.as(as).get(`/documents/${id}/files`)
  if (res.status !== 200) throw new Error(`files of ${id}: ${res.status}`)
  return res.body.items.filter((f: any) => !f.fromSource).flatMap((f: any) => f.versions.map((v: any) => `${f.kind}:${v.sha256}`)).sort()
}
const entries = (log: any[]) => log.map((e) => JSON.stringify([e.stepName, e.actorId, e.route, e.opinion, e.at]))

t.test('转笺: a 收文 being handled becomes a 呈阅笺 with its files and log', async (t) => {
  const res = await api.as('fengxue').post('/documents', { kind: 'shouwen', data: { title: '关于校园安全检查的来函', sourceUnit: '柳州市应急管理局', urgency: '加急' } })
  t.equal(res.status, 201)
  const id = res.body.id
  const v1 = bytes(3000), v2 = bytes(3100), att = bytes(800)
  t.equal((await api.upload('fengxue', `/documents/${id}/files`, { bytes: v1, name: '来函.pdf', type: 'application/pdf' }, { kind: '正文' })).status, 201)
  const second = await api.upload('fengxue', `/documents/${id}/files`, { bytes: v2, name: '来函（更正）.pdf', type: 'application/pdf' }, { kind: '正文' })
  t.equal(second.body.version, 2)
  t.equal((await api.upload('fengxue', `/documents/${id}/files`, { bytes: att, name: '检查表.xlsx', type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' }, { kind: '附件' })).status, 201)
  await act(api, 'fengxue', id, 'dengji', { route: '送拟办' })
  await taskFor(api, 'wugang', id, 'niban')
  const before = await documentAs(api, 'wugang', id)
  const filesBefore = await hashes('wugang', id)
  t.same(filesBefore, [`正文:${sha(v1)}`, `正文:${sha(v2)}`, `附件:${sha(att)}`].sort())

  t.equal((await api.as('huangmei').post(`/documents/${id}/convert`)).status, 404, 'someone with no part in it cannot')
  const converted = await api.as('wugang').post(`/documents/${id}/convert`)
  t.equal(converted.status, 201, JSON.stringify(converted.body))
  const newId = converted.body.id
  t.equal(converted.body.kind, 'chengyue')
  t.same(await hashes('wugang', newId), filesBefore, 'every version of every file came along, same hashes')
  t.same(entries(converted.body.log).slice(0, before.log.length), entries(before.log), 'the routing log came along whole')
  await taskFor(api, 'wugang', newId, 'nigao')
  const old = await waitFor('the 收文 flow ended', async () => {
    const d = await documentAs(api, 'wugang', id)
    return d.status === 'canceled' && d
  })
  t.equal(old.mergedInto, newId, 'the 收文 points at its 呈阅笺')
  t.equal((await api.as('wugang').post(`/documents/${id}/convert`)).status, 400, 'it cannot be converted twice')
})

t.test('合并: related 发文 merge into one, keeping all files and log entries', async (t) => {
  const a = await startFawen(api)
  const b = await startFawen(api)
  const fa = bytes(2000), fb1 = bytes(2100), fb2 = bytes(2200)
  await api.upload('zhangwei', `/documents/${a}/files`, { bytes: fa, name: '正文A.docx', type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' }, { kind: '正文' })
  await api.upload('zhangwei', `/documents/${b}/files`, { bytes: fb1, name: '正文B.docx', type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' }, { kind: '正文' })
  await api.upload('zhangwei', `/documents/${b}/files`, { bytes: fb2, name: '正文B2.docx', type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' }, { kind: '正文' })
  for (const id of [a, b]) await act(api, 'zhangwei', id, 'nigao', { route: '送审核', nextHandler: 'lina', opinion: `请审核${id.slice(0, 4)}` })
  await taskFor(api, 'lina', a, 'shenhe')
  await taskFor(api, 'lina', b, 'shenhe')
  const logB = (await documentAs(api, 'zhangwei', b)).log
  const logA = (await documentAs(api, 'zhangwei', a)).log
  const filesBefore = [...(await hashes('zhangwei', a)), ...(await hashes('zhangwei', b))]

  const self = await api.as('zhangwei').post(`/documents/${a}/merge`, { from: [a] })
  t.equal(self.status, 400)
  t.equal(self.body.details[0].field, 'from')
  t.equal((await api.as('huangmei').post(`/documents/${a}/merge`, { from: [b] })).status, 404, 'another unit cannot')
  const merged = await api.as('zhangwei').post(`/documents/${a}/merge`, { from: [b] })
  t.equal(merged.status, 200, JSON.stringify(merged.body))
  const after = await hashes('zhangwei', a)
  t.same(after.map((h: string) => h.split(':')[1]).sort(), filesBefore.map((h) => h.split(':')[1]).sort(), 'all versions of both documents, same hashes')
  const all = entries(merged.body.log)
  t.ok([...entries(logA), ...entries(logB)].every((e) => all.includes(e)), 'every log entry of both documents is in the merged log')
  await waitFor('B’s flow ended', async () => (await documentAs(api, 'zhangwei', b)).status === 'canceled')
  await waitFor('B’s task left lina’s inbox', async () => !(await api.as('lina').get('/tasks')).body.items.some((x: any) => x.documentId === b))
  t.equal((await documentAs(api, 'zhangwei', b)).mergedInto, a)
})
