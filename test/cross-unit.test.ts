// The cross-unit story on the real engine: a 发文 in one unit is countersigned, signed, numbered,
// sealed and delivered to two units; one signs for it and runs 分文报批 to 办结, the other has not.
import { createHash } from 'node:crypto'
import t from 'tap'
import { Api, draft, inbox, startFawen, startStack, taskFor, waitFor } from './helpers/stack.ts'
import { act, documentAs } from './helpers/flows.ts'

const stack = await startStack()
t.teardown(() => stack.close())
const api = new Api(stack)

t.test('发文 with 会签 → 分发 to B and C; B runs 分文报批 to 办结; C shows 未签收', async (t) => {
  const id = await startFawen(api, 'zhangwei', draft({ mainRecipients: ['liuzhou-edu'], ccRecipients: ['liuzhou-fin'] }))
  await act(api, 'zhangwei', id, 'nigao', { route: '送审核', nextHandler: 'lina' })

  // 审核 sends it to 会签 by two departments; each department head signs in parallel
  await act(api, 'lina', id, 'shenhe', { route: '送会签', opinion: '请会签', data: { countersignDepartments: ['liuzhou-gov-zonghe', 'liuzhou-gov-mishu'] } })
  const zonghe = await taskFor(api, 'lina', id, 'huiqian')
  const mishu = await taskFor(api, 'zhaolei', id, 'huiqian')
  t.not(zonghe.taskKey, mishu.taskKey, 'one 会签 task per department')
  t.notOk((await inbox(api, 'zhaolei')).some((x) => x.taskKey === zonghe.taskKey), 'a department head sees only their own department’s 会签')
  await act(api, 'lina', id, 'huiqian', { route: '会签同意', opinion: '综合科同意' })
  t.notOk((await inbox(api, 'wangqiang')).some((x) => x.documentId === id), '签发 waits until every department has signed')
  await act(api, 'zhaolei', id, 'huiqian', { route: '会签同意', opinion: '秘书科同意' })

  // 签发 → 编号 → 盖章 (the registry) → 分发 → 归档
  await act(api, 'wangqiang', id, 'qianfa', { route: '签发', opinion: '同意印发' })
  // the registry uploads the fixed-layout 正文 and seals it
  await taskFor(api, 'chenjing', id, 'gaizhang')
  const layout = Buffer.from(`%PDF-1.7 ${'版式正文'.repeat(200)}`)
  const up = await api.upload('chenjing', `/documents/${id}/files`, { bytes: layout, name: '正文（版式）.pdf', type: 'application/pdf' }, { kind: '正文' })
  t.equal(up.status, 201, JSON.stringify(up.body))
  await act(api, 'chenjing', id, 'gaizhang', { route: '用印' })
  const sent = await waitFor('the 发文 archived', async () => {
    const doc = await documentAs(api, 'zhangwei', id)
    return doc.status === 'completed' && doc
  })
  t.match(sent.docNumber, /^柳政办发〔\d{4}〕\d+号$/)
  t.equal(sent.sealedBy, 'chenjing', 'the seal records who applied it')
  t.equal(sent.sealedSha256, createHash('sha256').update(layout).digest('hex'), 'and the sha256 of the 正文 it sealed')
  t.ok(sent.archivedAt, 'archived')
  t.same(sent.deliveries.map((d: any) => [d.unitId, d.kind, d.receiptStatus]), [['liuzhou-edu', '主送', '未签收'], ['liuzhou-fin', '抄送', '未签收']])
  t.same(
    sent.log.filter((e: any) => e.step === 'huiqian').map((e: any) => [e.actorName, e.opinion]).sort(),
    [['李娜', '综合科同意'], ['赵磊', '秘书科同意']],
    'each 会签 opinion is in the routing log',
  )

  // B (教育局): the registry signs for the incoming document
  const qianshou = await waitFor('the incoming document at B’s registry', async () => (await inbox(api, 'fengxue')).find((x) => x.step === 'qianshou' && x.title === sent.title))
  const incomingId = qianshou.documentId
  t.notOk((await inbox(api, 'hejun')).some((x) => x.documentId === incomingId), 'C’s people do not see B’s incoming document')
  await act(api, 'fengxue', incomingId, 'qianshou', { route: '签收' })
  const signed = await waitFor('B’s receipt visible to A', async () => {
    const doc = await documentAs(api, 'zhangwei', id)
    return doc.deliveries.find((d: any) => d.unitId === 'liuzhou-edu' && d.receiptStatus === '已签收') && doc
  })
  t.ok(signed.deliveries.find((d: any) => d.unitId === 'liuzhou-edu').signedAt, 'A sees when B signed')
  t.equal(signed.deliveries.find((d: any) => d.unitId === 'liuzhou-fin').receiptStatus, '未签收', 'C has not signed')
  const theirFiles = await api.as('fengxue').get(`/documents/${incomingId}/files`)
  const sourceFile = theirFiles.body.items.find((f: any) => f.fromSource && f.kind === '正文')
  t.ok(sourceFile, 'B’s registry sees the sender’s 正文 with the incoming document')
  t.equal((await api.as('fengxue').get(`/documents/${id}/files`)).status, 200, 'and may list the sent document’s files')
  t.equal((await api.as('huangmei').get(`/documents/${id}/files`)).status, 404, 'a colleague with no part in the incoming document may not')

  // 登记 → 拟办 → 批示 by two leaders at the same time → 分办 → 主办 + 协办 → 办结
  await act(api, 'fengxue', incomingId, 'dengji', { route: '送拟办', data: { incomingNumber: sent.docNumber, deadline: '2026-12-31' } })
  await act(api, 'wugang', incomingId, 'niban', {
    route: '送领导批示', opinion: '拟请郑局长、马局长阅示',
    data: { instructionLeaders: ['zhengyu', 'maqing'], instructionMode: '同时', hostDepartment: 'liuzhou-edu-jichu', assistDepartments: ['liuzhou-edu-jiaoyan'] },
  })
  const [p1, p2] = await Promise.all([taskFor(api, 'zhengyu', incomingId, 'pishi-par'), taskFor(api, 'maqing', incomingId, 'pishi-par')])
  t.ok(p1 && p2, 'both leaders have a 批示 task at once')
  await act(api, 'maqing', incomingId, 'pishi-par', { route: '送分办', opinion: '同意拟办意见' })
  const later = await api.as('zhengyu').get(`/tasks/${p1.taskKey}`)
  t.ok(later.body.document.log.some((e: any) => e.opinion === '同意拟办意见'), 'a leader sees the 批示 written before theirs')
  await act(api, 'zhengyu', incomingId, 'pishi-par', { route: '送分办', opinion: '请基础教育科办理' })
  await act(api, 'wugang', incomingId, 'fenban', { route: '分办' })
  await act(api, 'songjia', incomingId, 'xieban', { route: '协办完毕', opinion: '教研室已配合' })
  await act(api, 'tanglin', incomingId, 'zhuban', { route: '办理完毕', opinion: '已落实', data: { result: '已按要求部署' } })
  const done = await waitFor('B’s 分文报批 办结', async () => {
    const doc = await documentAs(api, 'fengxue', incomingId)
    return doc.status === 'completed' && doc
  })
  t.equal(done.sourceDocumentId, id, 'the incoming document points at what A sent')
  t.equal(done.receivedBy, 'fengxue')
  t.equal(done.departmentId, 'liuzhou-edu-jichu', 'it counts for its 主办 department')
  t.equal(new Date(done.deadline).toISOString(), '2026-12-31T16:00:00.000Z', 'the 办理时限 from 登记 is the document’s deadline (end of that day in China)')
  t.same(
    done.log.filter((e: any) => e.actorId).map((e: any) => [e.stepName, e.actorName]),
    [['签收', '冯雪'], ['登记', '冯雪'], ['拟办', '吴刚'], ['批示', '马青'], ['批示', '郑宇'], ['分办', '吴刚'], ['协办', '宋佳'], ['主办', '唐林']],
  )
  t.equal((await api.as('zhangwei').get(`/documents/${incomingId}`)).status, 404, 'A cannot read B’s 收文')

  // 办理结果 is hidden from the 批示 and 协办 steps: never sent to those who only handled them
  t.equal((await documentAs(api, 'tanglin', incomingId)).data.result, '已按要求部署', '主办 sees the result it wrote')
  t.notOk('result' in (await documentAs(api, 'zhengyu', incomingId)).data, 'a leader who only gave 批示 does not')
  const sheet = await api.as('zhengyu').get(`/documents/${incomingId}/jian`)
  t.equal(sheet.status, 200)
  t.notOk(String(sheet.body).includes('已按要求部署'), 'nor on the printed 笺')
  t.ok(String((await api.as('tanglin').get(`/documents/${incomingId}/jian`)).body).includes('已按要求部署'))
})

t.test('a 会签 signer may 退回: the other signer’s task ends and the drafter gets it back', async (t) => {
  const id = await startFawen(api, 'liuyang')
  await act(api, 'liuyang', id, 'nigao', { route: '送审核', nextHandler: 'lina' })
  await act(api, 'lina', id, 'shenhe', { route: '送会签', data: { countersignDepartments: ['liuzhou-gov-zonghe', 'liuzhou-gov-mishu'] } })
  const other = await taskFor(api, 'lina', id, 'huiqian')
  await act(api, 'zhaolei', id, 'huiqian', { route: '退回拟稿人', opinion: '依据不足' })
  await taskFor(api, 'liuyang', id, 'nigao')
  await waitFor('the other 会签 task canceled', async () => !(await inbox(api, 'lina')).some((x) => x.taskKey === other.taskKey))
  t.pass('returned to the drafter')
})

t.test('主办 may 送回 to 分办; a paper 收文 registered by hand enters the same flow', async (t) => {
  const res = await api.as('fengxue').post('/documents', { kind: 'shouwen', data: { title: '关于春季开学工作的函（纸质）', sourceUnit: '柳州市卫生健康委员会', incomingNumber: '柳卫函〔2026〕3号', urgency: '平件' } })
  t.equal(res.status, 201, JSON.stringify(res.body))
  const id = res.body.id
  await act(api, 'fengxue', id, 'dengji', { route: '送拟办' })
  await act(api, 'wugang', id, 'niban', { route: '直接分办', data: { hostDepartment: 'liuzhou-edu-jichu' } })
  await act(api, 'wugang', id, 'fenban', { route: '分办' })
  await act(api, 'tanglin', id, 'zhuban', { route: '送回', opinion: '应由教研室主办' })
  await act(api, 'wugang', id, 'fenban', { route: '分办', data: { hostDepartment: 'liuzhou-edu-jiaoyan' } })
  await act(api, 'songjia', id, 'zhuban', { route: '办理完毕', data: { result: '已办' } })
  const doc = await waitFor('办结', async () => {
    const d = await documentAs(api, 'fengxue', id)
    return d.status === 'completed' && d
  })
  t.equal(doc.departmentId, 'liuzhou-edu-jiaoyan')
  t.ok(doc.log.some((e: any) => e.stepName === '主办' && e.route === '送回'), 'the 送回 is in the log')
})
