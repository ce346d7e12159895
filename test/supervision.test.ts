// 督办 through the REST API on the real engine: the office marks a 呈阅笺 with a supervisor and a due
// date; the 督办 list shows it 在办 to the office, the supervisor and the handler and to nobody else;
// the supervisor's 催办 reaches the current handler and the handler's 反馈 reaches the supervisor,
// both recorded on the item; once overdue it shows 已超期 and escalates to the supervisor exactly
// once, even with two nodes checking at the same moment; finished, it shows 已办结.
import pino from 'pino'
import t from 'tap'
import { Supervision } from '../server/services/supervision.ts'
import { act, documentAs } from './helpers/flows.ts'
import { Api, startStack, waitFor } from './helpers/stack.ts'

// The server's own periodic check runs often here, racing the two "nodes" below.
const stack = await startStack({ env: { SUPERVISION_CHECK_MS: '300' } })
t.teardown(() => stack.close())
const api = new Api(stack)
const knex = () => stack.server!.knex
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'warn' })

const shanghaiDay = (offsetDays: number) => new Date(Date.now() + 8 * 3600_000 + offsetDays * 86_400_000).toISOString().slice(0, 10)
const list = async (user: string, state?: string) => {
  const res = await api.as(user).get(`/supervision${state ? `?state=${encodeURIComponent(state)}` : ''}`)
  if (res.status !== 200) throw new Error(`supervision list of ${user}: ${res.status}`)
  return res.body.items as Array<{ id: string; documentId: string; state: string; supervisorName: string; dueDate: string }>
}
const notes = async (user: string, id: string, kind: string) =>
  (await api.as(user).get('/notifications')).body.items.filter((n: any) => n.documentId === id && n.kind === kind)

t.test('督办: marked by the office, listed with its state, 催办 and 反馈 recorded, escalated once when overdue', async (t) => {
  const start = await api.as('zhangwei').post('/documents', { kind: 'chengyue', data: { title: '关于城区道路改造进度的呈阅件', body: '请阅示。', urgency: '平件' } })
  const id = start.body.id as string
  await act(api, 'zhangwei', id, 'nigao', { route: '送科室负责人', nextHandler: 'lina' })
  const mark = (user: string, body: unknown, doc = id) => api.as(user).post(`/documents/${doc}/supervision`, body)
  const tomorrow = shanghaiDay(1)

  // Bad input: 400 naming the field; nothing stored.
  const bad: Array<[unknown, string]> = [
    [{ dueDate: tomorrow }, 'supervisorId'],
    [{ supervisorId: 'zhaolei' }, 'dueDate'],
    [{ supervisorId: 'zhaolei', dueDate: '2026-02-30' }, 'dueDate'],
    [{ supervisorId: 'zhaolei', dueDate: shanghaiDay(-1) }, 'dueDate'],
    [{ supervisorId: 'fengxue', dueDate: tomorrow }, 'supervisorId'],
    [{ supervisorId: 'nobody', dueDate: tomorrow }, 'supervisorId'],
    [{ supervisorId: 'zhaolei', dueDate: tomorrow, extra: true }, 'extra'],
    [{ supervisorId: 'zhaolei', dueDate: tomorrow, note: 'x'.repeat(501) }, 'note'],
  ]
  for (const [body, field] of bad) {
    const res = await mark('chenjing', body)
    t.equal(res.status, 400, `${JSON.stringify(body).slice(0, 70)}: 400`)
    t.ok((res.body.details ?? []).some((d: any) => d.field.includes(field)), `names ${field}: ${res.body.message}`)
  }
  t.equal((await mark('chenjing', { supervisorId: 'zhaolei', dueDate: tomorrow }, 'nope')).status, 400)

  // Who may not mark: a handler who is not the office (403), a bystander and another unit (404), a key (403).
  t.equal((await mark('zhangwei', { supervisorId: 'zhaolei', dueDate: tomorrow })).status, 403, 'a handler who is not the office: 403')
  t.equal((await mark('zhouadmin', { supervisorId: 'zhaolei', dueDate: tomorrow })).status, 404, 'a bystander: 404')
  t.equal((await mark('fengxue', { supervisorId: 'zhaolei', dueDate: tomorrow })).status, 404, 'another unit: 404')
  t.equal((await api.call('POST', `/documents/${id}/supervision`, { apiKey: 'demo-key-liuzhou-gov', body: { supervisorId: 'zhaolei', dueDate: tomorrow } })).status, 403, 'an integrator key: 403')
  t.equal(Number((await knex()('supervisions').count('* as n'))[0].n), 0, 'nothing stored')

  // The office marks it.
  const marked = await mark('chenjing', { supervisorId: 'zhaolei', dueDate: tomorrow, note: '请于明日前办结' })
  t.equal(marked.status, 201, JSON.stringify(marked.body))
  t.equal(marked.body.state, '在办')
  t.equal(marked.body.dueDate, tomorrow)
  t.equal(marked.body.supervisorName, '赵磊')
  const sid = marked.body.id as string
  t.equal((await mark('chenjing', { supervisorId: 'zhaolei', dueDate: tomorrow })).status, 409, 'marked twice: 409')
  t.equal((await notes('zhaolei', id, 'supervision')).length, 1, 'the supervisor is told')
  t.equal((await api.as('zhaolei').get(`/documents/${id}`)).status, 200, 'and may read the document')
  t.equal((await api.as('zhaolei').post(`/documents/${id}/merge`, { from: [id] })).status, 404, 'read-only: may not merge into it')

  // The list: the office, the supervisor and the handler see it; a bystander and another unit do not.
  for (const user of ['chenjing', 'zhaolei', 'lina']) t.equal((await list(user)).find((i) => i.id === sid)?.state, '在办', `${user} sees it 在办`)
  t.notOk((await list('liuyang')).some((i) => i.id === sid), 'a bystander does not')
  t.notOk((await list('fengxue')).some((i) => i.id === sid), 'another unit does not')
  t.equal((await api.as('liuyang').get(`/supervision/${sid}`)).status, 404)
  t.equal((await api.as('fengxue').get(`/supervision/${sid}`)).status, 404)
  t.notOk((await list('chenjing', '已超期')).some((i) => i.id === sid), 'not in 已超期')
  t.equal((await api.as('chenjing').get('/supervision?state=maybe')).status, 400, 'an unknown state: 400')

  // 催办 by the supervisor reaches the current handler; 反馈 by the handler reaches the supervisor.
  t.equal((await api.as('lina').post(`/supervision/${sid}/urge`, {})).status, 403, 'only the supervisor urges')
  t.equal((await api.as('fengxue').post(`/supervision/${sid}/urge`, {})).status, 404, 'another unit: 404')
  const urged = await api.as('zhaolei').post(`/supervision/${sid}/urge`, { text: '请抓紧办理。' })
  t.equal(urged.status, 200)
  t.equal(urged.body.notified, 1, 'lina, who holds the 科室审核 task')
  t.match((await notes('lina', id, 'urge'))[0]?.text, '督办催办')
  t.equal((await api.as('lina').post(`/supervision/${sid}/replies`, { text: '  ' })).status, 400, 'a blank reply: 400')
  t.equal((await api.as('lina').post(`/supervision/${sid}/replies`, {})).status, 400, 'no text: 400')
  t.equal((await api.as('zhaolei').post(`/supervision/${sid}/replies`, { text: '好' })).status, 403, 'the supervisor is no handler')
  t.equal((await api.as('liuyang').post(`/supervision/${sid}/replies`, { text: '好' })).status, 404, 'a bystander: 404')
  const replied = await api.as('lina').post(`/supervision/${sid}/replies`, { text: '正在审核，今日办结。' })
  t.equal(replied.status, 201)
  t.match((await notes('zhaolei', id, 'supervision')).map((n: any) => n.text).join('|'), '督办反馈')
  const detail = (await api.as('zhaolei').get(`/supervision/${sid}`)).body
  t.same(detail.events.map((e: any) => [e.kind, e.actorName, e.text]), [['urge', '赵磊', '请抓紧办理。'], ['reply', '李娜', '正在审核，今日办结。']])
  t.same(detail.currentSteps, ['科室审核'])
  t.ok(detail.mayUrge)

  // Overdue: the due date has passed (moved back in the database, as time would). Two nodes and the
  // server's own check race; the supervisor hears exactly once.
  await knex()('supervisions').where({ id: sid }).update({ due_date: shanghaiDay(-2) })
  t.equal((await list('chenjing', '已超期')).find((i) => i.id === sid)?.state, '已超期', 'listed as 已超期')
  const nodes = [0, 1].map(() => new Supervision(knex(), stack.server!.services.documents, stack.server!.services.notifications, log))
  const claimed = await Promise.all([...nodes, ...nodes].map((n) => n.escalateOverdue()))
  await waitFor('the escalation', async () => (await notes('zhaolei', id, 'overdue')).length > 0)
  await new Promise((r) => setTimeout(r, 1000)) // several of the server's checks more
  t.ok(claimed.reduce((a, b) => a + b, 0) <= 1, 'at most one of the racing checks claimed it (the server may have been first)')
  const escalations = await knex()('supervision_events').where({ supervision_id: sid, kind: 'escalation' })
  t.equal(escalations.length, 1, 'one escalation recorded')
  t.equal((await notes('zhaolei', id, 'overdue')).length, 1, 'one notification to the supervisor')
  t.match((await notes('zhaolei', id, 'overdue'))[0].text, '督办超期')
  t.ok((await api.as('zhaolei').get(`/supervision/${sid}`)).body.escalatedAt, 'the item shows when it was escalated')

  // The flow finishes: 已办结.
  await act(api, 'lina', id, 'keshi', { route: '送办公室', nextHandler: 'zhaolei' })
  await act(api, 'zhaolei', id, 'bangongshi', { route: '送领导批示', data: { instructionLeaders: ['sunli'], instructionMode: '依次' } })
  await act(api, 'sunli', id, 'pishi-seq', { route: '送落实' })
  await act(api, 'zhangwei', id, 'luoshi', { route: '办结' })
  await waitFor('the 呈阅笺 办结', async () => (await documentAs(api, 'zhangwei', id)).status === 'completed')
  t.equal((await list('chenjing')).find((i) => i.id === sid)?.state, '已办结')
  t.equal((await api.as('zhaolei').post(`/supervision/${sid}/urge`, {})).status, 409, 'nothing to urge once finished')
  t.equal((await mark('chenjing', { supervisorId: 'zhaolei', dueDate: tomorrow })).status, 409)
})
