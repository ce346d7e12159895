// 委托 in a real browser: the delegator sets a delegation on the 委托 page, the delegate finds the
// task in their inbox and completes it, the tracking page shows "赵磊 代 李娜", and the delegator's
// page lists what was done in her name.
import t from 'tap'
import type { Page } from 'playwright-core'
import { inbox, startFawen, taskFor } from './helpers/stack.ts'
import { act } from './helpers/flows.ts'
import { startBrowserStack } from './helpers/browser.ts'

const { stack, ui, api } = await startBrowserStack()

async function openTask(page: Page, taskKey: string) {
  await page.goto('/app/inbox')
  await page.click(`tr[data-task="${taskKey}"] .title-cell a`)
  await page.waitForSelector('form[aria-label="办理"]')
}

t.test('a delegation at work: set on the page, the delegate acts, the log says X 代 Y', async (t) => {
  // given lina sets a delegation to zhaolei on the 委托 page
  const ln = await ui.as('lina')
  await ln.goto('/app/delegation')
  const form = ln.locator('form[aria-label="设置委托"]')
  await form.waitFor()
  t.equal(await ln.locator('#delegator').count(), 0, 'a person who is not the admin sets only their own')
  // a bad period is refused, the field named on the page
  await ln.selectOption('#delegate', 'zhaolei')
  await ln.fill('#from', '2099-01-02')
  await ln.fill('#to', '2099-01-01')
  await form.locator('button[type=submit]').click()
  t.match(await ln.locator('.field-error').first().textContent(), /早于开始日期/, 'to before from: said under 结束日期')
  const today = new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' })
  await ln.fill('#from', today)
  await ln.fill('#to', today)
  await ln.check('input[name=flows][value=fawen]')
  await form.locator('button[type=submit]').click()
  await ln.locator('.alert.ok').filter({ hasText: /委托已设置/ }).waitFor()
  const row = ln.locator('section[aria-label="委托列表"] tbody tr')
  t.match(await row.first().textContent(), /李娜.*赵磊.*发文.*生效中/, 'the delegation is listed, in force')

  // when a 发文 is sent to lina
  const id = await startFawen(api)
  await act(api, 'zhangwei', id, 'nigao', { route: '送审核', nextHandler: 'lina' })
  const task = await taskFor(api, 'zhaolei', id, 'shenhe')
  t.notOk((await inbox(api, 'lina')).some((x) => x.documentId === id))

  // then zhaolei sees it in his inbox and completes it in the browser
  const zl = await ui.as('zhaolei')
  await zl.goto('/app/inbox')
  await zl.locator(`tr[data-task="${task.taskKey}"]`).waitFor()
  await openTask(zl, task.taskKey)
  await zl.check('input[name=route][value="送签发"]')
  await zl.fill('textarea[name=opinion]', '代为审核，同意')
  await zl.click('form[aria-label="办理"] button[type=submit]')
  await zl.locator('.alert.ok').waitFor()
  await taskFor(api, 'wangqiang', id, 'qianfa')

  // the tracking page shows 赵磊 代 李娜
  const zw = await ui.as('zhangwei')
  await zw.goto(`/app/track/${id}`)
  await zw.locator('.log-actor').filter({ hasText: '赵磊 代 李娜' }).waitFor()
  await ui.screenshot(zw, 'delegation-track')

  // and lina's page lists what was done in her name
  await ln.goto('/app/delegation')
  const done = ln.locator('#on-my-behalf tbody tr')
  await done.first().waitFor()
  t.match(await done.first().textContent(), /科室审核.*赵磊 代 李娜.*送签发：代为审核，同意/)
  await ui.screenshot(ln, 'delegation-page')
  t.same(ui.errors, [], 'no script errors')
})
