// 加签 on the real engine and database, through the REST API: a signer added before the handler
// signs first and the task comes back; a signer added after sends the step on; at a 会签 step too;
// who may add one, and bad input refused with nothing changed.
import t from 'tap'
import { act, documentAs } from './helpers/flows.ts'
import { Api, inbox, startFawen, startStack, taskFor } from './helpers/stack.ts'

const stack = await startStack()
t.teardown(() => stack.close())
const api = new Api(stack)
const knex = () => stack.server!.knex

const shenheOf = async (handler = 'lina') => {
  const id = await startFawen(api)
  const nigaoKey = await act(api, 'zhangwei', id, 'nigao', { route: '送审核', nextHandler: handler })
  return { id, nigaoKey, task: await taskFor(api, handler, id, 'shenhe') }
}
const log = async (id: string) =>
  (await documentAs(api, 'zhangwei', id)).log.map((e: { stepName: string; actorName: string; route: string; opinion: string }) => [e.stepName, e.actorName, e.route, e.opinion])

t.test('前加签: the added signer signs first, then the task returns to the handler, who sends it on', async (t) => {
  const { id, task, nigaoKey } = await shenheOf()
  t.same((await api.as('lina').get(`/tasks/${task.taskKey}/signers`)).body.modes, ['before', 'after', 'parallel'], 'the step allows all three')

  const added = await api.as('lina').post(`/tasks/${task.taskKey}/signers`, { signer: 'zhaolei', mode: 'before' })
  t.equal(added.status, 200, JSON.stringify(added.body))
  const signer = await taskFor(api, 'zhaolei', id, 'shenhe')
  t.equal(signer.taskKey, task.taskKey, 'the same task, now with the added signer')
  t.notOk((await inbox(api, 'lina')).some((x) => x.documentId === id), 'not in the handler’s inbox meanwhile')
  t.same((await api.as('zhaolei').get(`/tasks/${task.taskKey}/signers`)).body.mustSign, true)

  // the added signer may not send the step on, nor may a second signer be added meanwhile
  t.equal((await api.as('zhaolei').post(`/tasks/${task.taskKey}/complete`, { route: '送签发', opinion: '同意' })).status, 409)
  t.equal((await api.as('zhaolei').post(`/tasks/${task.taskKey}/signers`, { signer: 'chenjing', mode: 'before' })).status, 409)
  t.equal((await api.as('lina').post(`/tasks/${task.taskKey}/sign`, { opinion: '同意' })).status, 403, 'the handler does not hold it now')
  t.equal((await api.as('zhaolei').post(`/tasks/${task.taskKey}/sign`, { opinion: '  ' })).status, 400, 'an empty opinion is refused')

  const signed = await api.as('zhaolei').post(`/tasks/${task.taskKey}/sign`, { opinion: '建议修改第二段' })
  t.equal(signed.status, 200, JSON.stringify(signed.body))
  await taskFor(api, 'lina', id, 'shenhe')
  t.notOk((await inbox(api, 'zhaolei')).some((x) => x.documentId === id), 'gone from the signer’s inbox')
  t.equal((await api.as('zhaolei').post(`/tasks/${task.taskKey}/sign`, { opinion: '再签' })).status, 403, 'signed once')
  t.equal((await api.as('zhangwei').post(`/tasks/${nigaoKey}/withdraw`, {})).status, 409, 'the step was acted on: the drafter can no longer withdraw')

  await act(api, 'lina', id, 'shenhe', { route: '送签发', opinion: '同意' })
  await taskFor(api, 'wangqiang', id, 'qianfa')
  t.same((await log(id)).filter((e: string[]) => e[0] === '科室审核'), [
    ['科室审核', '李娜', '前加签', '请赵磊先行审核'],
    ['科室审核', '赵磊', '加签签署', '建议修改第二段'],
    ['科室审核', '李娜', '送签发', '同意'],
  ], 'the log shows the added step')
  const signers = await api.as('zhangwei').get(`/documents/${id}/signers`)
  t.match(signers.body, [{ step: 'shenhe', mode: 'before', signerName: '赵磊', addedByName: '李娜', state: 'signed' }])
  t.same((await api.as('huangmei').get(`/documents/${id}/signers`)).body, [], 'another unit sees none')
})

t.test('后加签: the handler’s opinion is recorded, and the added signer completes the step', async (t) => {
  const { id, task } = await shenheOf()
  const noOpinion = await api.as('lina').post(`/tasks/${task.taskKey}/signers`, { signer: 'chenjing', mode: 'after' })
  t.equal(noOpinion.status, 400)
  t.match(JSON.stringify(noOpinion.body), /opinion/)
  const added = await api.as('lina').post(`/tasks/${task.taskKey}/signers`, { signer: 'chenjing', mode: 'after', opinion: '同意，请办公室把关' })
  t.equal(added.status, 200, JSON.stringify(added.body))
  await act(api, 'chenjing', id, 'shenhe', { route: '送签发', opinion: '已把关' })
  await taskFor(api, 'wangqiang', id, 'qianfa')
  t.same((await log(id)).filter((e: string[]) => e[0] === '科室审核'), [
    ['科室审核', '李娜', '后加签', '同意，请办公室把关（请陈静审核后办理）'],
    ['科室审核', '陈静', '送签发', '已把关'],
  ])
  t.match((await api.as('zhangwei').get(`/documents/${id}/signers`)).body, [{ step: 'shenhe', mode: 'after', signerName: '陈静', state: 'signed' }])
})

t.test('并行加签: the signer gets a task of their own at the same step; the step moves on once, after both', async (t) => {
  const { id, task } = await shenheOf()
  t.equal((await api.as('liuyang').post(`/tasks/${task.taskKey}/signers`, { signer: 'zhaolei', mode: 'parallel' })).status, 403, 'a bystander of the unit')
  t.equal((await api.as('huangmei').post(`/tasks/${task.taskKey}/signers`, { signer: 'zhaolei', mode: 'parallel' })).status, 404, 'another unit')
  const added = await api.as('lina').post(`/tasks/${task.taskKey}/signers`, { signer: 'zhaolei', mode: 'parallel' })
  t.equal(added.status, 200, JSON.stringify(added.body))
  const signer = await taskFor(api, 'zhaolei', id, 'shenhe')
  t.not(signer.taskKey, task.taskKey, 'a task of their own')
  t.ok((await inbox(api, 'lina')).some((x) => x.taskKey === task.taskKey), 'the handler keeps theirs')
  const options = (await api.as('lina').get(`/tasks/${task.taskKey}/signers`)).body
  t.match(options, { modes: [], pending: { signerName: '赵磊', mode: 'parallel' } }, 'the handler sees whom they wait for')
  t.equal((await api.as('zhaolei').get(`/tasks/${signer.taskKey}/signers`)).body.mustSign, true)
  t.equal((await api.as('lina').post(`/tasks/${task.taskKey}/signers`, { signer: 'chenjing', mode: 'parallel' })).status, 409, 'one pending signer at a time')

  const early = await api.as('lina').post(`/tasks/${task.taskKey}/complete`, { route: '送签发', opinion: '同意' })
  t.equal(early.status, 409, 'the handler waits for the signer')
  t.match(early.body.message, /并行加签人尚未签署/)
  t.equal((await api.as('zhaolei').post(`/tasks/${signer.taskKey}/complete`, { route: '送签发', opinion: '同意' })).status, 409, 'the signer signs, does not send the step on')
  t.equal((await api.as('lina').post(`/tasks/${signer.taskKey}/sign`, { opinion: '同意' })).status, 403, 'only the signer signs')

  const signed = await api.as('zhaolei').post(`/tasks/${signer.taskKey}/sign`, { opinion: '建议补充依据' })
  t.equal(signed.status, 200, JSON.stringify(signed.body))
  t.notOk((await inbox(api, 'zhaolei')).some((x) => x.documentId === id), 'gone from the signer’s inbox')
  t.equal((await api.as('zhaolei').post(`/tasks/${signer.taskKey}/sign`, { opinion: '再签' })).status, 409, 'signed once')

  await act(api, 'lina', id, 'shenhe', { route: '送签发', opinion: '同意' })
  await taskFor(api, 'wangqiang', id, 'qianfa')
  const open = await knex()('tasks').where({ document_id: id }).whereIn('state', ['open', 'completing', 'moving']).select('element_id')
  t.same(open.map((r: { element_id: string }) => r.element_id), ['qianfa'], 'the flow moved on once')
  t.same((await log(id)).filter((e: string[]) => e[0] === '科室审核'), [
    ['科室审核', '李娜', '并行加签', '请赵磊同时审核'],
    ['科室审核', '赵磊', '加签签署', '建议补充依据'],
    ['科室审核', '李娜', '送签发', '同意'],
  ], 'the log shows both')
  t.match((await api.as('zhangwei').get(`/documents/${id}/signers`)).body, [{ step: 'shenhe', mode: 'parallel', signerName: '赵磊', addedByName: '李娜', state: 'signed' }])
})

t.test('并行加签 is not offered at a 会签 step', async (t) => {
  const { id } = await shenheOf()
  await act(api, 'lina', id, 'shenhe', { route: '送会签', data: { countersignDepartments: ['liuzhou-gov-zonghe'] } })
  const hq = await taskFor(api, 'lina', id, 'huiqian')
  const res = await api.as('lina').post(`/tasks/${hq.taskKey}/signers`, { signer: 'liuyang', mode: 'parallel' })
  t.equal(res.status, 400)
  t.match(JSON.stringify(res.body), /mode/)
})

t.test('前加签 at a 会签 step offered to a department’s heads', async (t) => {
  const { id } = await shenheOf()
  await act(api, 'lina', id, 'shenhe', { route: '送会签', data: { countersignDepartments: ['liuzhou-gov-zonghe'] } })
  const hq = await taskFor(api, 'lina', id, 'huiqian')
  t.equal((await api.as('lina').post(`/tasks/${hq.taskKey}/signers`, { signer: 'liuyang', mode: 'before' })).status, 200)
  await taskFor(api, 'liuyang', id, 'huiqian')
  t.equal((await api.as('liuyang').post(`/tasks/${hq.taskKey}/sign`, { opinion: '无意见' })).status, 200)
  await taskFor(api, 'lina', id, 'huiqian')
  await act(api, 'lina', id, 'huiqian', { route: '会签同意', opinion: '会签同意' })
  await taskFor(api, 'wangqiang', id, 'qianfa')
  t.match((await log(id)).filter((e: string[]) => e[0] === '会签').map((e: string[]) => e.slice(1, 3)), [['李娜', '前加签'], ['刘洋', '加签签署'], ['李娜', '会签同意']])
})

t.test('who may add a signer, and bad input: a 4xx naming the field, nothing changed', async (t) => {
  const { id, task } = await shenheOf()
  const rows = async () => Number((await knex()('added_signers').count<{ count: string }[]>('* as count'))[0].count)
  const before = await rows()
  const post = (who: string, body: unknown) => api.as(who).post(`/tasks/${task.taskKey}/signers`, body)
  t.equal((await post('liuyang', { signer: 'zhaolei', mode: 'before' })).status, 403, 'a bystander of the unit')
  t.equal((await post('huangmei', { signer: 'zhaolei', mode: 'before' })).status, 404, 'another unit')
  t.equal((await api.as('huangmei').get(`/tasks/${task.taskKey}/signers`)).status, 404)
  const cases: Array<[string, unknown, string]> = [
    ['an unknown mode', { signer: 'zhaolei', mode: 'sideways' }, 'mode'],
    ['oneself', { signer: 'lina', mode: 'before' }, 'signer'],
    ['a person of another unit', { signer: 'huangmei', mode: 'before' }, 'signer'],
    ['an integrator account', { signer: 'liuzhou-gov-api', mode: 'before' }, 'signer'],
    ['no signer', { mode: 'before' }, 'signer'],
    ['a wrong type', { signer: 42, mode: 'before' }, 'signer'],
  ]
  for (const [what, body, field] of cases) {
    const res = await post('lina', body)
    t.equal(res.status, 400, `${what}: ${JSON.stringify(res.body)}`)
    t.match(JSON.stringify(res.body.details ?? res.body), field, `${what}: names ${field}`)
  }
  // a step whose model does not allow 加签 (拟稿)
  const id2 = await startFawen(api)
  const nigao = await taskFor(api, 'zhangwei', id2, 'nigao')
  const notHere = await api.as('zhangwei').post(`/tasks/${nigao.taskKey}/signers`, { signer: 'liuyang', mode: 'before' })
  t.equal(notHere.status, 400)
  t.match(JSON.stringify(notHere.body), /mode/)
  t.same((await api.as('zhangwei').get(`/tasks/${nigao.taskKey}/signers`)).body.modes, [])
  t.equal((await api.as('lina').post(`/tasks/${task.taskKey}/sign`, { opinion: '同意' })).status, 409, 'nothing to sign')
  t.equal(await rows(), before, 'nothing was stored')
  t.ok((await inbox(api, 'lina')).some((x) => x.taskKey === task.taskKey), 'the task is still with the handler')
  t.equal((await log(id)).filter((e: string[]) => e[0] === '科室审核').length, 0, 'and nothing was logged')
})
