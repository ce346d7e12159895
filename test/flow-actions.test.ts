// 撤回, 退回 to any earlier handler, 转办, and the 呈阅笺 flow, on the real engine through REST.
import t from 'tap'
import { Api, inbox, startFawen, startStack, taskFor, waitFor } from './helpers/stack.ts'
import { act, documentAs } from './helpers/flows.ts'

const stack = await startStack()
t.teardown(() => stack.close())
const api = new Api(stack)

t.test('撤回 works until the next handler opens the task, and is refused after', async (t) => {
  const id = await startFawen(api)
  const sent = await act(api, 'zhangwei', id, 'nigao', { route: '送审核', nextHandler: 'lina' })
  const shenhe = await taskFor(api, 'lina', id, 'shenhe')

  // before lina opens it: zhangwei takes it back and has 拟稿 again
  const back = await api.as('zhangwei').post(`/tasks/${sent}/withdraw`, { opinion: '还需修改' })
  t.equal(back.status, 200, JSON.stringify(back.body))
  const again = await taskFor(api, 'zhangwei', id, 'nigao')
  t.not(again.taskKey, sent, 'a new 拟稿 task')
  await waitFor('lina’s task gone', async () => !(await inbox(api, 'lina')).some((x) => x.taskKey === shenhe.taskKey))
  t.equal((await api.as('lina').post(`/tasks/${shenhe.taskKey}/complete`, { route: '送签发' })).status, 409, 'the withdrawn task cannot be completed')

  // after lina opens it: refused with 409, her task untouched
  const resent = await act(api, 'zhangwei', id, 'nigao', { route: '送审核', nextHandler: 'lina' })
  const shenhe2 = await taskFor(api, 'lina', id, 'shenhe')
  t.equal((await api.as('lina').get(`/tasks/${shenhe2.taskKey}`)).status, 200, 'lina opens it')
  const late = await api.as('zhangwei').post(`/tasks/${resent}/withdraw`, {})
  t.equal(late.status, 409)
  t.match(late.body.message, /已打开/)
  t.ok((await inbox(api, 'lina')).some((x) => x.taskKey === shenhe2.taskKey), 'lina still has it')
  t.equal((await api.as('liuyang').post(`/tasks/${resent}/withdraw`, {})).status, 404, 'only the sender may withdraw')

  const log = (await documentAs(api, 'zhangwei', id)).log
  t.same(log.map((e: any) => [e.stepName, e.route]), [['拟稿', '送审核'], ['拟稿', '撤回'], ['拟稿', '送审核']], 'the 撤回 is in the routing log')
})

t.test('退回 goes to any earlier step and its handler; 转办 to a colleague of the same role', async (t) => {
  const id = await startFawen(api)
  await act(api, 'zhangwei', id, 'nigao', { route: '送审核', nextHandler: 'lina' })
  await act(api, 'lina', id, 'shenhe', { route: '送下一审核', nextHandler: 'chenjing' })
  await act(api, 'chenjing', id, 'chushen', { route: '送下一审核', nextHandler: 'zhaolei' })
  const fushen = await taskFor(api, 'zhaolei', id, 'fushen')

  const detail = await api.as('zhaolei').get(`/tasks/${fushen.taskKey}`)
  t.same(detail.body.returnTargets.map((r: any) => [r.stepName, r.handlerId]), [['办公室初审', 'chenjing'], ['科室审核', 'lina'], ['拟稿', 'zhangwei']], 'every earlier step, newest first')
  const toShenhe = detail.body.returnTargets.find((r: any) => r.step === 'shenhe')
  const bad = await api.as('zhaolei').post(`/tasks/${fushen.taskKey}/return`, { toTaskKey: '123' })
  t.equal(bad.status, 400)
  t.equal(bad.body.details[0].field, 'toTaskKey')
  const res = await api.as('zhaolei').post(`/tasks/${fushen.taskKey}/return`, { toTaskKey: toShenhe.taskKey, opinion: '请科室再核' })
  t.equal(res.status, 200, JSON.stringify(res.body))
  const shenhe = await taskFor(api, 'lina', id, 'shenhe')
  t.notOk((await inbox(api, 'zhaolei')).some((x) => x.taskKey === shenhe.taskKey), 'it goes to lina, who handled 审核, not to every head')

  // 转办: lina hands 审核 to zhaolei (also a department head); a drafter is refused
  const refused = await api.as('lina').post(`/tasks/${shenhe.taskKey}/transfer`, { to: 'liuyang' })
  t.equal(refused.status, 400)
  t.equal(refused.body.details[0].field, 'to')
  t.equal((await api.as('lina').post(`/tasks/${shenhe.taskKey}/transfer`, { to: 'wugang' })).status, 400, 'not to another unit')
  const moved = await api.as('lina').post(`/tasks/${shenhe.taskKey}/transfer`, { to: 'zhaolei', opinion: '请赵科长办理' })
  t.equal(moved.status, 200, JSON.stringify(moved.body))
  await waitFor('zhaolei has the 审核 task', async () => (await inbox(api, 'zhaolei')).some((x) => x.taskKey === shenhe.taskKey))
  t.notOk((await inbox(api, 'lina')).some((x) => x.taskKey === shenhe.taskKey), 'lina no longer has it')
  await act(api, 'zhaolei', id, 'shenhe', { route: '送签发' })
  await taskFor(api, 'wangqiang', id, 'qianfa')

  const log = (await documentAs(api, 'zhangwei', id)).log.map((e: any) => [e.stepName, e.actorId, e.route])
  t.same(log.slice(3), [['办公室复审', 'zhaolei', '退回'], ['科室审核', 'lina', '转办'], ['科室审核', 'zhaolei', '送签发']])
})

t.test('呈阅笺: 拟稿 → 科室 → 办公室 → leaders in sequence, each seeing the earlier → 落实 → 办结', async (t) => {
  const res = await api.as('zhangwei').post('/documents', { kind: 'chengyue', data: { title: '关于全市冬季安全检查情况的呈阅件', body: '现将检查情况呈上，请阅示。', urgency: '加急' } })
  t.equal(res.status, 201, JSON.stringify(res.body))
  const id = res.body.id
  t.equal((await api.as('chenjing').post('/documents', { kind: 'chengyue', data: { title: 'x' } })).status, 403, 'only drafters start a 呈阅笺')
  await act(api, 'zhangwei', id, 'nigao', { route: '送科室负责人', nextHandler: 'lina' })
  await act(api, 'lina', id, 'keshi', { route: '送办公室', opinion: '拟同意', nextHandler: 'zhaolei' })
  await act(api, 'zhaolei', id, 'bangongshi', { route: '送领导批示', opinion: '请领导阅示', data: { instructionLeaders: ['sunli', 'wangqiang'], instructionMode: '依次' } })
  const first = await taskFor(api, 'sunli', id, 'pishi-seq')
  t.notOk((await inbox(api, 'wangqiang')).some((x) => x.documentId === id), 'in sequence: the second leader waits')
  await act(api, 'sunli', id, 'pishi-seq', { route: '送落实', opinion: '同意，请王主任阅' })
  const second = await taskFor(api, 'wangqiang', id, 'pishi-seq')
  t.not(second.taskKey, first.taskKey)
  const seen = await api.as('wangqiang').get(`/tasks/${second.taskKey}`)
  t.ok(seen.body.document.log.some((e: any) => e.actorName === '孙丽' && e.opinion === '同意，请王主任阅'), 'the second leader sees the first 批示')
  await act(api, 'wangqiang', id, 'pishi-seq', { route: '送落实', opinion: '阅，请抓好落实' })
  await act(api, 'zhangwei', id, 'luoshi', { route: '办结', data: { implementation: '已通知各科室整改' } })
  const doc = await waitFor('办结', async () => {
    const d = await documentAs(api, 'zhangwei', id)
    return d.status === 'completed' && d
  })
  t.equal(doc.data.implementation, '已通知各科室整改')
  t.same(doc.log.map((e: any) => e.stepName), ['拟稿', '科室审核', '办公室审核', '领导批示', '领导批示', '落实'])
})
