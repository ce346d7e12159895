// The 发文 flow on the real engine and database, driven through the REST API only.
import t from 'tap'
import pino from 'pino'
import { Api, draft, inbox, startFawen, startStack, taskFor, waitFor } from './helpers/stack.ts'
import { ensureZhengwen } from './helpers/flows.ts'

const stack = await startStack()
t.teardown(() => stack.close())
const api = new Api(stack)

t.test('a 发文 travels 拟稿 → 审核 → 签发 → 编号 → 盖章 → 分发 → 归档, appearing in each handler’s inbox in turn', async (t) => {
  // given a drafter's new document
  const id = await startFawen(api)
  const nigao = await taskFor(api, 'zhangwei', id, 'nigao')
  t.equal((await inbox(api, 'lina')).filter((x) => x.documentId === id).length, 0, 'the department head has nothing yet')

  // the task shows its 笺, the editable fields and the allowed routes with valid handlers
  const detail = await api.as('zhangwei').get(`/tasks/${nigao.taskKey}`)
  t.equal(detail.status, 200)
  t.same(detail.body.routes.map((r: { name: string }) => r.name), ['送审核'])
  t.same(detail.body.routes[0].handlers.map((h: { id: string }) => h.id).sort(), ['lina', 'zhaolei'], 'only department heads of the unit are offered')
  t.ok(detail.body.form.schema.properties.title, 'the step schema carries the editable fields')

  // when the drafter sends it to a chosen department head
  const sent = await api.as('zhangwei').post(`/tasks/${nigao.taskKey}/complete`, { route: '送审核', nextHandler: 'lina', opinion: '请审核', data: { title: '关于做好冬季安全生产工作的通知（修改稿）' } })
  t.equal(sent.status, 200, JSON.stringify(sent.body))
  const shenhe = await taskFor(api, 'lina', id, 'shenhe')
  t.notOk((await inbox(api, 'zhaolei')).some((x) => x.documentId === id), 'the other department head does not see a task assigned to lina')
  t.notOk((await inbox(api, 'zhangwei')).some((x) => x.documentId === id), 'the drafter’s task is gone')
  const done = await api.as('zhangwei').get('/tasks/done')
  t.ok(done.body.items.some((x: { taskKey: string }) => x.taskKey === nigao.taskKey), 'and is in the drafter’s 已办')

  // then 审核 → 签发, offered to every leader since no handler was chosen
  t.equal((await api.as('lina').post(`/tasks/${shenhe.taskKey}/complete`, { route: '送签发', opinion: '同意' })).status, 200)
  const qianfa = await taskFor(api, 'wangqiang', id, 'qianfa')
  t.ok((await inbox(api, 'sunli')).some((x) => x.taskKey === qianfa.taskKey), 'both leaders see the unassigned 签发 task')

  // and 签发 → 编号 (automated) → 盖章 by the registry → 用印登记, 分发, 归档 (automated)
  t.equal((await api.as('wangqiang').post(`/tasks/${qianfa.taskKey}/complete`, { route: '签发', opinion: '同意印发' })).status, 200)
  const gaizhang = await taskFor(api, 'chenjing', id, 'gaizhang')
  await ensureZhengwen(api, 'chenjing', id)
  t.equal((await api.as('chenjing').post(`/tasks/${gaizhang.taskKey}/complete`, { route: '用印' })).status, 200)
  const doc = await waitFor('document completed', async () => {
    const res = await api.as('zhangwei').get(`/documents/${id}`)
    return res.body.status === 'completed' && res.body
  })
  t.notOk((await inbox(api, 'sunli')).some((x) => x.documentId === id), 'the other leader’s inbox no longer shows it')
  t.match(doc.docNumber, /^柳政办发〔\d{4}〕\d+号$/, 'a 发文字号 was allocated')
  t.equal(doc.sealName, '柳州市人民政府办公室印章')
  t.equal(doc.title, '关于做好冬季安全生产工作的通知（修改稿）', 'the drafter’s edit reached the document')
  t.same(doc.deliveries.map((d: { unitId: string; kind: string }) => [d.unitId, d.kind]), [['liuzhou-edu', '主送'], ['liuzhou-fin', '抄送']])
  t.same(
    doc.log.map((e: { stepName: string; actorName: string; route: string | null; opinion: string | null }) => [e.stepName, e.actorName, e.route, e.opinion?.slice(0, 2) ?? null]),
    [
      ['拟稿', '张伟', '送审核', '请审'],
      ['科室审核', '李娜', '送签发', '同意'],
      ['签发', '王强', '签发', '同意'],
      ['编号', '系统', null, '发文'],
      ['盖章', '陈静', '用印', null],
      ['用印登记', '系统', null, '加盖'],
      ['分发', '系统', null, '分发'],
      ['分发', '系统', null, '分发'],
      ['归档', '系统', null, '已归'],
    ],
    'the routing log records who, which step, route and opinion, in order',
  )
  t.ok(doc.log.every((e: { at: string; channel: string }) => e.at && e.channel), 'each entry has a time and channel')
})

t.test('审核 may send it back to the drafter, and 签发 back to 审核', async (t) => {
  const id = await startFawen(api, 'liuyang')
  const nigao = await taskFor(api, 'liuyang', id, 'nigao')
  await api.as('liuyang').post(`/tasks/${nigao.taskKey}/complete`, { route: '送审核', nextHandler: 'zhaolei' })
  const shenhe = await taskFor(api, 'zhaolei', id, 'shenhe')
  const routes = (await api.as('zhaolei').get(`/tasks/${shenhe.taskKey}`)).body.routes.map((r: { name: string }) => r.name)
  t.same(routes, ['送下一审核', '送会签', '送签发', '退回拟稿人'])

  // 退回拟稿人 → the drafter gets 拟稿 again
  t.equal((await api.as('zhaolei').post(`/tasks/${shenhe.taskKey}/complete`, { route: '退回拟稿人', opinion: '请补充依据' })).status, 200)
  const again = await taskFor(api, 'liuyang', id, 'nigao')
  t.not(again.taskKey, nigao.taskKey, 'a new 拟稿 task')
  await api.as('liuyang').post(`/tasks/${again.taskKey}/complete`, { route: '送审核' })
  // with no handler chosen, the route back goes to the one who handled 审核 before
  const shenhe2 = await taskFor(api, 'zhaolei', id, 'shenhe')
  t.notOk((await inbox(api, 'lina')).some((x) => x.taskKey === shenhe2.taskKey), 'not offered to the other department head')
  await api.as('zhaolei').post(`/tasks/${shenhe2.taskKey}/complete`, { route: '送签发', nextHandler: 'sunli', opinion: '同意' })

  // 退回审核 from 签发
  const qianfa = await taskFor(api, 'sunli', id, 'qianfa')
  t.equal((await api.as('sunli').post(`/tasks/${qianfa.taskKey}/complete`, { route: '退回审核', opinion: '再斟酌' })).status, 200)
  const shenhe3 = await taskFor(api, 'zhaolei', id, 'shenhe')
  t.ok(shenhe3)
  const log = (await api.as('liuyang').get(`/documents/${id}`)).body.log
  t.same(log.map((e: { route: string }) => e.route), ['送审核', '退回拟稿人', '送审核', '送签发', '退回审核'])
})

t.test('签发 needs an opinion unless the unit allows a blank signature (空白签名)', async (t) => {
  const id = await startFawen(api)
  const nigao = await taskFor(api, 'zhangwei', id, 'nigao')
  await api.as('zhangwei').post(`/tasks/${nigao.taskKey}/complete`, { route: '送审核', nextHandler: 'lina' })
  const shenhe = await taskFor(api, 'lina', id, 'shenhe')
  const noOpinion = await api.as('lina').post(`/tasks/${shenhe.taskKey}/complete`, { route: '送签发' })
  t.equal(noOpinion.status, 400, '审核 has an opinion box: an opinion is required')
  t.equal(noOpinion.body.details[0].field, 'opinion')
  await api.as('lina').post(`/tasks/${shenhe.taskKey}/complete`, { route: '送签发', opinion: '同意' })
  const qianfa = await taskFor(api, 'wangqiang', id, 'qianfa')
  const blank = await api.as('wangqiang').post(`/tasks/${qianfa.taskKey}/complete`, { route: '签发' })
  t.equal(blank.status, 400, 'the unit does not allow blank signatures yet')
  t.match(blank.body.message, /不允许空白签名/)
  t.equal((await api.call('PUT', '/settings/unit', { as: 'zhouadmin', body: { allowBlankSignature: true } })).status, 200)
  t.equal((await api.as('wangqiang').post(`/tasks/${qianfa.taskKey}/complete`, { route: '签发' })).status, 200, 'now it does')
  const log = (await api.as('zhangwei').get(`/documents/${id}`)).body.log
  t.match(log.find((e: { step: string }) => e.step === 'qianfa'), { blankSignature: true, opinion: null, actorRole: 'leader' })
  await api.call('PUT', '/settings/unit', { as: 'zhouadmin', body: { allowBlankSignature: false } })
})

t.test('invalid input is refused with 400 naming the field, and changes nothing', async (t) => {
  const id = await startFawen(api)
  const task = await taskFor(api, 'zhangwei', id, 'nigao')
  const before = await api.as('zhangwei').get(`/documents/${id}`)

  const badForm = await api.as('zhangwei').post(`/tasks/${task.taskKey}/complete`, { route: '送审核', data: { urgency: '很急', publicity: '不予公开', mainRecipients: [] } })
  t.equal(badForm.status, 400)
  t.equal(badForm.body.code, 'FORM_INVALID')
  const fields = badForm.body.details.map((d: { field: string }) => d.field)
  t.ok(fields.includes('urgency'), 'names 紧急程度')
  t.ok(fields.includes('mainRecipients'), 'names 主送机关')
  t.ok(fields.includes('publicityReason'), 'asks for the reason when not public')
  t.ok(badForm.body.details.some((d: { message: string }) => d.message.includes('紧急程度')), 'messages use the field’s label')

  const unknownField = await api.as('zhangwei').post(`/tasks/${task.taskKey}/complete`, { route: '送审核', data: { secret: 1 } })
  t.equal(unknownField.status, 400)
  t.equal(unknownField.body.details[0].field, 'secret')

  const badRoute = await api.as('zhangwei').post(`/tasks/${task.taskKey}/complete`, { route: '直接签发' })
  t.equal(badRoute.status, 400)
  t.equal(badRoute.body.code, 'ROUTE_INVALID')

  const wrongRole = await api.as('zhangwei').post(`/tasks/${task.taskKey}/complete`, { route: '送审核', nextHandler: 'wangqiang' })
  t.equal(wrongRole.status, 400)
  t.equal(wrongRole.body.details[0].field, 'nextHandler', 'a leader cannot be chosen for 审核')
  const otherUnit = await api.as('zhangwei').post(`/tasks/${task.taskKey}/complete`, { route: '送审核', nextHandler: 'wugang' })
  t.equal(otherUnit.status, 400, 'a department head of another unit cannot be chosen')

  const malformed = await api.call('POST', `/tasks/${task.taskKey}/complete`, { as: 'zhangwei', raw: '{"route": "送审核",' })
  t.equal(malformed.status, 400)
  const missingRoute = await api.as('zhangwei').post(`/tasks/${task.taskKey}/complete`, { opinion: 'x' })
  t.equal(missingRoute.status, 400)
  t.match(missingRoute.body.details[0].field, 'route')
  const huge = await api.as('zhangwei').post(`/tasks/${task.taskKey}/complete`, { route: '送审核', opinion: 'x'.repeat(2 * 1024 * 1024) })
  t.equal(huge.status, 413)

  const badStart = await api.as('zhangwei').post('/documents', { kind: 'fawen', data: { docKind: '便条' } })
  t.equal(badStart.status, 400)
  t.same(badStart.body.details.map((d: { field: string }) => d.field).sort(), ['docKind', 'title'])

  // nothing changed: task still open for the drafter, document unchanged, engine still waiting
  t.ok((await inbox(api, 'zhangwei')).some((x) => x.taskKey === task.taskKey), 'task still open')
  const after = await api.as('zhangwei').get(`/documents/${id}`)
  t.same(after.body.data, before.body.data)
  t.same(after.body.log, [])
  const ok = await api.as('zhangwei').post(`/tasks/${task.taskKey}/complete`, { route: '送审核' })
  t.equal(ok.status, 200, 'the engine still accepts the valid completion')
})

t.test('completing a task twice advances the flow once', async (t) => {
  const id = await startFawen(api)
  const task = await taskFor(api, 'zhangwei', id, 'nigao')
  const [a, b] = await Promise.all([
    api.as('zhangwei').post(`/tasks/${task.taskKey}/complete`, { route: '送审核' }),
    api.as('zhangwei').post(`/tasks/${task.taskKey}/complete`, { route: '送审核' }),
  ])
  t.same([a.status, b.status].sort(), [200, 409], 'one succeeds, the other gets 409')
  await taskFor(api, 'lina', id, 'shenhe')
  await new Promise((r) => setTimeout(r, 500))
  const tasks = (await inbox(api, 'lina')).filter((x) => x.documentId === id)
  t.equal(tasks.length, 1, 'exactly one 审核 task')
  t.equal((await api.as('zhangwei').get(`/documents/${id}`)).body.log.length, 1, 'one log entry')

  // a client retry with the same idempotency key gets the first result
  const shenhe = tasks[0]
  const key = { 'idempotency-key': 'retry-1' }
  const first = await api.as('lina').post(`/tasks/${shenhe.taskKey}/complete`, { route: '送签发', opinion: '同意' }, key)
  const retry = await api.as('lina').post(`/tasks/${shenhe.taskKey}/complete`, { route: '送签发', opinion: '同意' }, key)
  t.equal(first.status, 200)
  t.equal(retry.status, 200)
  t.same(retry.body, first.body)
  const other = await api.as('lina').post(`/tasks/${shenhe.taskKey}/complete`, { route: '送签发', opinion: '同意' }, { 'idempotency-key': 'another' })
  t.equal(other.status, 409)

  // starting a document with the same idempotency key returns the same document
  const s1 = await api.as('zhangwei').post('/documents', { kind: 'fawen', data: draft() }, { 'idempotency-key': 'start-1' })
  const s2 = await api.as('zhangwei').post('/documents', { kind: 'fawen', data: draft() }, { 'idempotency-key': 'start-1' })
  t.equal(s1.body.id, s2.body.id)
})

t.test('an unchanged model is not deployed as a new version; OpenAPI and health are served', async (t) => {
  const { knex, engine } = stack.server!
  const before = await knex('process_definitions').where({ bpmn_process_id: 'fawen' }).count<{ count: string }[]>('* as count')
  const { ProcessModels } = await import('../server/services/process-models.ts')
  const { join } = await import('node:path')
  await new ProcessModels(knex, engine, pino({ level: 'silent' })).deployAll(join(import.meta.dirname, '..', 'processes'), stack.server!.services.forms)
  const after = await knex('process_definitions').where({ bpmn_process_id: 'fawen' }).select('version', 'unit_id')
  t.equal(after.length, Number(before[0].count))
  t.same(after.map((r: { version: number }) => r.version), after.map(() => 1), 'each unit has version 1 only')
  const units = (await knex('units').select('id')).map((u: { id: string }) => u.id).sort()
  t.same(after.map((r: { unit_id: string }) => r.unit_id).sort(), units, 'the 发文 is deployed into every unit (tenant)')

  const docs = await api.call('GET', '/docs/json')
  t.equal(docs.status, 200)
  t.ok(docs.body.paths['/tasks/{key}/complete'], 'the completion route is documented')
  t.notOk(docs.body.paths['/internal/engine-events'], 'there is no engine-feed endpoint')
  // The engine node the server runs answers only with the server's credential.
  t.equal((await fetch(`${stack.engine.url}/process-instance`)).status, 401, 'the engine refuses a call without the credential')
  t.equal((await fetch(`${stack.engine.url}/process-instance`, { headers: { authorization: 'Bearer guess' } })).status, 401, 'and with a wrong one')
  const health = await api.call('GET', '/health')
  t.equal(health.status, 200)
  t.match(health.body, { status: 'up', engine: 'up', database: 'up' })
})
