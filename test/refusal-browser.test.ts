// 退文 in Debian's chromium: B's registry refuses an 电子来文 on its task page (拒收 with a reason);
// the sender's track page shows 已退文 and the reason; A's office re-sends it with a 更正说明, and B's
// registry sees the new 来文 linked to the refused one.
import t from 'tap'
import { startBrowserStack } from './helpers/browser.ts'
import { draft, inbox, startFawen, taskFor, waitFor } from './helpers/stack.ts'
import { act } from './helpers/flows.ts'

const { stack, ui, api } = await startBrowserStack()

t.test('the sender sees 已退文 with the reason, and re-sends', async (t) => {
  const title = `关于退文页面测试的通知 ${Date.now()}`
  const id = await startFawen(api, 'zhangwei', draft({ title, mainRecipients: ['liuzhou-edu'] }))
  await act(api, 'zhangwei', id, 'nigao', { route: '送审核', nextHandler: 'lina' })
  await act(api, 'lina', id, 'shenhe', { route: '送签发', nextHandler: 'wangqiang' })
  await act(api, 'wangqiang', id, 'qianfa', { route: '签发', opinion: '同意印发' })
  await taskFor(api, 'chenjing', id, 'gaizhang')
  await api.upload('chenjing', `/documents/${id}/files`, { bytes: Buffer.from(`%PDF-1.7 ${'正文'.repeat(100)}`), name: '正文.pdf', type: 'application/pdf' }, { kind: '正文' })
  await act(api, 'chenjing', id, 'gaizhang', { route: '用印' })
  const qianshou = await waitFor('the 电子来文 at B’s registry', async () => (await inbox(api, 'fengxue')).find((x) => x.step === 'qianshou' && x.title === title))

  // B's registry refuses on the task page: 拒收 needs its reason
  const fx = await ui.as('fengxue')
  await fx.goto(`/app/task/${qianshou.taskKey}`)
  await fx.check('input[name=route][value="拒收"]')
  await fx.click('form[aria-label="办理"] button[type=submit]')
  t.match(await fx.locator('.field-error').first().textContent(), /拒收/, 'no reason: the box says 拒收 needs one')
  await fx.fill('textarea[name=opinion]', '文中所附名单有误，请核对后重发')
  await fx.click('form[aria-label="办理"] button[type=submit]')
  await fx.locator('.alert.ok').filter({ hasText: '已拒收' }).waitFor()

  // A's drafter sees 已退文 with the reason on the track page
  await waitFor('the refusal recorded', async () => (await api.as('zhangwei').get(`/documents/${id}`)).body.deliveries[0].receiptStatus === '已退文')
  const zw = await ui.as('zhangwei')
  await zw.goto(`/app/track/${id}`)
  const row = zw.locator('table.deliveries tr[data-unit="liuzhou-edu"]')
  await row.locator('.receipt.refused').waitFor({ timeout: 60_000 })
  t.match(await row.textContent(), /已退文/, 'the row says 已退文')
  t.match(await row.textContent(), /文中所附名单有误，请核对后重发/, 'with the reason')
  t.equal(await row.getByRole('button', { name: '更正后重新分发' }).count(), 0, 'a drafter is offered no re-send')
  t.match(await zw.locator('ol.log').textContent(), /拒收，理由：文中所附名单有误/, 'the routing log says who refused and why')
  await ui.screenshot(zw, 'ui-refusal-sender')

  // A's office re-sends with a 更正说明 (required)
  const cj = await ui.as('chenjing')
  await cj.goto(`/app/track/${id}`)
  const cjRow = cj.locator('table.deliveries tr[data-unit="liuzhou-edu"]')
  await cjRow.getByRole('button', { name: '更正后重新分发' }).click()
  await cjRow.getByRole('button', { name: '重新分发' }).click()
  await cjRow.locator('.field-error').waitFor()
  t.match(await cjRow.locator('.field-error').textContent(), /更正说明/, 'no 更正说明: the form says so')
  await cjRow.locator('textarea[name=note]').fill('已核对并更正所附名单')
  await cjRow.getByRole('button', { name: '重新分发' }).click()
  await cjRow.locator('.resend-count').waitFor()
  t.match(await cjRow.textContent(), /未签收/, 'the re-sent 来文 waits for 签收')
  t.match(await cjRow.textContent(), /已更正重发 1 次/)

  // B's registry sees the new 来文, linked to the refused one
  const again = await waitFor('the re-sent 来文 at B', async () => (await inbox(api, 'fengxue')).find((x) => x.step === 'qianshou' && x.title === title && x.documentId !== qianshou.documentId))
  await fx.goto(`/app/task/${again.taskKey}`)
  await fx.locator('.resent-note').waitFor()
  t.match(await fx.locator('.resent-note').textContent(), /已核对并更正所附名单/, 'with the 更正说明')
  t.equal(await fx.locator(`.resent-note a[href="/app/track/${qianshou.documentId}"]`).count(), 1, 'and a link to the refused 来文')
  t.same(ui.errors, [], 'no script errors')
})
