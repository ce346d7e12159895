// 传阅 through the REST API on the real engine: a handler sends a 呈阅笺 to people and a
// department for reading; each reader gets a 待阅 item (not a 待办), reads the document read-only
// and marks it 已阅; the sender sees who has read it and urges the rest; the flow finishes while
// reading is still open; the office may circulate once a leader has instructed (批示). Other units,
// bystanders and integrator keys see nothing and change nothing; bad input is a 400 naming the field.
import t from 'tap'
import { act, documentAs } from './helpers/flows.ts'
import { Api, inbox, startStack, waitFor } from './helpers/stack.ts'

const stack = await startStack()
t.teardown(() => stack.close())
const api = new Api(stack)
const knex = () => stack.server!.knex

const reading = async (user: string, state = 'unread') => {
  const res = await api.as(user).get(`/reading?state=${state}`)
  if (res.status !== 200) throw new Error(`reading of ${user}: ${res.status}`)
  return res.body.items as Array<{ id: string; documentId: string; circulationId: string; senderName: string; note: string | null; readAt: string | null; comment: string | null }>
}
const circulate = (user: string, id: string, body: unknown) => api.as(user).post(`/documents/${id}/circulations`, body)
const count = async () => Number((await knex()('circulation_readers').count('* as n'))[0].n)

t.test('传阅 gives each reader a 待阅 item; the sender sees 已阅/未阅 and urges; the flow finishes while reading is open', async (t) => {
  const start = await api.as('zhangwei').post('/documents', { kind: 'chengyue', data: { title: '关于冬季安全检查情况的呈阅件', body: '现将检查情况呈上，请阅示。', urgency: '平件' } })
  t.equal(start.status, 201)
  const id = start.body.id as string
  await act(api, 'zhangwei', id, 'nigao', { route: '送科室负责人', nextHandler: 'lina' })

  // Bad input: 400 naming the field, nothing stored.
  const before = await count()
  const bad: Array<[unknown, string]> = [
    [{}, 'people'],
    [{ people: [] }, 'people'],
    [{ people: ['nobody'] }, 'people.0'],
    [{ people: ['liuyang', 'tanglin'] }, 'people.1'],
    [{ people: ['zhangwei'] }, 'people.0'],
    [{ departments: ['liuzhou-edu-jichu'] }, 'departments.0'],
    [{ people: ['liuyang'], note: 'x'.repeat(501) }, 'note'],
    [{ people: ['liuyang'], extra: 1 }, 'extra'],
  ]
  for (const [body, field] of bad) {
    const res = await circulate('zhangwei', id, body)
    t.equal(res.status, 400, `${JSON.stringify(body).slice(0, 60)}: 400`)
    t.ok(JSON.stringify(res.body.details ?? []).includes(field) || res.body.message.includes(field), `names ${field}: ${res.body.message}`)
  }
  t.equal((await circulate('zhangwei', 'not-a-uuid', { people: ['liuyang'] })).status, 400)
  t.equal(await count(), before, 'no bad request stored a reader')

  // Who may not send: another unit, a bystander of the unit, the office before any 批示, an integrator key.
  t.equal((await circulate('fengxue', id, { people: ['liuyang'] })).status, 404, 'another unit: 404')
  t.equal((await circulate('zhouadmin', id, { people: ['liuyang'] })).status, 404, 'a bystander of the unit: 404')
  t.equal((await circulate('chenjing', id, { people: ['liuyang'] })).status, 404, 'the office before 批示, no part in it: 404')
  const byKey = await api.call('POST', `/documents/${id}/circulations`, { apiKey: 'demo-key-liuzhou-gov', body: { people: ['liuyang'] } })
  t.equal(byKey.status, 403, 'an integrator key: 403')
  t.equal(await count(), before, 'nothing stored')

  // The drafter (a handler) sends it to a person and a whole department.
  const sent = await circulate('zhangwei', id, { people: ['liuyang'], departments: ['liuzhou-gov-lingdao'], note: '请各位领导阅知' })
  t.equal(sent.status, 201, JSON.stringify(sent.body))
  t.same(sent.body.readers.map((r: any) => r.userId).sort(), ['liuyang', 'sunli', 'wangqiang'])
  t.ok(sent.body.readers.every((r: any) => r.status === '未阅' && r.readAt === null))
  t.equal(sent.body.readers.find((r: any) => r.userId === 'sunli').viaDepartment, '办领导')
  t.equal(sent.body.notified, 3)
  const circulationId = sent.body.id as string

  // Each reader: a 待阅 item, not a 待办; a notification; the document readable.
  const [item] = (await reading('liuyang')).filter((r) => r.documentId === id)
  t.ok(item, 'liuyang has a 待阅 item')
  t.equal(item.senderName, '张伟')
  t.equal(item.note, '请各位领导阅知')
  t.notOk((await inbox(api, 'liuyang')).some((x) => x.documentId === id), '待阅 is not a 待办')
  const note = (await api.as('wangqiang').get('/notifications')).body.items.find((n: any) => n.documentId === id && n.kind === 'reading')
  t.match(note?.text, '待阅', 'wangqiang is notified')
  const doc = await documentAs(api, 'liuyang', id)
  t.ok(doc.log.some((e: any) => e.route === '传阅' && e.actorName === '张伟' && e.opinion.includes('刘洋')), 'the routing log shows 传阅 sent, naming the readers')
  t.equal((await api.as('liuyang').get(`/documents/${id}/files`)).status, 200, 'the reader sees the files')
  t.equal((await api.as('liuyang').post(`/documents/${id}/merge`, { from: [id] })).status, 404, 'reading is read-only: a reader may not merge into it')

  // Scoping of the 待阅: another unit and a bystander neither see nor mark it.
  t.notOk((await reading('fengxue', 'all')).some((r) => r.documentId === id), 'another unit sees no 待阅')
  t.notOk((await reading('zhouadmin', 'all')).some((r) => r.documentId === id), 'a bystander sees no 待阅')
  t.equal((await api.as('zhouadmin').post(`/reading/${item.id}/read`, {})).status, 404, 'a bystander may not mark it 已阅')
  t.equal((await api.as('fengxue').post(`/reading/${item.id}/read`, {})).status, 404, 'another unit may not mark it 已阅')
  t.equal((await api.as('fengxue').get(`/documents/${id}/circulations`)).status, 404)
  t.equal((await api.as('zhouadmin').get(`/documents/${id}`)).status, 404, 'a bystander may not read the document')
  t.equal((await api.as('liuyang').post('/reading/abc/read', {})).status, 400, 'a malformed id: 400')
  t.equal((await api.as('liuyang').post(`/reading/${item.id}/read`, { comment: 'x'.repeat(2001) })).status, 400, 'a comment of at most 2000 characters')
  t.equal((await api.as('liuyang').get('/reading?state=maybe')).status, 400, 'an unknown state: 400')

  // 已阅 with a comment, once.
  const read = await api.as('liuyang').post(`/reading/${item.id}/read`, { comment: '已阅，按要求落实。' })
  t.equal(read.status, 200)
  t.ok(read.body.readAt)
  t.equal((await api.as('liuyang').post(`/reading/${item.id}/read`, {})).status, 409, 'a second 已阅: 409')
  t.notOk((await reading('liuyang')).some((r) => r.documentId === id), 'gone from 待阅')
  t.equal((await reading('liuyang', 'read')).find((r) => r.documentId === id)?.comment, '已阅，按要求落实。', 'listed as 已阅 with its comment')

  // The sender sees who has read it; the others do not see the sender's view.
  const status = (await api.as('zhangwei').get(`/documents/${id}/circulations`)).body
  const readers = status.sent[0].readers
  t.same(readers.map((r: any) => [r.userId, r.status]), [['liuyang', '已阅'], ['sunli', '未阅'], ['wangqiang', '未阅']])
  t.equal(readers[0].comment, '已阅，按要求落实。')
  t.equal(status.sent[0].readCount, 1)
  const theirs = (await api.as('liuyang').get(`/documents/${id}/circulations`)).body
  t.same(theirs.sent, [], 'a reader does not see the sender’s list')
  t.equal(theirs.mine[0].readAt, read.body.readAt, 'but sees their own item')

  // 催阅 reaches only the unread readers, once per 10 minutes, and only from the sender.
  t.equal((await api.as('liuyang').post(`/circulations/${circulationId}/urge`)).status, 403, 'a reader may not urge')
  t.equal((await api.as('fengxue').post(`/circulations/${circulationId}/urge`)).status, 404, 'another unit: 404')
  t.equal((await api.as('zhouadmin').post(`/circulations/${circulationId}/urge`)).status, 404, 'a bystander: 404')
  const urged = await api.as('zhangwei').post(`/circulations/${circulationId}/urge`)
  t.equal(urged.status, 200)
  t.equal(urged.body.notified, 2, 'sunli and wangqiang')
  const urges = (user: string) => api.as(user).get('/notifications').then((r) => r.body.items.filter((n: any) => n.documentId === id && n.kind === 'urge'))
  t.equal((await urges('sunli')).length, 1)
  t.match((await urges('sunli'))[0].text, '催阅')
  t.equal((await urges('liuyang')).length, 0, 'the reader who has read it is not urged')
  t.equal((await api.as('zhangwei').post(`/circulations/${circulationId}/urge`)).status, 409, 'again within 10 minutes: 409')

  // The flow goes on and finishes; reading is still open.
  await act(api, 'lina', id, 'keshi', { route: '送办公室', nextHandler: 'zhaolei' })
  await act(api, 'zhaolei', id, 'bangongshi', { route: '送领导批示', data: { instructionLeaders: ['sunli'], instructionMode: '依次' } })
  t.equal((await circulate('chenjing', id, { people: ['zhouadmin'] })).status, 404, 'still no 批示: the office may not')
  await act(api, 'sunli', id, 'pishi-seq', { route: '送落实', opinion: '请认真落实' })
  const byOffice = await circulate('chenjing', id, { people: ['zhouadmin'], note: '领导已批示，请阅' })
  t.equal(byOffice.status, 201, 'the office may circulate after 批示')
  t.ok((await reading('zhouadmin')).some((r) => r.documentId === id), 'zhouadmin now has a 待阅 item')
  t.equal((await api.as('zhouadmin').get(`/documents/${id}`)).status, 200, 'and may read the document')
  await act(api, 'zhangwei', id, 'luoshi', { route: '办结' })
  await waitFor('the 呈阅笺 办结', async () => (await documentAs(api, 'zhangwei', id)).status === 'completed')
  const open = (await reading('wangqiang')).find((r) => r.documentId === id)
  t.ok(open, 'reading stays open after the flow finished')
  const late = await api.as('wangqiang').post(`/reading/${open!.id}/read`, {})
  t.equal(late.status, 200, 'and can be marked 已阅 then')
  const log = (await documentAs(api, 'zhangwei', id)).log
  t.same(log.filter((e: any) => e.route === '已阅').map((e: any) => [e.actorName, e.opinion]), [['刘洋', '已阅，按要求落实。'], ['王强', null]], 'the routing log shows each 已阅')
  t.equal(log.filter((e: any) => e.route === '传阅').length, 2)
})
