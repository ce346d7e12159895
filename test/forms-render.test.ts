// Rendering: every opinion of the routing log lands in the box of its step (by the step's
// `opinion` header in the document's process model), in the HTML and in the PDF's text.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { parseModel } from '../engine/index.ts'
import { demo } from '../server/forms/demo.ts'
import { Forms } from '../server/forms/forms.ts'
import { Jian } from '../server/forms/jian.ts'
import { dateTime } from '../server/forms/render.ts'
import { ProcessModels } from '../server/services/process-models.ts'
import { scratchDatabase } from './forms-db.ts'
import { pdfPages } from './forms-pdf-text.ts'

const root = join(import.meta.dirname, '..')
const forms = new Forms(join(root, 'forms'))
const db = await scratchDatabase()
t.teardown(async () => {
  await forms.close()
  await db.close()
})
await forms.sync(db.knex)

/** The entries of each opinion box in the HTML: box id → the box's inner HTML. */
function boxes(html: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const m of html.matchAll(/<td class="opinion-box[^"]*" data-box="([^"]*)"[^>]*>([\s\S]*?)<\/td>/g)) {
    const key = m[1] || '(其他)'
    out.set(key, (out.get(key) ?? '') + m[2])
  }
  return out
}
const squash = (s: string) => s.replace(/\s+/g, '')

t.test('each 笺 renders its demo data with every opinion in its box, on screen, in print and in the PDF', async (t) => {
  for (const [key, ctx] of Object.entries(demo)) {
    const form = forms.get(key)
    const screen = await forms.render(form, ctx, { print: false })
    const print = await forms.render(form, ctx, { print: true })
    t.match(screen, '<nav class="toolbar">', `${key}: the screen view links to print and PDF`)
    t.notMatch(print, '<nav class="toolbar">', `${key}: the print view is the sheet alone`)
    t.match(print, /@page \{ size: A4/, `${key}: print CSS for A4`)
    const found = boxes(print)
    t.same([...found.keys()].filter((b) => b !== '(其他)'), [...form.boxes.keys()], `${key}: one box per step, all drawn`)
    for (const e of ctx.opinions) {
      const box = found.get(e.box!) ?? ''
      t.match(box, e.opinion ?? '空白签名', `${key}: “${e.opinion ?? '空白签名'}” is in box ${e.box}`)
      t.match(box, `${e.actorName}</span>`, `${key}: with the name of who wrote it`)
      t.match(box, dateTime(e.at), `${key}: and the time in Beijing time`)
    }
    const pages = pdfPages(await forms.printer.pdf(print))
    t.equal(pages.length, 1, `${key}: the PDF is one A4 page`)
    const text = squash(pages.join(''))
    for (const e of ctx.opinions) t.ok(text.includes(squash(e.opinion ?? '空白签名')), `${key}: the PDF text holds “${e.opinion ?? '空白签名'}”`)
    for (const label of form.boxes.values()) t.ok(text.includes(squash(label)), `${key}: the PDF shows the box ${label}`)
    t.ok(text.includes(squash(String(ctx.data.title))), `${key}: and the title`)
  }
})

t.test('the 发文 carries a QR code of its 发文字号, title and issuing unit', async (t) => {
  const html = await forms.render(forms.get('fawen-gaozhi'), demo['fawen-gaozhi'], { print: true })
  t.match(html, /<img class="qr" src="data:image\/svg\+xml;base64,/)
  t.match(html, '柳政办发〔2026〕12号')
  t.notMatch(await forms.render(forms.get('chengyue-jian'), demo['chengyue-jian'], { print: true }), 'class="qr"', 'the other 笺 carry none')
})

t.test('text from the routing log is escaped, never markup', async (t) => {
  const ctx = { ...demo['chengyue-jian'], opinions: [{ ...demo['chengyue-jian'].opinions[0], opinion: '<script>alert(1)</script>同意' }] }
  const html = await forms.render(forms.get('chengyue-jian'), ctx, { print: true })
  t.notMatch(html, '<script>')
  t.match(html, '&lt;script&gt;alert(1)&lt;/script&gt;同意')
})

t.test('a document’s routing log goes into the boxes its process model names', async (t) => {
  // given a 发文 on the model in processes/, and a routing-log entry for each of its user tasks
  const xml = readFileSync(join(root, 'processes', 'fawen.bpmn'), 'utf8')
  const model = await parseModel(xml)
  await db.knex('process_definitions').insert({ key: 'forms-test-fawen', bpmn_process_id: 'fawen', base_process: 'fawen', version: 1, resource_name: 'fawen.bpmn', xml })
  const id = randomUUID()
  await db.knex('documents').insert({
    id, unit_id: 'liuzhou-gov', kind: 'fawen', title: '关于测试意见栏的通知', status: 'running', created_by: 'zhangwei', process_definition_key: 'forms-test-fawen',
    data: JSON.stringify({ ...demo['fawen-gaozhi'].data, title: '关于测试意见栏的通知' }), form_version: forms.current('fawen-gaozhi').version,
  })
  const tasks = [...model.userTasks.values()]
  const at = (i: number) => new Date(Date.UTC(2026, 0, 5, 1, i))
  const rows = tasks.map((task, i) => ({
    document_id: id, unit_id: 'liuzhou-gov', dedup_key: `test:${task.id}`, step: task.id, step_name: task.name, actor_id: 'lina', actor_name: '李娜',
    actor_role: 'dept_head', route: '送', opinion: `第${i + 1}条意见（${task.name}）`, channel: i % 2 ? 'api' : 'web', at: at(i),
  }))
  const blank = { ...rows[rows.length - 1], dedup_key: 'test:blank', actor_name: '王强', actor_role: 'leader', opinion: null, blank_signature: true, at: at(50) }
  const system = { ...rows[0], dedup_key: 'test:system', step: 'fenfa', step_name: '分发', actor_id: null, actor_name: '系统', opinion: '已分发至 2 个单位', channel: 'engine', at: at(60) }
  await db.knex('routing_log').insert([...rows, blank, system])

  // when it renders
  const { form, ctx } = await new Jian(db.knex, forms, new ProcessModels(db.knex, null as never, null as never), null as never).load(id)
  const html = await forms.render(form, ctx, { print: true })
  const found = boxes(html)

  // then each opinion is in the box of its step, or under 其他意见 for a step with no box
  tasks.forEach((task, i) => {
    const box = task.properties.opinion && form.boxes.has(task.properties.opinion) ? task.properties.opinion : '(其他)'
    t.match(found.get(box), rows[i].opinion, `${task.name} → ${box}`)
    for (const [other, inner] of found) if (other !== box) t.notMatch(inner, rows[i].opinion, `${task.name} is not also in ${other}`)
  })
  t.ok(tasks.some((task) => task.properties.opinion), 'the model has steps with opinion boxes')
  t.notMatch(html, '已分发至', 'automated steps are not opinions')
  const last = tasks[tasks.length - 1]
  const lastBox = found.get(last.properties.opinion && form.boxes.has(last.properties.opinion) ? last.properties.opinion : '(其他)') ?? ''
  t.ok(lastBox.indexOf(rows[rows.length - 1].opinion!) < lastBox.indexOf('空白签名'), 'entries of a box in time order, a blank signature shown as such')
  t.match(lastBox, '<span class="role">领导</span>', 'with the role')
  t.match(html, '<span class="channel">接口</span>', 'and the channel')

  // and the PDF holds the same opinions
  const text = squash(pdfPages(await forms.printer.pdf(html)).join(''))
  for (const r of rows) t.ok(text.includes(squash(r.opinion!)), `the PDF text holds “${r.opinion}”`)
})
