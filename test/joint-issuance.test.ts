// 联合发文 (joint issuance) on the real engine: A (柳州市人民政府办公室) drafts a 发文 with B (教育局) and
// C (财政局) as co-issuers. After 签发 and 编号 each co-issuer countersigns (会签) in its own unit's
// flow, from its own inbox; A seals, then B and C each apply their seal (用印); only then is it
// delivered (分发). One 发文字号 (A's), three seals, the routing log of A tells the story. Who may
// read and act, bad coIssuers, and 不同意 (back to A's 签发) are checked on the way.
import t from 'tap'
import { Api, draft, inbox, startFawen, startStack, taskFor, waitFor } from './helpers/stack.ts'
import { act, documentAs } from './helpers/flows.ts'

const stack = await startStack()
t.teardown(() => stack.close())
const api = new Api(stack)

const A = 'liuzhou-gov'
const B = 'liuzhou-edu'
const C = 'liuzhou-fin'

/** The co-issuer's task at `step` for the lead's 发文 (found by title: it runs on the co-issuer's own copy). */
async function coTask(user: string, title: string, step: string) {
  return waitFor(`${user}'s ${step} for “${title}”`, async () => (await inbox(api, user)).find((x) => x.step === step && x.title === title))
}

async function complete(user: string, taskKey: string, body: Record<string, unknown>) {
  return api.as(user).post(`/tasks/${taskKey}/complete`, body)
}

/** A 发文 of A with co-issuers, drafted, reviewed and signed (签发). */
async function signed(title: string, coIssuers: string[]) {
  const id = await startFawen(api, 'zhangwei', draft({ title, mainRecipients: [B], ccRecipients: [C], coIssuers }))
  await act(api, 'zhangwei', id, 'nigao', { route: '送审核', nextHandler: 'lina' })
  await act(api, 'lina', id, 'shenhe', { route: '送签发', nextHandler: 'wangqiang' })
  await act(api, 'wangqiang', id, 'qianfa', { route: '签发', opinion: '同意联合印发' })
  return id
}

t.test('a bad coIssuers is refused with 400 naming coIssuers', async (t) => {
  for (const [what, coIssuers] of [
    ['an unknown unit', ['no-such-unit']],
    ['the own unit', [A]],
    ['a string instead of a list', B],
    ['a list of numbers', [1, 2]],
    ['the same unit twice', [B, B]],
  ] as const) {
    const res = await api.as('zhangwei').post('/documents', { kind: 'fawen', data: draft({ title: `联合发文校验 ${what}`, coIssuers }) })
    t.equal(res.status, 400, `${what} → 400 ${JSON.stringify(res.body)}`)
    t.ok(res.body.details?.some((d: any) => d.field === 'coIssuers'), `naming coIssuers (${what})`)
  }
  // and at 拟稿, where the drafter may change the co-issuers
  const id = await startFawen(api, 'zhangwei', draft({ title: '联合发文校验 拟稿' }))
  const nigao = await taskFor(api, 'zhangwei', id, 'nigao')
  const res = await complete('zhangwei', nigao.taskKey, { route: '送审核', nextHandler: 'lina', data: { coIssuers: [A] } })
  t.equal(res.status, 400, JSON.stringify(res.body))
  t.ok(res.body.details?.some((d: any) => d.field === 'coIssuers'), 'naming coIssuers')
})

t.test('联合发文: B and C countersign and seal in their own units; one 发文字号, three seals, then 分发', async (t) => {
  const title = `关于联合开展校园安全检查的通知 ${Date.now()}`
  const id = await signed(title, [B, C])

  // each co-issuer finds its 会签 in its own inbox, on its own copy of the 发文
  const bTask = await coTask('zhengyu', title, 'huiqian')
  const cTask = await coTask('hejun', title, 'huiqian')
  t.not(bTask.documentId, id, 'B works on a copy of its own unit')
  t.ok((await inbox(api, 'maqing')).some((x) => x.taskKey === bTask.taskKey), 'offered to every leader of B')
  t.notOk((await inbox(api, 'hejun')).some((x) => x.taskKey === bTask.taskKey), 'C does not see B’s task')
  t.notOk((await inbox(api, 'wangqiang')).some((x) => x.taskKey === bTask.taskKey), 'nor does A')
  const copyB = await documentAs(api, 'zhengyu', bTask.documentId)
  t.equal(copyB.kind, 'lianhe')
  t.equal(copyB.sourceDocumentId, id, 'the copy points at A’s 发文')
  t.equal(copyB.unitId, B)

  // B's handlers read A's 发文; a bystander of B does not
  t.equal((await api.as('zhengyu').get(`/documents/${id}`)).status, 200, 'B’s leader (offered the 会签) reads A’s 发文')
  t.equal((await api.as('zhengyu').get(`/documents/${id}/files`)).status, 200, 'and its files')
  t.equal((await api.as('huangmei').get(`/documents/${id}`)).status, 404, 'B’s drafter, no handler, may not read it')
  t.equal((await api.as('huangmei').get(`/documents/${id}/jian`)).status, 404, 'nor its 笺')
  t.equal((await api.as('huangmei').get(`/documents/${bTask.documentId}`)).status, 404, 'nor B’s copy')
  t.equal((await api.call('GET', `/documents/${id}`, { apiKey: 'demo-key-liuzhou-edu' })).status, 404, 'nor B’s integrator')

  // C cannot act on B's task, nor A
  t.equal((await complete('hejun', bTask.taskKey, { route: '同意', opinion: '越权' })).status, 404, 'C cannot complete B’s 会签')
  t.equal((await complete('wangqiang', bTask.taskKey, { route: '同意', opinion: '越权' })).status, 404, 'A cannot either')

  // A waits for both answers
  const half = await complete('zhengyu', bTask.taskKey, { route: '同意', opinion: '教育局同意联合发文' })
  t.equal(half.status, 200, JSON.stringify(half.body))
  await new Promise((r) => setTimeout(r, 1500))
  t.notOk((await inbox(api, 'chenjing')).some((x) => x.documentId === id && x.step === 'gaizhang'), '盖章 waits until every co-issuer has answered')
  t.equal((await complete('hejun', cTask.taskKey, { route: '同意', opinion: '财政局同意' })).status, 200)

  // A seals; then B and C seal in their units; only then 分发
  await act(api, 'chenjing', id, 'gaizhang', { route: '用印' })
  const bSeal = await coTask('fengxue', title, 'yongyin')
  const cSeal = await coTask('hejun', title, 'yongyin')
  t.equal(bSeal.documentId, bTask.documentId, 'B’s registry seals on B’s copy')
  await new Promise((r) => setTimeout(r, 1000))
  const waiting = await documentAs(api, 'zhangwei', id)
  t.same(waiting.deliveries, [], 'no 分发 before every issuer has sealed')
  t.equal(waiting.status, 'running')
  t.equal((await complete('hejun', bSeal.taskKey, { route: '用印' })).status, 404, 'C cannot seal for B')
  t.equal((await complete('fengxue', bSeal.taskKey, { route: '用印' })).status, 200)
  t.equal((await complete('hejun', cSeal.taskKey, { route: '用印' })).status, 200)

  const sent = await waitFor('the joint 发文 delivered and archived', async () => {
    const doc = await documentAs(api, 'zhangwei', id)
    return doc.status === 'completed' && doc
  })
  t.match(sent.docNumber, /^柳政办发〔\d{4}〕\d+号$/, 'the lead’s 发文字号')
  t.equal(sent.log.filter((e: any) => e.step === 'bianhao').length, 1, 'numbered once')
  t.equal((await documentAs(api, 'zhengyu', bTask.documentId)).docNumber, null, 'the co-issuer gets no number of its own')
  t.equal((await documentAs(api, 'hejun', cTask.documentId)).docNumber, null)
  t.same(
    sent.seals.map((s: any) => [s.unitId, s.sealName, s.lead]),
    [[A, '柳州市人民政府办公室印章', true], [B, '柳州市教育局印章', false], [C, '柳州市财政局印章', false]],
    'the seals of all three issuers, the lead’s first',
  )
  t.equal(sent.seals.find((s: any) => s.unitId === B).sealedBy, 'fengxue', 'who applied B’s seal')
  t.ok(sent.seals.every((s: any) => s.sealedSha256 === sent.sealedSha256), 'every seal binds the sealed 正文')
  t.same(sent.coIssuers.map((c: any) => [c.unitId, c.agreed, c.opinion, Boolean(c.sealedAt)]), [[B, true, '教育局同意联合发文', true], [C, true, '财政局同意', true]])
  const opinions = sent.log.map((e: any) => e.opinion)
  t.ok(opinions.includes('柳州市教育局会签：同意（教育局同意联合发文）'), 'A’s log: B’s 会签')
  t.ok(opinions.includes('柳州市财政局会签：同意（财政局同意）'), 'A’s log: C’s 会签')
  t.ok(opinions.some((o: string) => o.startsWith('柳州市教育局用印')), 'A’s log: B’s seal')
  t.ok(opinions.some((o: string) => o.startsWith('柳州市财政局用印')), 'A’s log: C’s seal')
  const order = (pred: (e: any) => boolean) => sent.log.findIndex(pred)
  t.ok(order((e: any) => e.stepName === '联合用印') < order((e: any) => e.step === 'fenfa'), 'every seal before 分发')
  t.same(sent.deliveries.map((d: any) => [d.unitId, d.kind]), [[B, '主送'], [C, '抄送']])

  // the recipients get it
  const incoming = await coTask('fengxue', title, 'qianshou')
  t.not(incoming.documentId, bTask.documentId, 'the 电子来文 is a document of its own')

  // the printed 笺 lists the co-issuers and every seal
  const jian = String((await api.as('zhangwei').get(`/documents/${id}/jian`)).body)
  t.match(jian, /柳州市人民政府办公室（主办）、/)
  for (const seal of ['柳州市人民政府办公室印章', '柳州市教育局印章', '柳州市财政局印章']) t.ok(jian.includes(seal), `the 笺 shows ${seal}`)
})

t.test('不同意: the lead’s flow goes back to 签发 with the opinion; signed again, a new 会签 round; still one number', async (t) => {
  const title = `关于联合发文不同意的测试 ${Date.now()}`
  const id = await signed(title, [B])
  const first = await coTask('zhengyu', title, 'huiqian')
  const bare = await complete('zhengyu', first.taskKey, { route: '不同意' })
  t.equal(bare.status, 400, '不同意 needs a reason')
  t.ok(bare.body.details?.some((d: any) => d.field === 'opinion'), 'naming opinion')
  t.equal((await complete('zhengyu', first.taskKey, { route: '不同意', opinion: '涉及经费事项须先报财政' })).status, 200)

  const back = await taskFor(api, 'wangqiang', id, 'qianfa')
  t.ok(back, 'A’s 签发 has it again')
  const doc = await documentAs(api, 'zhangwei', id)
  t.ok(doc.log.some((e: any) => e.opinion === '柳州市教育局会签：不同意（涉及经费事项须先报财政）'), 'the opinion is in A’s routing log')
  const number = doc.docNumber
  t.match(number, /^柳政办发/)
  t.same(doc.coIssuers.map((c: any) => [c.unitId, c.agreed]), [[B, false]])

  await act(api, 'wangqiang', id, 'qianfa', { route: '签发', opinion: '已补充说明，请再会签' })
  const second = await waitFor('B’s second 会签', async () => (await inbox(api, 'zhengyu')).find((x) => x.step === 'huiqian' && x.title === title && x.taskKey !== first.taskKey))
  t.not(second.documentId, first.documentId, 'a new round on a new copy')
  t.equal((await complete('zhengyu', second.taskKey, { route: '同意', opinion: '同意' })).status, 200)
  await taskFor(api, 'chenjing', id, 'gaizhang')
  const after = await documentAs(api, 'zhangwei', id)
  t.equal(after.docNumber, number, 'the same 发文字号: numbered once')
  t.equal(after.log.filter((e: any) => e.step === 'bianhao').length, 1)
  t.same(after.coIssuers.map((c: any) => [c.unitId, c.agreed]), [[B, true]], 'the latest answer counts')
})

t.test('a canceled lead 发文 ends the co-issuers’ open 会签 with it', async (t) => {
  const title = `关于联合发文取消的测试 ${Date.now()}`
  const id = await signed(title, [B, C])
  const bTask = await coTask('zhengyu', title, 'huiqian')
  const cTask = await coTask('hejun', title, 'huiqian')
  const res = await api.call('POST', `/operations/documents/${id}/cancel`, { as: 'zhouadmin', body: { reason: '联合发文事项取消' } })
  t.equal(res.status, 200, JSON.stringify(res.body))
  await waitFor('B’s 会签 gone', async () => !(await inbox(api, 'zhengyu')).some((x) => x.taskKey === bTask.taskKey))
  await waitFor('C’s 会签 gone', async () => !(await inbox(api, 'hejun')).some((x) => x.taskKey === cTask.taskKey))
  const copy = await api.call('GET', `/documents/${bTask.documentId}`, { apiKey: 'demo-key-liuzhou-edu' })
  t.equal(copy.body.status, 'canceled', 'B’s copy is canceled too')
})

t.test('a 发文 without co-issuers goes from 编号 straight to 盖章', async (t) => {
  const id = await startFawen(api, 'zhangwei', draft({ title: '不联合的通知' }))
  await act(api, 'zhangwei', id, 'nigao', { route: '送审核', nextHandler: 'lina' })
  await act(api, 'lina', id, 'shenhe', { route: '送签发', nextHandler: 'wangqiang' })
  await act(api, 'wangqiang', id, 'qianfa', { route: '签发' })
  await act(api, 'chenjing', id, 'gaizhang', { route: '用印' })
  const doc = await waitFor('delivered', async () => {
    const d = await documentAs(api, 'zhangwei', id)
    return d.status === 'completed' && d
  })
  t.same(doc.coIssuers, [])
  t.same(doc.seals.map((s: any) => s.unitId), [A], 'only the lead’s seal')
})
