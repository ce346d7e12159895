// The web UI in a real browser (Debian's chromium) against the real server, engine and database:
// a 发文 drafted, approved with a saved opinion, signed, sealed and delivered, signed for by the
// recipient on a phone; 撤回 before the next handler opens it; tracking; search and paging.
import { createHash } from 'node:crypto'
import { copyFileSync, mkdirSync, statSync } from 'node:fs'
import Fastify from 'fastify'
import t from 'tap'
import type { Page } from 'playwright-core'
import { draft, inbox, startFawen, taskFor, waitFor } from './helpers/stack.ts'
import { act, documentAs, ensureZhengwen } from './helpers/flows.ts'
import { phone, startBrowserStack, tablet } from './helpers/browser.ts'
import webRoutes from '../server/routes/web.ts'

const { stack, ui, api } = await startBrowserStack()

/** Takes a screenshot (test-artifacts); with UPDATE_README_SCREENSHOTS=1 also the README's copy. */
async function keep(page: Page, name: string) {
  const path = await ui.screenshot(page, name)
  if (process.env.UPDATE_README_SCREENSHOTS) {
    mkdirSync('docs/screenshots', { recursive: true })
    copyFileSync(path, `docs/screenshots/${name}.png`)
  }
  return statSync(path).size
}

/** Submits the 办理 panel and waits until the page confirms and goes back to the inbox. */
async function submit(page: Page, expect: RegExp) {
  await page.click('form[aria-label="办理"] button[type=submit]')
  await page.locator('.alert.ok').filter({ hasText: expect }).waitFor()
  await page.waitForURL(/\/app\/inbox/)
}

async function openTask(page: Page, taskKey: string) {
  await page.goto('/app/inbox')
  await page.click(`tr[data-task="${taskKey}"] .title-cell a`)
  await page.waitForSelector('form[aria-label="办理"]')
}

t.test('web pages are served without a token; the API still needs one', async (t) => {
  const root = await fetch(`${stack.url}/`, { redirect: 'manual' })
  t.equal(root.status, 302)
  t.equal(root.headers.get('location'), '/app/inbox')
  const shell = await fetch(`${stack.url}/app/task/123`)
  t.equal(shell.status, 200)
  t.match(await shell.text(), /<script type="module" src="\/assets\/task\.js">/)
  const js = await fetch(`${stack.url}/assets/inbox.js`)
  t.equal(js.status, 200)
  t.match(js.headers.get('content-type'), /javascript/)
  t.equal((await fetch(`${stack.url}/app/nothing-here`)).status, 404)
  t.equal((await fetch(`${stack.url}/tasks`)).status, 401)
})

t.test('without a build, the web pages say which command builds them', async (t) => {
  const app = Fastify()
  await app.register(webRoutes, { webDist: '/nonexistent/dist/web/' } as Parameters<typeof webRoutes>[1])
  t.teardown(() => app.close())
  for (const url of ['/app/inbox', '/assets/inbox.js']) {
    const res = await app.inject(url)
    t.equal(res.statusCode, 503, url)
    t.match(res.body, /node --import tsx scripts\/build-web\.ts/)
  }
})

t.test('发文 in the browser: drafted with its 正文, approved with a saved opinion, signed, sealed, delivered and signed for', async (t) => {
  const title = `关于开展秋季消防安全检查的通知（${Date.now() % 100000}）`
  const phrase = '同意，请领导签发'
  t.equal((await api.as('lina').post('/people/me/phrases', { text: phrase })).status, 201)

  // 拟稿: zhangwei logs in through the form and drafts a 发文 from the inbox
  const zw = await ui.page()
  await zw.goto('/app/inbox')
  await zw.waitForURL(/\/app\/login/)
  await zw.fill('#username', 'zhangwei')
  await zw.fill('#password', 'gongwen123')
  await zw.click('button[type=submit]')
  await zw.waitForURL(/\/app\/inbox/)
  await zw.click('button:has-text("新建发文")')
  const form = zw.locator('form.new-document')
  await form.locator('[name=title]').fill(title)
  await form.locator('[name=docKind]').selectOption('通知')
  await form.locator('[name=mainRecipients][value="liuzhou-edu"]').check()
  await form.locator('[name=ccRecipients][value="liuzhou-fin"]').check()
  await form.locator('[name=urgency]').selectOption('加急')
  await form.locator('[name=body]').fill('各单位：请于本月底前完成消防安全检查。')
  await form.locator('button[type=submit]').click()
  await zw.waitForURL(/\/app\/task\/[\w-]+/)
  const [doc] = (await api.as('zhangwei').get(`/documents?q=${encodeURIComponent(title)}`)).body.items
  t.ok(doc, 'the document exists')
  const id = doc.id as string
  t.same([doc.kind, doc.urgency], ['fawen', '加急'])

  // the 正文, uploaded on the task page
  const body = Buffer.from(`%PDF-1.7 ${'正文'.repeat(100)}`)
  await zw.locator('.upload-row select').selectOption('正文')
  await zw.setInputFiles('.upload-row input[type=file]', { name: '消防检查通知.pdf', mimeType: 'application/pdf', buffer: body })
  await zw.locator('.file-name', { hasText: '消防检查通知.pdf' }).waitFor()
  const files = (await api.as('zhangwei').get(`/documents/${id}/files`)).body.items
  t.equal(files[0].kind, '正文')
  t.equal(files[0].versions[0].sha256, createHash('sha256').update(body).digest('hex'), 'the bytes stored are the bytes chosen')

  // 送审核 to lina: the picker offers only the department heads
  const offered = await zw.locator('select[name=nextHandler] option').allTextContents()
  t.same(offered.slice(1), ['李娜', '赵磊'])
  await zw.selectOption('select[name=nextHandler]', 'lina')
  await submit(zw, /已送审核/)
  const shenhe = await taskFor(api, 'lina', id, 'shenhe')

  // 跟踪: the diagram marks 拟稿 done and 审核 current (opening it does not open lina's task)
  await zw.goto(`/app/track/${id}`)
  await zw.waitForSelector('.diagram[data-ready]')
  t.equal(await zw.locator('.djs-element.gw-current[data-element-id="shenhe"]').count(), 1, 'the current step is marked')
  t.equal(await zw.locator('.djs-element.gw-done[data-element-id="nigao"]').count(), 1, 'the step done is marked')
  const frame = (await zw.locator('.diagram').boundingBox())!
  const step = (await zw.locator('.djs-element[data-element-id="shenhe"]').boundingBox())!
  t.ok(step.x >= frame.x && step.x + step.width <= frame.x + frame.width && step.y >= frame.y && step.y + step.height <= frame.y + frame.height, 'the current step is in view')
  t.ok(step.width >= 60, 'at a legible size')
  await zw.locator('.log-step', { hasText: '拟稿' }).waitFor()
  t.ok((await keep(zw, 'ui-track')) < 300_000, 'tracking screenshot under 300 KB')

  // 审核: lina sees where it came from, must give an opinion, and picks her saved one
  const ln = await ui.as('lina')
  await ln.goto('/app/inbox')
  const row = ln.locator(`tr[data-task="${shenhe.taskKey}"]`)
  t.match(await row.textContent(), /张伟/, '来自 names the drafter')
  t.match(await row.textContent(), /加急/)
  t.ok((await keep(ln, 'ui-inbox')) < 300_000, 'inbox screenshot under 300 KB')
  await openTask(ln, shenhe.taskKey)
  t.equal(await ln.locator('[data-field="docKind"] select').count(), 0, '文种 is read-only at 审核')
  t.equal(await ln.locator('[data-field="title"] input').count(), 1, '标题 is editable at 审核')
  await ln.check('input[name=route][value="送签发"]')
  await ln.selectOption('select[name=nextHandler]', 'wangqiang')
  await ln.click('form[aria-label="办理"] button[type=submit]')
  t.match(await ln.locator('.field-error').first().textContent(), /请填写意见/, 'no opinion: the opinion box says so')
  await ln.selectOption('select[name=phrase]', phrase)
  t.equal(await ln.inputValue('textarea[name=opinion]'), phrase, 'the saved opinion fills the box')
  t.ok((await keep(ln, 'ui-task')) < 300_000, '笺 screenshot under 300 KB')
  await submit(ln, /已送签发/)

  // 签发: the leader on a tablet
  const qianfa = await taskFor(api, 'wangqiang', id, 'qianfa')
  const wq = await ui.as('wangqiang', tablet)
  await openTask(wq, qianfa.taskKey)
  await wq.check('input[name=route][value="签发"]')
  await wq.fill('textarea[name=opinion]', '同意印发')
  await submit(wq, /已签发/)

  // 盖章: the registry applies the seal (用印)
  const gaizhang = await taskFor(api, 'chenjing', id, 'gaizhang')
  await ensureZhengwen(api, 'chenjing', id)
  const cj = await ui.as('chenjing')
  await openTask(cj, gaizhang.taskKey)
  await cj.check('input[name=route][value="用印"]')
  await submit(cj, /已用印/)

  const sent = await waitFor('分发', async () => {
    const d = await documentAs(api, 'zhangwei', id)
    return d.deliveries.length === 2 && d
  })
  t.match(sent.docNumber, /^柳政办发〔\d{4}〕\d+号$/)
  t.same(sent.log.filter((e: any) => e.actorId).map((e: any) => [e.stepName, e.actorId, e.route, e.opinion, e.channel]), [
    ['拟稿', 'zhangwei', '送审核', null, 'web'],
    ['科室审核', 'lina', '送签发', phrase, 'web'],
    ['签发', 'wangqiang', '签发', '同意印发', 'web'],
    ['盖章', 'chenjing', '用印', null, 'web'],
  ])

  // 签收: the recipient registry sees it in their inbox and signs for it on a phone
  const qianshou = await waitFor('the 签收 task at 教育局', async () => (await inbox(api, 'fengxue')).find((x) => x.step === 'qianshou' && x.title === title))
  const fx = await ui.as('fengxue', phone)
  await fx.goto('/app/inbox')
  const card = fx.locator(`tr[data-task="${qianshou.taskKey}"]`)
  t.match(await card.textContent(), /签收/)
  t.match(await card.textContent(), /柳州市人民政府办公室/, '来自 names the sending unit')
  await card.locator('.title-cell a').click()
  await fx.waitForSelector('form[aria-label="办理"]')
  t.ok(await fx.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'the task page fits a 390px screen')
  await ui.screenshot(fx, 'ui-task-phone')
  await fx.check('input[name=route][value="签收"]')
  await submit(fx, /已签收/)

  // the sender's tracking view shows who has signed
  await zw.goto(`/app/track/${id}`)
  const edu = zw.locator('.deliveries tr[data-unit="liuzhou-edu"]')
  await waitFor('教育局 已签收', async () => {
    await zw.reload()
    await edu.waitFor()
    return /已签收/.test((await edu.textContent()) ?? '')
  })
  t.match(await zw.locator('.deliveries tr[data-unit="liuzhou-fin"]').textContent(), /未签收/)
  t.same(ui.errors, [], 'no script errors')
})

t.test('撤回 from 已办 before the next handler opens the task, refused after', async (t) => {
  const id = await startFawen(api, 'zhangwei')
  const nigao = await taskFor(api, 'zhangwei', id, 'nigao')
  const zw = await ui.as('zhangwei')
  await openTask(zw, nigao.taskKey)
  await zw.selectOption('select[name=nextHandler]', 'lina')
  await submit(zw, /已送审核/)
  const shenhe = await taskFor(api, 'lina', id, 'shenhe')

  await zw.click('button[role=tab]:has-text("已办")')
  const done = zw.locator(`tr[data-task="${nigao.taskKey}"]`)
  zw.once('dialog', (d) => d.accept())
  await done.locator('button:has-text("撤回")').click()
  await zw.locator('.alert.ok', { hasText: '已撤回' }).waitFor()
  await waitFor('lina’s task withdrawn', async () => !(await inbox(api, 'lina')).some((x) => x.taskKey === shenhe.taskKey))
  const again = await taskFor(api, 'zhangwei', id, 'nigao')
  t.not(again.taskKey, nigao.taskKey, 'the drafter has a new 拟稿 task')
  await zw.click('button[role=tab]:has-text("待办")')
  await zw.locator(`tr[data-task="${again.taskKey}"]`).waitFor()

  // once lina has opened it, 撤回 is refused and the page says why
  const resent = await act(api, 'zhangwei', id, 'nigao', { route: '送审核', nextHandler: 'lina' })
  const shenhe2 = await taskFor(api, 'lina', id, 'shenhe')
  t.equal((await api.as('lina').get(`/tasks/${shenhe2.taskKey}`)).status, 200, 'lina opens it')
  await zw.click('button[role=tab]:has-text("已办")')
  zw.once('dialog', (d) => d.accept())
  await zw.locator(`tr[data-task="${resent}"] button:has-text("撤回")`).click()
  t.match(await zw.locator('.alert.error').textContent(), /已打开/)
  t.ok((await inbox(api, 'lina')).some((x) => x.taskKey === shenhe2.taskKey), 'lina keeps her task')
  t.same((await documentAs(api, 'zhangwei', id)).log.map((e: any) => e.route), ['送审核', '撤回', '送审核'])
  t.same(ui.errors, [], 'no script errors')
})

t.test('search by title, 发文字号 and date; paging; the diagram only for readers', async (t) => {
  const ids = []
  for (let i = 1; i <= 23; i++) ids.push(await startFawen(api, 'liuyang', draft({ title: `第${i}号测试通知` })))
  await waitFor('23 tasks', async () => (await api.as('liuyang').get('/tasks?limit=1')).body.total === 23)

  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date())
  const q = (s: string) => api.as('liuyang').get(`/tasks${s}`).then((r) => r.body)
  t.equal((await q('?q=第7号')).total, 1, 'by title')
  t.equal((await q(`?from=${today}&to=${today}`)).total, 23, 'by date, today included')
  t.equal((await q('?to=2000-01-01')).total, 0, 'nothing before 2000')
  t.equal((await q('?kind=chengyue')).total, 0, 'by kind')
  t.equal((await api.as('liuyang').get('/tasks?from=tomorrow')).status, 400, 'a bad date is refused')
  const numbered = (await api.as('zhangwei').get('/documents?kind=fawen&mine=true')).body.items.find((d: any) => d.docNumber)
  t.ok(numbered, 'zhangwei has a numbered 发文')
  const byNumber = (await api.as('zhangwei').get(`/documents?q=${encodeURIComponent(numbered.docNumber)}`)).body
  t.same(byNumber.items.map((d: any) => d.id), [numbered.id], 'by 发文字号')

  const ly = await ui.as('liuyang', tablet)
  await ly.goto('/app/inbox')
  await ly.locator('.pager', { hasText: '第 1 / 2 页' }).waitFor()
  t.equal(await ly.locator('tbody tr').count(), 20)
  await ly.click('.pager button:has-text("下一页")')
  await ly.locator('.pager', { hasText: '第 2 / 2 页' }).waitFor()
  t.equal(await ly.locator('tbody tr').count(), 3)
  await ly.fill('input[name=q]', '第12号')
  await ly.click('.filters button[type=submit]')
  // The unfiltered rows stay until the search answers: wait for the list to change, not for a row.
  await ly.waitForFunction(() => document.querySelectorAll('tbody tr').length === 1)
  t.same(await ly.locator('tbody tr .title-cell a').allTextContents(), ['第12号测试通知'])

  // 我的发文 finds a document by its 发文字号
  const zw = await ui.as('zhangwei')
  await zw.goto('/app/inbox?tab=mine')
  await zw.fill('input[name=q]', numbered.docNumber)
  await zw.click('.filters button[type=submit]')
  // The document is in the unfiltered list too: wait for the search's answer, one row.
  await zw.waitForFunction(() => document.querySelectorAll('tbody tr').length === 1)
  t.equal(await zw.locator(`tbody tr[data-document="${numbered.id}"]`).count(), 1, 'the one row found is the numbered 发文')

  t.equal((await api.as('liuyang').get(`/documents/${ids[0]}/diagram`)).status, 200, 'the drafter reads the diagram')
  t.equal((await api.as('zhangwei').get(`/documents/${ids[0]}/diagram`)).status, 404, 'a colleague with no part does not')
  t.equal((await api.as('fengxue').get(`/documents/${ids[0]}/diagram`)).status, 404, 'nor another unit')
  const diagram = (await api.as('liuyang').get(`/documents/${ids[0]}/diagram`)).body
  t.same([diagram.current, diagram.done], [['nigao'], []])
  t.match(diagram.xml, /<bpmn:process id="fawen/)
  t.same(ui.errors, [], 'no script errors')
})

t.test('退出 ends the session on the server: the token it held no longer works', async (t) => {
  // given: lina logged in through the login page
  const page = await ui.page()
  await page.goto('/app/login')
  await page.fill('#username', 'lina')
  await page.fill('#password', 'gongwen123')
  await page.click('button[type=submit]')
  await page.waitForURL(/\/app\/inbox/)
  const held = await page.evaluate(() => localStorage.getItem('gongwen.token'))
  t.ok(held, 'the page holds a login token')
  const withHeld = () => fetch(`${stack.url}/tasks`, { headers: { authorization: `Bearer ${held}` } }).then((r) => r.status)
  t.equal(await withHeld(), 200, 'which works before 退出')
  // when: she clicks 退出
  await page.getByRole('button', { name: '退出' }).click()
  await page.waitForURL(/\/app\/login/)
  // then: the page forgot it and the server refuses it
  t.equal(await page.evaluate(() => localStorage.getItem('gongwen.token')), null, 'the page forgot the token')
  t.equal(await withHeld(), 401, 'the server refuses the token after 退出')
  t.same(ui.errors, [], 'no script errors')
})

t.test('a person changes their own password on 本人账号; their other sessions end', async (t) => {
  // given: huangmei logged in twice, in the browser and elsewhere
  const other = await api.token('huangmei')
  const page = await ui.page()
  await page.goto('/app/login')
  await page.fill('#username', 'huangmei')
  await page.fill('#password', 'gongwen123')
  await page.click('button[type=submit]')
  await page.waitForURL(/\/app\/inbox/)
  // when: she opens her account from her name and changes the password
  await page.click('header a.who')
  await page.waitForURL(/\/app\/account/)
  const form = page.locator('form[aria-label="修改密码"]')
  await form.locator('#oldPassword').fill('gongwen123')
  await form.locator('#newPassword').fill('Huangmei-2026')
  await form.locator('#repeat').fill('Huangmei-2027')
  await form.locator('button[type=submit]').click()
  t.match(await form.getByRole('alert').innerText(), /两次输入的新密码不一致/, 'a mistyped repeat is caught on the page')
  await form.locator('#oldPassword').fill('not-her-password')
  await form.locator('#repeat').fill('Huangmei-2026')
  await form.locator('button[type=submit]').click()
  await form.getByRole('alert').filter({ hasText: '原密码不正确' }).waitFor()
  t.pass('a wrong old password is refused')
  await form.locator('#oldPassword').fill('gongwen123')
  await form.locator('button[type=submit]').click()
  t.match(await form.getByRole('status').innerText(), /密码已修改/, 'the change is confirmed')
  // then: the page goes on, the other session ends, and the new password logs in
  await page.goto('/app/inbox')
  await page.locator('header a.who').waitFor()
  t.match(page.url(), /\/app\/inbox/, 'the page still works, with its new token')
  t.equal((await fetch(`${stack.url}/tasks`, { headers: { authorization: `Bearer ${other}` } })).status, 401, 'the other session ended')
  t.equal((await api.call('POST', '/auth/login', { body: { username: 'huangmei', password: 'Huangmei-2026' } })).status, 200, 'the new password logs in')
  t.equal((await api.call('POST', '/auth/login', { body: { username: 'huangmei', password: 'gongwen123' } })).status, 401, 'the old one does not')
  t.same(ui.errors, [], 'no script errors')
})
