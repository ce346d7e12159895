// 拒收/退文 on the real engine: B's registry refuses an 电子来文 at 签收 with a reason; A sees 已退文
// and the reason; A's office re-sends a corrected version that names the refused one, and B signs
// for it. Who may refuse and re-send, and bad input, are checked on the way.
import t from 'tap'
import { Api, draft, inbox, startFawen, startStack, taskFor, waitFor } from './helpers/stack.ts'
import { act, documentAs } from './helpers/flows.ts'

const stack = await startStack()
t.teardown(() => stack.close())
const api = new Api(stack)

/** A 发文 of A (柳州市政府) sent to B (教育局, 主送) and C (财政局, 抄送): returns its id and title. */
async function sendToBAndC(title: string) {
  const id = await startFawen(api, 'zhangwei', draft({ title, mainRecipients: ['liuzhou-edu'], ccRecipients: ['liuzhou-fin'] }))
  await act(api, 'zhangwei', id, 'nigao', { route: '送审核', nextHandler: 'lina' })
  await act(api, 'lina', id, 'shenhe', { route: '送签发', nextHandler: 'wangqiang' })
  await act(api, 'wangqiang', id, 'qianfa', { route: '签发', opinion: '同意印发' })
  await taskFor(api, 'chenjing', id, 'gaizhang')
  const up = await api.upload('chenjing', `/documents/${id}/files`, { bytes: Buffer.from(`%PDF-1.7 ${'正文'.repeat(100)}`), name: '正文.pdf', type: 'application/pdf' }, { kind: '正文' })
  if (up.status !== 201) throw new Error(`upload: ${up.status} ${JSON.stringify(up.body)}`)
  await act(api, 'chenjing', id, 'gaizhang', { route: '用印' })
  return id
}

t.test('B refuses with a reason; A sees 已退文 and re-sends a corrected version linked to the old one', async (t) => {
  const title = `关于拒收测试的通知 ${Date.now()}`
  const id = await sendToBAndC(title)
  const qianshou = await waitFor('the 电子来文 at B’s registry', async () => (await inbox(api, 'fengxue')).find((x) => x.step === 'qianshou' && x.title === title))
  const incomingId = qianshou.documentId
  const refuse = (user: string, body: unknown, doc = incomingId) => api.as(user).post(`/documents/${doc}/refuse`, body)

  // bad input: the reason is required and must say something
  const missing = await refuse('fengxue', {})
  t.equal(missing.status, 400, 'no reason → 400')
  t.ok(missing.body.details?.some((d: any) => d.field === 'reason'), 'naming reason')
  const blank = await refuse('fengxue', { reason: '   ' })
  t.equal(blank.status, 400, 'a blank reason → 400')
  t.ok(blank.body.details?.some((d: any) => d.field === 'reason'), 'naming reason')
  t.equal((await refuse('fengxue', { reason: 'x', extra: 1 })).status, 400, 'an unknown field → 400')
  // the 拒收 route of the task itself also needs its reason
  const bare = await api.as('fengxue').post(`/tasks/${qianshou.taskKey}/complete`, { route: '拒收' })
  t.equal(bare.status, 400, '拒收 through the task without an opinion → 400')
  t.ok(bare.body.details?.some((d: any) => d.field === 'opinion'), 'naming opinion')
  const task = await api.as('fengxue').get(`/tasks/${qianshou.taskKey}`)
  t.ok(task.body.routes.some((r: any) => r.name === '拒收' && r.opinionRequired === true), '签收 offers 拒收, with a reason required')

  // scoping: another unit's people 404, a colleague without the registry role 403
  t.equal((await refuse('zhangwei', { reason: '越权' })).status, 404, 'the sender cannot refuse for B')
  t.equal((await refuse('hejun', { reason: '越权' })).status, 404, 'C’s registry cannot refuse B’s 来文')
  t.equal((await refuse('huangmei', { reason: '越权' })).status, 403, 'B’s drafter (no registry role) → 403')
  t.equal((await refuse('fengxue', { reason: '不存在' }, '00000000-0000-4000-8000-000000000000')).status, 404, 'an unknown document → 404')
  t.equal((await refuse('fengxue', { reason: '不是来文' }, id)).status, 404, 'the sender’s 发文 is no 来文 of B')
  t.equal((await documentAs(api, 'zhangwei', id)).deliveries.find((d: any) => d.unitId === 'liuzhou-edu').receiptStatus, '未签收', 'nothing changed so far')

  // B's registry refuses
  const ok = await refuse('fengxue', { reason: '主送机关有误，本局不承办此事项' })
  t.equal(ok.status, 200, JSON.stringify(ok.body))
  const refused = await waitFor('A sees 已退文', async () => {
    const doc = await documentAs(api, 'zhangwei', id)
    const b = doc.deliveries.find((d: any) => d.unitId === 'liuzhou-edu')
    return b.receiptStatus === '已退文' && doc
  })
  const b = refused.deliveries.find((d: any) => d.unitId === 'liuzhou-edu')
  t.equal(b.refusalReason, '主送机关有误，本局不承办此事项', 'with the reason')
  t.ok(b.refusedAt, 'and when')
  t.equal(refused.deliveries.find((d: any) => d.unitId === 'liuzhou-fin').receiptStatus, '未签收', 'C is not affected')
  t.ok(refused.log.some((e: any) => e.stepName === '退文' && e.opinion.includes('主送机关有误')), 'A’s routing log records the refusal')
  const theirs = await waitFor('B’s 来文 ended at 已退文', async () => {
    const doc = await documentAs(api, 'fengxue', incomingId)
    return doc.status === 'refused' && doc
  })
  t.equal(theirs.data.refusalReason, '主送机关有误，本局不承办此事项')
  t.notOk((await inbox(api, 'fengxue')).some((x) => x.documentId === incomingId), 'no task is left at B')
  t.equal((await refuse('fengxue', { reason: '再拒' })).status, 409, 'a refused 来文 cannot be refused again')

  // re-send: only A's office, with a 更正说明, only to a unit that refused
  const resend = (user: string, unit: string, body: unknown) => api.as(user).post(`/documents/${id}/recipients/${unit}/resend`, body)
  t.equal((await resend('hejun', 'liuzhou-edu', { note: '越权' })).status, 404, 'another unit → 404')
  t.equal((await resend('fengxue', 'liuzhou-edu', { note: '越权' })).status, 404, 'the refusing unit cannot re-send A’s 发文')
  t.equal((await resend('liuyang', 'liuzhou-edu', { note: '越权' })).status, 403, 'A’s drafter without an office role → 403')
  const noNote = await resend('chenjing', 'liuzhou-edu', {})
  t.equal(noNote.status, 400, 'no 更正说明 → 400')
  t.ok(noNote.body.details?.some((d: any) => d.field === 'note'), 'naming note')
  t.equal((await resend('chenjing', 'liuzhou-fin', { note: '无需' })).status, 409, 'C did not refuse: nothing to re-send')
  const list = await api.as('chenjing').get(`/documents/${id}/refusals`)
  t.equal(list.status, 200)
  t.same(list.body.items.map((r: any) => [r.unitId, r.reason, r.resentAt]), [['liuzhou-edu', '主送机关有误，本局不承办此事项', null]], 'A lists the refusal')
  t.equal((await api.as('hejun').get(`/documents/${id}/refusals`)).status, 404, 'another unit cannot list them')

  const sent = await resend('chenjing', 'liuzhou-edu', { note: '已更正主送机关说明，请贵局签收' })
  t.equal(sent.status, 201, JSON.stringify(sent.body))
  const newId = sent.body.incomingDocumentId
  t.not(newId, incomingId, 'a new 电子来文')
  t.equal((await resend('chenjing', 'liuzhou-edu', { note: '再发' })).status, 409, 'a second re-send of the same refusal → 409')
  const again = await taskFor(api, 'fengxue', newId, 'qianshou')
  const fresh = await documentAs(api, 'fengxue', newId)
  t.equal(fresh.previousIncomingId, incomingId, 'B’s new 来文 links to the refused one')
  t.equal(fresh.data.correctionNote, '已更正主送机关说明，请贵局签收', 'and carries the 更正说明')
  t.equal(fresh.data.previousRefusalReason, '主送机关有误，本局不承办此事项')
  t.equal(fresh.data.incomingNumber, refused.docNumber, 'the 发文字号 stays')
  const files = await api.as('fengxue').get(`/documents/${newId}/files`)
  t.ok(files.body.items.some((f: any) => f.fromSource && f.kind === '正文'), 'the sender’s 正文 comes with it')
  const after = await documentAs(api, 'zhangwei', id)
  const b2 = after.deliveries.find((d: any) => d.unitId === 'liuzhou-edu')
  t.equal(b2.receiptStatus, '未签收', 'A sees the re-sent 来文 waiting for 签收')
  t.equal(b2.resendCount, 1, 're-sent once')
  t.ok(after.log.some((e: any) => e.stepName === '重新分发' && e.actorName === '陈静'), 'A’s routing log records the re-send and who did it')
  t.same((await api.as('chenjing').get(`/documents/${id}/refusals`)).body.items[0].resentIncomingId, newId, 'the refusal names the new 来文')

  await act(api, 'fengxue', newId, 'qianshou', { route: '签收' })
  t.ok(again.taskKey)
  await waitFor('A sees B signed the re-sent 来文', async () => {
    const doc = await documentAs(api, 'zhangwei', id)
    return doc.deliveries.find((d: any) => d.unitId === 'liuzhou-edu').receiptStatus === '已签收'
  })
})
