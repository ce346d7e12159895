// The 呈阅笺 and the 分文报批 flows taken end to end in a real browser: every step is done on the
// web pages by the person whose inbox holds it; the REST API is used only to check the outcome.
import t from 'tap'
import type { Page } from 'playwright-core'
import { taskFor, waitFor } from './helpers/stack.ts'
import { documentAs } from './helpers/flows.ts'
import { startBrowserStack } from './helpers/browser.ts'

const { stack, ui, api } = await startBrowserStack()

/** Logs in through the login form, as a person would. */
async function login(username: string): Promise<Page> {
  const page = await ui.page()
  await page.goto('/app/inbox')
  await page.waitForURL(/\/app\/login/)
  await page.fill('#username', username)
  await page.fill('#password', 'gongwen123')
  await page.click('button[type=submit]')
  await page.waitForURL(/\/app\/inbox/)
  return page
}

/** Fills the 新建 form opened by `button` and submits it; resolves on the first task's page. */
async function create(page: Page, button: string, fields: Record<string, string>, selects: Record<string, string>) {
  await page.click(`button:has-text("${button}")`)
  const form = page.locator('form.new-document')
  for (const [name, value] of Object.entries(fields)) await form.locator(`[name=${name}]`).fill(value)
  for (const [name, value] of Object.entries(selects)) await form.locator(`[name=${name}]`).selectOption(value)
  await form.locator('button[type=submit]').click()
  await page.waitForURL(/\/app\/task\/[\w-]+/)
  await page.waitForSelector('form[aria-label="办理"]')
}

/** Opens the person's task on the document from their inbox (the row it holds). */
async function openFromInbox(username: string, documentId: string, step: string): Promise<Page> {
  const task = await taskFor(api, username, documentId, step)
  const page = await ui.as(username)
  await page.goto('/app/inbox')
  await page.click(`tr[data-task="${task.taskKey}"] .title-cell a`)
  await page.waitForSelector('form[aria-label="办理"]')
  return page
}

/** Chooses the route, the next handler and the opinion, submits, and waits for the confirmation. */
async function handle(page: Page, route: string, opts: { handler?: string; opinion?: string } = {}) {
  await page.check(`input[name=route][value="${route}"]`)
  if (opts.handler) await page.selectOption('select[name=nextHandler]', opts.handler)
  if (opts.opinion) await page.fill('textarea[name=opinion]', opts.opinion)
  await page.click('form[aria-label="办理"] button[type=submit]')
  await page.locator('.alert.ok').filter({ hasText: `已${route}` }).waitFor()
  await page.waitForURL(/\/app\/inbox/)
  await page.close()
}

async function documentByTitle(user: string, title: string): Promise<string> {
  const [doc] = (await api.as(user).get(`/documents?q=${encodeURIComponent(title)}`)).body.items
  if (!doc) throw new Error(`no document titled ${title}`)
  return doc.id
}

const completed = (user: string, id: string) =>
  waitFor(`${id} completed`, async () => {
    const doc = await documentAs(api, user, id)
    return doc.status === 'completed' && doc
  })

const steps = (doc: any) => doc.log.filter((e: any) => e.actorId).map((e: any) => [e.stepName, e.actorId, e.route, e.opinion])

t.test('呈阅笺 in the browser: 拟稿, 科室审核, 办公室审核, two leaders in turn, 落实, 办结', async (t) => {
  const title = `关于申请购置办公设备的呈阅笺（${Date.now() % 100000}）`
  const zw = await login('zhangwei')
  await create(zw, '新建呈阅笺', { title, body: '办公室打印机老化，拟购置两台，请领导阅示。' }, { urgency: '加急' })
  const id = await documentByTitle('zhangwei', title)
  const started = await documentAs(api, 'zhangwei', id)
  t.same([started.kind, started.urgency], ['chengyue', '加急'])

  // 拟稿 (the task page the 新建 form opened): 送科室负责人, to 李娜
  await handle(zw, '送科室负责人', { handler: 'lina' })

  // 科室审核: the opinion is required
  const ln = await openFromInbox('lina', id, 'keshi')
  await ln.check('input[name=route][value="送办公室"]')
  await ln.click('form[aria-label="办理"] button[type=submit]')
  t.match(await ln.locator('.field-error').first().textContent(), /请填写意见/, 'no opinion: the box says so')
  await handle(ln, '送办公室', { handler: 'zhaolei', opinion: '情况属实，拟同意' })

  // 办公室审核: 批示领导 孙丽 then 王强, 依次
  const zl = await openFromInbox('zhaolei', id, 'bangongshi')
  await zl.check('[name=instructionLeaders][value="sunli"]')
  await zl.check('[name=instructionLeaders][value="wangqiang"]')
  await zl.selectOption('[name=instructionMode]', '依次')
  await handle(zl, '送领导批示', { opinion: '请孙副市长、王市长批示' })

  // 领导批示: sunli first; wangqiang then sees her instruction in the 流转日志
  const sl = await openFromInbox('sunli', id, 'pishi-seq')
  await handle(sl, '送落实', { opinion: '同意购置，注意节约' })
  const wq = await openFromInbox('wangqiang', id, 'pishi-seq')
  const sunliEntry = wq.locator('ol.log li', { hasText: '孙丽' })
  t.match(await sunliEntry.locator('.log-opinion').textContent(), /同意购置，注意节约/, '孙丽’s instruction is in the log')
  await handle(wq, '送落实', { opinion: '同意' })

  // 落实: the drafter records how it was carried out and closes it
  const zw2 = await openFromInbox('zhangwei', id, 'luoshi')
  await zw2.fill('[name=implementation]', '已按规定采购两台打印机并投入使用。')
  await handle(zw2, '办结')

  const doc = await completed('zhangwei', id)
  t.equal(doc.status, 'completed')
  t.same(doc.data.instructionLeaders, ['sunli', 'wangqiang'])
  t.equal(doc.data.instructionMode, '依次')
  t.equal(doc.data.implementation, '已按规定采购两台打印机并投入使用。')
  t.same(steps(doc), [
    ['拟稿', 'zhangwei', '送科室负责人', null],
    ['科室审核', 'lina', '送办公室', '情况属实，拟同意'],
    ['办公室审核', 'zhaolei', '送领导批示', '请孙副市长、王市长批示'],
    ['领导批示', 'sunli', '送落实', '同意购置，注意节约'],
    ['领导批示', 'wangqiang', '送落实', '同意'],
    ['落实', 'zhangwei', '办结', null],
  ])
  t.same(ui.errors, [], 'no script errors')
})

t.test('分文报批 of a paper 收文 in the browser: 登记, 拟办, 分办, 主办, 办结', async (t) => {
  const title = `关于开展中小学安全教育周活动的通知（${Date.now() % 100000}）`
  const fx = await login('fengxue')
  await create(fx, '收文登记', { title, sourceUnit: '广西壮族自治区教育厅', incomingNumber: '桂教安〔2025〕12号' }, { urgency: '特急' })
  const id = await documentByTitle('fengxue', title)
  t.equal((await documentAs(api, 'fengxue', id)).kind, 'shouwen')

  // 登记 → 拟办
  await handle(fx, '送拟办')

  // 拟办: 主办部门 from the department list, 直接分办
  const wg = await openFromInbox('wugang', id, 'niban')
  const departments = await wg.locator('select[name=hostDepartment] option').allTextContents()
  t.ok(departments.includes('基础教育科'), 'the department list offers 基础教育科')
  await wg.selectOption('select[name=hostDepartment]', { label: '基础教育科' })
  await handle(wg, '直接分办', { opinion: '请基础教育科办理' })

  // 分办
  const wg2 = await openFromInbox('wugang', id, 'fenban')
  t.equal(await wg2.inputValue('select[name=hostDepartment]'), 'liuzhou-edu-jichu', 'the 拟办 choice is kept')
  await handle(wg2, '分办', { opinion: '按拟办意见分办' })

  // 主办: the head of 基础教育科
  const tl = await openFromInbox('tanglin', id, 'zhuban')
  await tl.fill('[name=result]', '已转发各中小学，活动已于本周开展。')
  await handle(tl, '办理完毕', { opinion: '已办理' })

  const doc = await completed('fengxue', id)
  t.equal(doc.status, 'completed')
  t.equal(doc.data.hostDepartment, 'liuzhou-edu-jichu')
  t.equal(doc.data.result, '已转发各中小学，活动已于本周开展。')
  t.same([doc.data.sourceUnit, doc.data.incomingNumber, doc.data.urgency], ['广西壮族自治区教育厅', '桂教安〔2025〕12号', '特急'])
  t.same(steps(doc), [
    ['登记', 'fengxue', '送拟办', null],
    ['拟办', 'wugang', '直接分办', '请基础教育科办理'],
    ['分办', 'wugang', '分办', '按拟办意见分办'],
    ['主办', 'tanglin', '办理完毕', '已办理'],
  ])
  t.same(ui.errors, [], 'no script errors')
})
