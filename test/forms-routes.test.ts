// The 笺 over REST on the real engine and database: the list and schemas of the 笺, a 发文's 笺 with
// the opinions given over REST (HTML, print view, PDF), who may read it, field permissions, 常用意见.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parseModel } from '../engine/index.ts'
import { Api, startFawen, startStack, waitFor } from './helpers/stack.ts'
import { pdfPages } from './forms-pdf-text.ts'

const stack = await startStack()
t.teardown(() => stack.close())
const api = new Api(stack)
const root = join(import.meta.dirname, '..')
const govPeople = ['zhangwei', 'lina', 'zhaolei', 'wangqiang', 'sunli', 'chenjing']

/** The first open task on the document offered to one of the unit's demo people. */
async function nextTask(id: string) {
  return waitFor(`a task on ${id}`, async () => {
    for (const user of govPeople) {
      const inbox = await api.as(user).get('/tasks')
      const task = inbox.body.items?.find((x: { documentId: string }) => x.documentId === id)
      if (task) return { user, task }
    }
    return null
  })
}

/** Completes the next task going forward (not 退回, not 会签), with an opinion; answers the step. */
async function forward(id: string, opinion: string): Promise<string> {
  const { user, task } = await nextTask(id)
  const detail = (await api.as(user).get(`/tasks/${task.taskKey}`)).body
  const route = detail.routes.find((r: { name: string }) => !/退回|会签/.test(r.name)) ?? detail.routes[0]
  const nextHandler = route.needsHandler ? route.handlers[0]?.id : undefined
  const res = await api.as(user).post(`/tasks/${task.taskKey}/complete`, { route: route.name, nextHandler, opinion })
  if (res.status !== 200 && res.status !== 202) throw new Error(`${user} could not complete ${task.step}: ${res.status} ${JSON.stringify(res.body)}`)
  return task.step
}

async function fetchRaw(path: string, as: string | { apiKey: string }) {
  const headers: Record<string, string> = typeof as === 'string' ? { authorization: `Bearer ${await api.token(as)}` } : { 'x-api-key': as.apiKey }
  const res = await fetch(stack.url + path, { headers })
  return { status: res.status, type: res.headers.get('content-type') ?? '', headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) }
}

t.test('GET /forms lists the 笺 with their current versions; GET /forms/:key gives a schema', async (t) => {
  const list = await api.as('zhangwei').get('/forms')
  t.equal(list.status, 200)
  const keys = list.body.map((f: { key: string }) => f.key)
  t.ok(['fawen-gaozhi', 'shouwen-chuli', 'chengyue-jian'].every((k) => keys.includes(k)), 'the three 笺 are listed')
  t.ok(list.body.every((f: { version: number }) => f.version >= 1), 'each with a stored version')

  const one = await api.as('zhangwei').get('/forms/shouwen-chuli')
  t.equal(one.status, 200)
  t.equal(one.body.title, '收文处理笺')
  t.same(one.body.schema.properties.urgency.enum, ['平件', '加急', '特急'], 'self-contained: the shared definitions are inlined')
  t.equal(one.body.schema.properties.receivedAt.readOnly, true)
  t.ok(one.body.boxes.some((b: { id: string; label: string }) => b.id === 'pishi' && b.label === '领导批示'), 'with its opinion boxes')
  t.equal((await api.as('zhangwei').get('/forms/shouwen-chuli?version=1')).body.version, 1)
  t.equal((await api.as('zhangwei').get('/forms/shouwen-chuli?version=999')).status, 404)
  t.equal((await api.as('zhangwei').get('/forms/no-such-jian')).status, 404)
  t.equal((await api.call('GET', '/forms')).status, 401, 'callers must log in')
})

t.test('the opinions of a 发文, given over REST, appear in its 笺 on screen, in print and in the PDF', async (t) => {
  // given a 发文 taken through three steps, each with an opinion
  const id = await startFawen(api)
  const model = await parseModel(readFileSync(join(root, 'processes', 'fawen.bpmn'), 'utf8'))
  const given: Array<{ step: string; opinion: string }> = []
  for (const [i, text] of ['请审核，急用。', '文稿已核，同意。', '同意送签发。'].entries()) {
    const opinion = `${text}（${i + 1}）`
    given.push({ step: await forward(id, opinion), opinion })
  }
  await waitFor('the three opinions in the log', async () => {
    const doc = await api.as('zhangwei').get(`/documents/${id}`)
    return given.every((g) => doc.body.log?.some((e: { opinion: string }) => e.opinion === g.opinion))
  })

  // when the drafter opens the 笺
  const screen = await fetchRaw(`/documents/${id}/jian`, 'zhangwei')
  t.equal(screen.status, 200)
  t.match(screen.type, 'text/html')
  t.match(screen.headers.get('content-security-policy') ?? '', "default-src 'none'", 'the page can run no script')
  const html = screen.bytes.toString('utf8')
  t.match(html, '<nav class="toolbar">')

  // then each opinion is in the box its step names (or under 其他意见 when the step has none)
  for (const g of given) {
    const box = model.userTasks.get(g.step)?.properties.opinion ?? ''
    const cell = new RegExp(`<td class="opinion-box[^"]*" data-box="${box}"[^>]*>((?:(?!</td>)[\\s\\S])*)</td>`).exec(html)?.[1] ?? ''
    t.match(cell, g.opinion, `“${g.opinion}” (${g.step}) is in box “${box || '其他意见'}”`)
  }
  const print = await fetchRaw(`/documents/${id}/jian?print=1`, 'zhangwei')
  t.equal(print.status, 200)
  t.notMatch(print.bytes.toString('utf8'), '<nav class="toolbar">', 'the print view is the sheet alone')
  for (const g of given) t.match(print.bytes.toString('utf8'), g.opinion)

  // and in the PDF's text
  const pdf = await fetchRaw(`/documents/${id}/jian.pdf`, 'zhangwei')
  t.equal(pdf.status, 200)
  t.equal(pdf.type, 'application/pdf')
  t.equal(pdf.bytes.subarray(0, 5).toString('latin1'), '%PDF-', 'a PDF')
  const pages = pdfPages(pdf.bytes)
  t.equal(pages.length, 1, 'of one A4 page')
  const text = pages.join('').replace(/\s+/g, '')
  for (const g of given) t.ok(text.includes(g.opinion), `the PDF text holds “${g.opinion}”`)
  t.ok(text.includes('关于做好冬季安全生产工作的通知'), 'and the title')

  // who may read the document may read its 笺; nobody else learns it exists
  t.equal((await fetchRaw(`/documents/${id}/jian`, { apiKey: 'demo-key-liuzhou-gov' })).status, 200, 'the unit’s integrator may')
  for (const stranger of ['liuyang', 'huangmei']) {
    t.equal((await fetchRaw(`/documents/${id}/jian`, stranger)).status, 404, `${stranger} gets 404 for the HTML`)
    t.equal((await fetchRaw(`/documents/${id}/jian.pdf`, stranger)).status, 404, `${stranger} gets 404 for the PDF`)
  }
  t.equal((await fetchRaw(`/documents/${id}/jian`, { apiKey: 'demo-key-liuzhou-edu' })).status, 404, 'another unit’s integrator gets 404')
})

t.test('a crafted request touching a field the step may not edit is refused with 403 naming it, and nothing is written', async (t) => {
  const id = await startFawen(api)
  await forward(id, '请审核。')
  const { user, task } = await nextTask(id)
  const detail = (await api.as(user).get(`/tasks/${task.taskKey}`)).body
  const form = (await api.as(user).get('/forms/fawen-gaozhi')).body
  const field = Object.keys(form.schema.properties).find((f) => !detail.form.editable.includes(f) && f !== 'publicityReason')!
  const res = await api.as(user).post(`/tasks/${task.taskKey}/complete`, { route: detail.routes[0].name, opinion: '同意', data: { [field]: form.schema.properties[field].enum?.[1] ?? ['liuzhou-fin'] } })
  t.equal(res.status, 403)
  t.equal(res.body.code, 'FIELD_FORBIDDEN')
  t.same(res.body.details.map((d: { field: string }) => d.field), [field])
  t.match(res.body.message, `“${form.schema.properties[field].title}”`, 'the message names the field by its label')
  const after = await api.as(user).get(`/tasks/${task.taskKey}`)
  t.equal(after.body.state, 'open', 'the task is still open')
  t.same(after.body.document.data[field], (await api.as('zhangwei').get(`/documents/${id}`)).body.data[field], 'the 笺 is unchanged')
})

t.test('常用意见: each person keeps their own, 1–500 characters, at most 50, no two alike', async (t) => {
  const me = api.as('lina')
  t.same((await me.get('/people/me/phrases')).body, [])
  const added = await me.post('/people/me/phrases', { text: '  同意。 ' })
  t.equal(added.status, 201)
  t.equal(added.body.text, '同意。', 'trimmed')
  for (const [body, why] of [[{ text: '同意。' }, 'a duplicate'], [{ text: '   ' }, 'an empty text'], [{ text: '意'.repeat(501) }, '501 characters']] as const) {
    const res = await me.post('/people/me/phrases', body)
    t.equal(res.status, 400, `${why} is refused`)
    t.same(res.body.details?.map((d: { field: string }) => d.field), ['text'], `${why}: the field is named`)
  }
  t.equal((await me.post('/people/me/phrases', { text: '意'.repeat(500) })).status, 201, '500 characters is fine')
  t.same((await api.as('zhaolei').get('/people/me/phrases')).body, [], 'another person does not see them')
  t.equal((await api.call('DELETE', `/people/me/phrases/${added.body.id}`, { as: 'zhaolei' })).status, 404, 'nor delete them')
  t.equal((await api.call('DELETE', `/people/me/phrases/${added.body.id}`, { as: 'lina' })).status, 204)
  t.same((await me.get('/people/me/phrases')).body.map((p: { text: string }) => p.text.length), [500])
  for (let i = 1; i < 50; i++) t.equal((await me.post('/people/me/phrases', { text: `意见${i}` })).status, 201)
  const full = await me.post('/people/me/phrases', { text: '第五十一条' })
  t.equal(full.status, 400, 'the 51st is refused')
  t.match(full.body.details?.[0], { field: 'text', message: /最多保存 50 条/ })
})
