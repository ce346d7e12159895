// The field failures of issue 11, each as a behaviour through REST on the real engine: JSON taken
// as typed, receipt times the server's, 用印 needs a 正文, 撤回 judged by whether the next
// handler opened the task, 转笺/合并 carry the sender's files, the true channel of an opinion,
// and the deploy lint's opinion boxes.
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { Api, draft, inbox, startFawen, startStack, taskFor, waitFor } from './helpers/stack.ts'
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

t.test('撤回 is judged by whether the next handler opened the task, never by how fast the flow moves on', async (t) => {
  // right after sending, without waiting for anything
  const id = await startFawen(api)
  const nigao = await taskFor(api, 'zhangwei', id, 'nigao')
  t.equal((await api.as('zhangwei').post(`/tasks/${nigao.taskKey}/complete`, { route: '送审核', nextHandler: 'lina', opinion: '请审核' })).status, 200)
  const back = await api.as('zhangwei').post(`/tasks/${nigao.taskKey}/withdraw`, { opinion: '还需修改' })
  t.equal(back.status, 200, JSON.stringify(back.body))

  // after 签发 an automated step (编号) runs before 盖章 is anyone's: 撤回 at once still goes through
  await act(api, 'zhangwei', id, 'nigao', { route: '送审核', nextHandler: 'lina' })
  await act(api, 'lina', id, 'shenhe', { route: '送签发', nextHandler: 'wangqiang' })
  const qianfa = await taskFor(api, 'wangqiang', id, 'qianfa')
  t.equal((await api.as('wangqiang').post(`/tasks/${qianfa.taskKey}/complete`, { route: '签发', opinion: '同意' })).status, 200)
  const early = await api.as('wangqiang').post(`/tasks/${qianfa.taskKey}/withdraw`, {})
  t.equal(early.status, 200, JSON.stringify(early.body))
  const again = await taskFor(api, 'wangqiang', id, 'qianfa')
  t.not(again.taskKey, qianfa.taskKey, 'wangqiang has 签发 again')

  // once the next handler has opened it: refused, saying so
  t.equal((await api.as('wangqiang').post(`/tasks/${again.taskKey}/complete`, { route: '签发', opinion: '同意' })).status, 200)
  const gaizhang = await taskFor(api, 'chenjing', id, 'gaizhang')
  t.equal((await api.as('chenjing').get(`/tasks/${gaizhang.taskKey}`)).status, 200, 'chenjing opens 盖章')
  const late = await api.as('wangqiang').post(`/tasks/${again.taskKey}/withdraw`, {})
  t.equal(late.status, 409)
  t.match(late.body.message, /已打开/)
  t.notMatch(late.body.message, /后续步骤办理/)
  const log = (await documentAs(api, 'zhangwei', id)).log.filter((e: any) => e.route === '撤回').map((e: any) => e.stepName)
  t.same(log, ['拟稿', '签发'], 'both 撤回 are in the routing log, the refused one is not')
})

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** A 发文 with a 正文 in two versions and an 附件, sent to 柳州市教育局; its 电子来文 there. */
async function sentToEdu(t: Pick<typeof import('tap').default, 'equal'>, title: string) {
  const id = await startFawen(api, 'zhangwei', draft({ title, mainRecipients: ['liuzhou-edu'], ccRecipients: [] }))
  const files = { v1: randomBytes(3000), v2: randomBytes(3100), att: randomBytes(900) }
  const pdf = 'application/pdf'
  t.equal((await api.upload('zhangwei', `/documents/${id}/files`, { bytes: files.v1, name: '正文.pdf', type: pdf }, { kind: '正文' })).status, 201)
  t.equal((await api.upload('zhangwei', `/documents/${id}/files`, { bytes: files.v2, name: '正文（修改）.pdf', type: pdf }, { kind: '正文' })).body.version, 2)
  t.equal((await api.upload('zhangwei', `/documents/${id}/files`, { bytes: files.att, name: '附件1.pdf', type: pdf }, { kind: '附件' })).status, 201)
  await act(api, 'zhangwei', id, 'nigao', { route: '送审核', nextHandler: 'lina' })
  await act(api, 'lina', id, 'shenhe', { route: '送签发', nextHandler: 'wangqiang' })
  await act(api, 'wangqiang', id, 'qianfa', { route: '签发' })
  await act(api, 'chenjing', id, 'gaizhang', { route: '用印' })
  const incoming = await waitFor('the 电子来文 at 柳州市教育局', async () => (await inbox(api, 'fengxue')).find((x) => x.step === 'qianshou' && x.title === title))
  return { id, incoming: incoming.documentId, files, expected: [`正文:${sha(files.v1)}`, `正文:${sha(files.v2)}`, `附件:${sha(files.att)}`].sort() }
}

/** The document's own files (not read through a sender) as kind:sha256 of every version, and each version downloads. */
async function ownFiles(t: Pick<typeof import('tap').default, 'equal'>, as: string, id: string) {
  const res = await api.as(as).get(`/documents/${id}/files`)
  t.equal(res.status, 200)
  const own = res.body.items.filter((f: any) => !f.fromSource)
  for (const f of own) {
    for (const v of f.versions) {
      const got = await fetch(`${stack.url}/files/versions/${v.versionId}`, { headers: { authorization: `Bearer ${await api.token(as)}` } })
      t.equal(got.status, 200, `${f.kind} ${v.name} v${v.version} downloads`)
      t.equal(sha(Buffer.from(await got.arrayBuffer())), v.sha256, 'with the bytes recorded')
    }
  }
  return own.flatMap((f: any) => f.versions.map((v: any) => `${f.kind}:${v.sha256}`)).sort()
}

t.test('转笺 and 合并 of an 电子来文 carry the sender’s 正文 and 附件 with every version', async (t) => {
  const [first, second] = await Promise.all([sentToEdu(t, '关于全市校园安全检查的通知'), sentToEdu(t, '关于校园安全检查的补充通知')])

  // 转笺: 签收, 登记, 拟办 turns it into a 呈阅笺
  await act(api, 'fengxue', first.incoming, 'qianshou', { route: '签收' })
  await act(api, 'fengxue', first.incoming, 'dengji', { route: '送拟办' })
  await taskFor(api, 'wugang', first.incoming, 'niban')
  const converted = await api.as('wugang').post(`/documents/${first.incoming}/convert`)
  t.equal(converted.status, 201, JSON.stringify(converted.body))
  t.same(await ownFiles(t, 'wugang', converted.body.id), first.expected, 'the 呈阅笺 holds every version of the sender’s files')
  const main = (await api.as('wugang').get(`/documents/${converted.body.id}/files`)).body.items.find((f: any) => f.kind === '正文')
  t.equal(main?.versions.length, 2, 'the sender’s 正文 is its 正文, both versions')

  // 合并: the second 电子来文 joins a 收文 entered by hand
  const paper = await api.as('fengxue').post('/documents', { kind: 'shouwen', data: { title: '关于校园安全检查的来函', sourceUnit: '柳州市应急管理局', urgency: '平件' } })
  t.equal(paper.status, 201)
  const merged = await api.as('fengxue').post(`/documents/${paper.body.id}/merge`, { from: [second.incoming] })
  t.equal(merged.status, 200, JSON.stringify(merged.body))
  t.same(await ownFiles(t, 'fengxue', paper.body.id), second.expected, 'the merged 收文 holds every version of the sender’s files')
})

t.test('the deploy check refuses a 审核 step whose opinion has no box on its 笺, naming the step', async (t) => {
  const shipped = readFileSync(join(import.meta.dirname, '..', 'processes', 'fawen.bpmn'), 'utf8')
  const box = '<camunda:property name="opinion" value="shenhe" />'
  t.equal(shipped.split(box).length, 2, 'the shipped 科室审核 has its box')
  const noBox = shipped.replace(box, '')
  const lint = await api.as('zhouadmin').post('/processes/fawen/lint', { xml: noBox })
  t.equal(lint.status, 200)
  t.match(lint.body.problems, [{ field: 'shenhe.opinion', message: /科室审核.*意见栏/ }])
  const before = (await api.as('zhouadmin').get('/processes')).body
  const deploy = await api.as('zhouadmin').post('/processes/fawen/deploy', { xml: noBox })
  t.equal(deploy.status, 400, JSON.stringify(deploy.body))
  t.ok(deploy.body.details.some((p: { field: string; message: string }) => p.field === 'shenhe.opinion' && p.message.includes('科室审核')), JSON.stringify(deploy.body.details))
  t.same((await api.as('zhouadmin').get('/processes')).body, before, 'nothing was deployed')
  t.same((await api.as('zhouadmin').post('/processes/fawen/lint', { xml: shipped })).body.problems, [], 'the shipped model passes')
})

t.test('every opinion records its true channel: 网页, 移动端 or 接口, and the 笺 prints it', async (t) => {
  const key = 'demo-key-liuzhou-gov'
  const started = await api.call('POST', '/documents', { apiKey: key, body: { kind: 'fawen', data: draft({ title: '关于意见渠道的通知' }) } })
  t.equal(started.status, 201, JSON.stringify(started.body))
  const id = started.body.id
  const nigao = await waitFor('the key’s 拟稿', async () => (await api.call('GET', '/tasks', { apiKey: key })).body.items.find((x: { documentId: string }) => x.documentId === id))
  const claimWeb = await api.call('POST', `/tasks/${nigao.taskKey}/complete`, { apiKey: key, body: { route: '送审核', nextHandler: 'lina' }, headers: { 'x-gongwen-channel': 'web' } })
  refusedNaming(t, claimWeb, 400, 'X-Gongwen-Channel')
  t.equal((await api.call('POST', `/tasks/${nigao.taskKey}/complete`, { apiKey: key, body: { route: '送审核', nextHandler: 'lina', opinion: '接口送审' } })).status, 200)

  const shenhe = await taskFor(api, 'lina', id, 'shenhe')
  const claimApi = await api.as('lina').post(`/tasks/${shenhe.taskKey}/complete`, { route: '送签发', nextHandler: 'wangqiang', opinion: '同意' }, { 'x-gongwen-channel': 'api' })
  refusedNaming(t, claimApi, 400, 'X-Gongwen-Channel')
  const fromPhone = await api.as('lina').post(`/tasks/${shenhe.taskKey}/complete`, { route: '送签发', nextHandler: 'wangqiang', opinion: '手机上审核同意' }, { 'x-gongwen-channel': 'mobile' })
  t.equal(fromPhone.status, 200, JSON.stringify(fromPhone.body))
  await act(api, 'wangqiang', id, 'qianfa', { route: '签发', opinion: '网页签发' })

  const log = (await documentAs(api, 'wangqiang', id)).log
  const channelOf = (opinion: string) => log.find((e: { opinion: string }) => e.opinion === opinion)?.channel
  t.equal(channelOf('接口送审'), 'api')
  t.equal(channelOf('手机上审核同意'), 'mobile')
  t.equal(channelOf('网页签发'), 'web')
  const jian = String((await api.as('wangqiang').get(`/documents/${id}/jian?print=1`)).body)
  t.match(jian, /手机上审核同意[\s\S]*?移动端/, 'the 笺 prints 移动端 with the phone’s opinion')
  t.match(jian, /网页签发[\s\S]*?网页/, 'and 网页 with the browser’s')
  t.match(jian, /<span class="channel">移动端<\/span>/)
  t.match(jian, /<span class="channel">网页<\/span>/)
})

t.test('用印 refuses a document with no 正文, and nothing changes', async (t) => {
  const id = await startFawen(api, 'zhangwei', draft({ title: '关于无正文用印的通知' }))
  await act(api, 'zhangwei', id, 'nigao', { route: '送审核', nextHandler: 'lina' })
  await act(api, 'lina', id, 'shenhe', { route: '送签发', nextHandler: 'wangqiang' })
  await act(api, 'wangqiang', id, 'qianfa', { route: '签发' })
  const gaizhang = await taskFor(api, 'chenjing', id, 'gaizhang')
  const before = await documentAs(api, 'chenjing', id)
  const refused = await api.as('chenjing').post(`/tasks/${gaizhang.taskKey}/complete`, { route: '用印' })
  refusedNaming(t, refused, 409, '正文')
  t.match(refused.body.message, /正文/)
  const after = await documentAs(api, 'chenjing', id)
  t.same([after.sealedAt ?? null, after.log.length, after.status], [before.sealedAt ?? null, before.log.length, 'running'], 'not sealed, nothing logged')
  t.ok((await inbox(api, 'chenjing')).some((x) => x.taskKey === gaizhang.taskKey), 'the 盖章 task is still open')

  const main = Buffer.from('%PDF-1.4\n% 版式正文\n%%EOF\n')
  t.equal((await api.upload('chenjing', `/documents/${id}/files`, { bytes: main, name: '正文.pdf', type: 'application/pdf' }, { kind: '正文' })).status, 201)
  t.equal((await api.as('chenjing').post(`/tasks/${gaizhang.taskKey}/complete`, { route: '用印' })).status, 200, 'with its 正文 it is sealed')
  const sealed = await waitFor('sealed', async () => {
    const d = await documentAs(api, 'chenjing', id)
    return d.log.some((e: { stepName: string }) => e.stepName === '用印登记') && d
  })
  const entry = sealed.log.find((e: { stepName: string }) => e.stepName === '用印登记')
  t.match(entry.opinion, new RegExp(sha(main).slice(0, 12)), 'the seal names the 正文 it covers')
  t.notMatch(entry.opinion, /无正文/)
})
