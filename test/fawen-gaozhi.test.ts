// The whole 发文稿纸 over REST: every 公文要素 of GB/T 9704 a 发文 carries is a field with its rule
// (份号 6 digits, 签发人 for a 上行文 at 签发, 附注 for a 请示, 公开属性 with its reason, 印发机关 and
// 印发日期), printed in its place on the 笺 (HTML and PDF), and the 笺 lint reports a template that
// leaves one out. Also: a person reads role labels (办公室主任), never role codes, on the printed
// 笺 and in the routing log.
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import t from 'tap'
import { compileForm } from '../server/forms/compile.ts'
import { Forms } from '../server/forms/forms.ts'
import { lintForm } from '../server/forms/lint.ts'
import { startBrowser } from './helpers/browser.ts'
import { Api, draft, startFawen, startStack, taskFor, waitFor } from './helpers/stack.ts'
import { pdfPages } from './forms-pdf-text.ts'

const stack = await startStack()
t.teardown(() => stack.close())
const api = new Api(stack)
const squash = (s: string) => s.replace(/\s+/g, '')

async function fetchRaw(path: string, as: string) {
  const res = await fetch(stack.url + path, { headers: { authorization: `Bearer ${await api.token(as)}` } })
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) }
}

/** A 笺's PDF; a 503 (the printer busy on a loaded machine) is retried after its Retry-After, as a client would. */
async function pdfOf(path: string, as: string) {
  for (let attempt = 1; ; attempt++) {
    const res = await fetchRaw(path, as)
    if (res.status !== 503 || attempt === 4) return res
    await new Promise((r) => setTimeout(r, 2000))
  }
}

async function complete(user: string, taskKey: string, body: Record<string, unknown>) {
  return api.as(user).post(`/tasks/${taskKey}/complete`, body)
}

/** The inner HTML of the element carrying data-element="<field>". */
function element(html: string, field: string): string {
  return new RegExp(`data-element="${field}"[^>]*>((?:(?!</(?:span|td)>)[\\s\\S])*)</(?:span|td)>`).exec(html)?.[1] ?? ''
}

t.test('a 请示 needs its 附注 at 拟稿 and its 签发人 at 签发: 400 naming the field, nothing moves; complete, every element prints in its place', async (t) => {
  const id = await startFawen(api, 'zhangwei', draft({ title: '关于申请冬季安全生产专项经费的请示', docKind: '请示' }))
  const docx = randomBytes(1500)
  t.equal((await api.upload('zhangwei', `/documents/${id}/files`, { bytes: docx, name: '请示正文.docx', type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' }, { kind: '正文' })).status, 201)

  // 拟稿: a 请示 without 附注 is refused, naming 附注; the task stays with the drafter
  const nigao = await taskFor(api, 'zhangwei', id, 'nigao')
  const noNote = await complete('zhangwei', nigao.taskKey, { route: '送审核', nextHandler: 'lina', opinion: '请审核' })
  t.equal(noNote.status, 400, JSON.stringify(noNote.body))
  t.ok(noNote.body.details?.some((d: { field: string }) => d.field === 'note'), 'the problem names the field note')
  t.match(noNote.body.message, '附注')
  // 份号 of the wrong shape is refused too, at the step that edits it (盖章), see below.
  const sent = await complete('zhangwei', nigao.taskKey, { route: '送审核', nextHandler: 'lina', opinion: '请审核', data: { note: '联系人：张伟，电话：0772-2825001' } })
  t.equal(sent.status, 200, JSON.stringify(sent.body))

  // 科室审核 → 办公室初审 → 办公室复审 (the 办公室主任) → 签发
  const shenhe = await taskFor(api, 'lina', id, 'shenhe')
  t.equal((await complete('lina', shenhe.taskKey, { route: '送下一审核', nextHandler: 'chenjing', opinion: '同意' })).status, 200)
  const chushen = await taskFor(api, 'chenjing', id, 'chushen')
  t.equal((await complete('chenjing', chushen.taskKey, { route: '送下一审核', nextHandler: 'zhaolei', opinion: '格式已核' })).status, 200)
  const fushen = await taskFor(api, 'zhaolei', id, 'fushen')
  t.equal((await complete('zhaolei', fushen.taskKey, { route: '送签发', nextHandler: 'wangqiang', opinion: '办公室同意，呈签发' })).status, 200)

  // 签发: the step offers 签发人; a 请示 signed without it is refused naming 签发人
  const qianfa = await taskFor(api, 'wangqiang', id, 'qianfa')
  const view = await api.as('wangqiang').get(`/tasks/${qianfa.taskKey}`)
  t.ok(view.body.form.schema.properties.signer, 'the 签发 step edits 签发人')
  const unsigned = await complete('wangqiang', qianfa.taskKey, { route: '签发', opinion: '同意上报' })
  t.equal(unsigned.status, 400, JSON.stringify(unsigned.body))
  t.same(unsigned.body.details.map((d: { field: string }) => d.field), ['signer'], 'only 签发人 is named')
  t.match(unsigned.body.message, '签发人')
  t.ok((await api.as('wangqiang').get('/tasks')).body.items.some((x: { taskKey: string }) => x.taskKey === qianfa.taskKey), 'the 签发 task is still open')
  t.equal((await complete('wangqiang', qianfa.taskKey, { route: '签发', opinion: '同意上报', data: { signer: 'wangqiang' } })).status, 200)

  // 盖章: 份号 is six digits
  const gaizhang = await taskFor(api, 'chenjing', id, 'gaizhang')
  const badCopy = await complete('chenjing', gaizhang.taskKey, { route: '用印', data: { copyNumber: '12' } })
  t.equal(badCopy.status, 400)
  t.same(badCopy.body.details, [{ field: 'copyNumber', message: '“份号”须为 6 位阿拉伯数字，如 000001' }])
  const sealed = await complete('chenjing', gaizhang.taskKey, { route: '用印', data: { copyNumber: '000007', issuingOrgan: '柳州市人民政府办公室秘书科', issueDate: '2026-01-08' } })
  t.equal(sealed.status, 200, JSON.stringify(sealed.body))
  await waitFor('the 请示 completed', async () => (await api.as('zhangwei').get(`/documents/${id}`)).body.status === 'completed')

  // the printed 笺 shows each element in its GB/T 9704 place
  const print = await fetchRaw(`/documents/${id}/jian?print=1`, 'zhangwei')
  t.equal(print.status, 200)
  const html = print.bytes.toString('utf8')
  const edge = html.indexOf('class="edge"'), masthead = html.indexOf('class="masthead"'), topline = html.indexOf('class="topline"')
  t.ok(edge >= 0 && edge < masthead, '份号 stands above the 发文机关标志, in the 版头')
  t.equal(element(html, 'copyNumber'), '000007')
  t.ok(html.indexOf('data-element="signer"') > topline && html.indexOf('data-element="signer"') < html.indexOf('<table'), '签发人 is in the header line of the 上行文')
  t.match(element(html, 'signer'), '签发人：<b>王强</b>')
  t.equal(element(html, 'note'), '（联系人：张伟，电话：0772-2825001）')
  t.ok(html.indexOf('data-element="note"') > html.indexOf('class="excerpt"'), '附注 follows the 正文')
  const banji = html.indexOf('class="banji"')
  t.ok(banji > html.indexOf('data-element="note"'), 'the 版记 comes after the 附注')
  t.equal(element(html, 'issuingOrgan'), '柳州市人民政府办公室秘书科')
  t.equal(element(html, 'issueDate'), '2026年1月8日印发')
  t.ok(html.indexOf('data-element="issuingOrgan"') > banji, '印发机关和印发日期 are in the 版记')
  t.match(element(html, 'publicity'), '主动公开')

  // and so does the PDF's text
  const pdf = await pdfOf(`/documents/${id}/jian.pdf`, 'zhangwei')
  t.equal(pdf.status, 200, pdf.status === 200 ? 'the PDF' : pdf.bytes.toString('utf8'))
  const text = squash(pdfPages(pdf.bytes).join(''))
  for (const shown of ['000007', '签发人：王强', '（联系人：张伟，电话：0772-2825001）', '柳州市人民政府办公室秘书科', '2026年1月8日印发', '公开属性：主动公开', '请示']) {
    t.ok(text.includes(squash(shown)), `the PDF shows “${shown}”`)
  }
  // the opinion boxes sign with role labels: the 办公室主任 who wrote in 办公室复审, never office_head
  t.ok(text.includes('办公室主任'), 'the PDF names the role 办公室主任')
  t.notOk(/office_head|office_reviewer|dept_head/.test(text), 'and no role code')
  const fushenBox = /data-box="fushen"[^>]*>([\s\S]*?)<\/td>/.exec(html)?.[1] ?? ''
  t.match(fushenBox, '<span class="role">办公室主任</span>')
  t.notMatch(html, /office_head|office_reviewer|dept_head/, 'no role code anywhere in the printed 笺')

  // the routing log over REST gives the label beside the code
  const doc = (await api.as('zhangwei').get(`/documents/${id}`)).body
  const entry = doc.log.find((e: { step: string }) => e.step === 'fushen')
  t.equal(entry.actorRole, 'office_head', 'integrators keep the code')
  t.equal(entry.actorRoleName, '办公室主任', 'and read its label')
  t.equal(entry.channelName, '网页')
  t.ok(doc.log.filter((e: { actorRole: string | null }) => e.actorRole).every((e: { actorRoleName: string }) => /^[\u4e00-\u9fa5/]+$/.test(e.actorRoleName)), 'every role in the log has a Chinese label')

  // and the track page's routing log reads the same in a browser
  const ui = await startBrowser(stack)
  t.teardown(() => ui.close())
  const page = await ui.as('zhangwei')
  await page.goto(`/app/track/${id}`)
  const log = page.locator('ol.log')
  await log.locator('li').first().waitFor()
  const shown = await log.innerText()
  t.match(shown, '赵磊（办公室主任）', 'the page names the 办公室主任')
  t.match(shown, '陈静（办公室审核）', 'and the 办公室审核')
  t.notMatch(shown, /office_head|office_reviewer|dept_head|leader/, 'and shows no role code')
  t.same(ui.errors, [], 'no script errors')
})

t.test('a 报告 too needs its 签发人 at 签发; a 通知 (下行文) does not, and prints no 签发人 in its header', async (t) => {
  for (const [docKind, needs] of [['报告', true], ['通知', false]] as const) {
    const id = await startFawen(api, 'zhangwei', draft({ title: `关于冬季安全生产检查情况的${docKind}`, docKind }))
    const nigao = await taskFor(api, 'zhangwei', id, 'nigao')
    t.equal((await complete('zhangwei', nigao.taskKey, { route: '送审核', nextHandler: 'lina' })).status, 200, `${docKind}: no 附注 needed`)
    const shenhe = await taskFor(api, 'lina', id, 'shenhe')
    t.equal((await complete('lina', shenhe.taskKey, { route: '送签发', nextHandler: 'sunli', opinion: '同意' })).status, 200)
    const qianfa = await taskFor(api, 'sunli', id, 'qianfa')
    const res = await complete('sunli', qianfa.taskKey, { route: '签发', opinion: '同意' })
    if (needs) {
      t.equal(res.status, 400, `${docKind} without 签发人 is refused`)
      t.equal(res.body.details?.[0]?.field, 'signer')
    } else {
      t.equal(res.status, 200, `${docKind} is signed without 签发人`)
      const html = (await fetchRaw(`/documents/${id}/jian`, 'zhangwei')).bytes.toString('utf8')
      t.notMatch(html, 'data-element="signer"', 'a 下行文 has no 签发人 in its header')
      t.match(html, '（未印发）', 'not yet printed: no 印发日期')
    }
  }
})

t.test('公开属性 other than 主动公开 needs its reason: 400 naming 不公开理由 at 拟稿, accepted with one', async (t) => {
  for (const publicity of ['不予公开', '依申请公开']) {
    const id = await startFawen(api, 'zhangwei', draft({ title: `内部事项（${publicity}）`, publicity }))
    const nigao = await taskFor(api, 'zhangwei', id, 'nigao')
    const refused = await complete('zhangwei', nigao.taskKey, { route: '送审核', nextHandler: 'lina' })
    t.equal(refused.status, 400, `${publicity} without a reason is refused`)
    t.same(refused.body.details.map((d: { field: string }) => d.field), ['publicityReason'])
    t.match(refused.body.message, '不公开理由')
    const ok = await complete('zhangwei', nigao.taskKey, { route: '送审核', nextHandler: 'lina', data: { publicityReason: '涉及内部工作安排' } })
    t.equal(ok.status, 200, JSON.stringify(ok.body))
    const html = (await fetchRaw(`/documents/${id}/jian`, 'zhangwei')).bytes.toString('utf8')
    t.match(element(html, 'publicity'), publicity)
    t.equal(element(html, 'publicityReason'), '涉及内部工作安排')
  }
})

t.test('the 笺 lint reports a 发文 template that leaves out an element, and a schema that lacks one', async (t) => {
  const forms = new Forms(join(import.meta.dirname, '..', 'forms'))
  const form = forms.get('fawen-gaozhi')
  t.same(lintForm(form), [], 'the 发文稿纸 as shipped is complete')
  const without = (template: string, cut: RegExp) => {
    const changed = template.replace(cut, '')
    t.not(changed, template, `the template had ${cut}`)
    return compileForm({ ...form.source, template: changed }, 0, 'x')
  }
  const noCopy = lintForm(without(form.source.template, /<div class="edge">.*<\/div>\n/))
  t.same(noCopy.map((p) => p.field), ['copyNumber'])
  t.match(noCopy[0].message, '模板没有印出公文要素“份号”')
  const noNote = lintForm(without(form.source.template, /<tr><th>\{\{label "note"\}\}.*<\/tr>\n/))
  t.same(noNote.map((p) => p.field), ['note'])
  const noIssue = lintForm(without(form.source.template, /<td colspan="2"><span data-element="issuingOrgan">.*<\/td>\n/))
  t.same(noIssue.map((p) => p.field), ['issuingOrgan', 'issueDate'])
  const { signer: _, ...properties } = form.source.schema.properties!
  const noSigner = lintForm(compileForm({ ...form.source, schema: { ...form.source.schema, properties } }, 0, 'y'))
  t.same(noSigner.map((p) => p.field), ['signer'])
  t.match(noSigner[0].message, '缺少公文要素“签发人”')
  t.same(lintForm(forms.get('shouwen-chuli')), [], 'a 笺 with no 文种 is no 发文 笺')
  await forms.close()
})
