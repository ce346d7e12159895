// 联合发文 in Debian's chromium: B's leader finds the co-issuer's 会签 in B's inbox and agrees on its
// task page; after every issuer has sealed, A's track page lists the co-issuer's answer and the
// seals of both issuers.
import t from 'tap'
import { startBrowserStack } from './helpers/browser.ts'
import { draft, inbox, startFawen, waitFor } from './helpers/stack.ts'
import { act, documentAs } from './helpers/flows.ts'

const { stack, ui, api } = await startBrowserStack()

t.test('the co-issuer’s 会签 on its task page, and every seal on the track page', async (t) => {
  const title = `关于联合发文页面测试的通知 ${Date.now()}`
  const id = await startFawen(api, 'zhangwei', draft({ title, mainRecipients: ['liuzhou-fin'], ccRecipients: [], coIssuers: ['liuzhou-edu'] }))
  await act(api, 'zhangwei', id, 'nigao', { route: '送审核', nextHandler: 'lina' })
  await act(api, 'lina', id, 'shenhe', { route: '送签发', nextHandler: 'wangqiang' })
  await act(api, 'wangqiang', id, 'qianfa', { route: '签发', opinion: '同意印发' })
  const huiqian = await waitFor('B’s 会签', async () => (await inbox(api, 'zhengyu')).find((x) => x.step === 'huiqian' && x.title === title))

  // B's leader: the task is in B's inbox page, and is agreed on its task page
  const zy = await ui.as('zhengyu')
  await zy.goto('/app/inbox')
  await zy.getByText(title).first().waitFor()
  await zy.goto(`/app/task/${huiqian.taskKey}`)
  await zy.locator('input[name=route][value="不同意"]').waitFor()
  await zy.check('input[name=route][value="同意"]')
  await zy.fill('textarea[name=opinion]', '教育局同意联合发文')
  await ui.screenshot(zy, 'ui-joint-issuance-cosign')
  await zy.click('form[aria-label="办理"] button[type=submit]')
  await zy.locator('.alert.ok').first().waitFor()

  // A seals, B seals (through the API), and the 发文 is delivered
  await act(api, 'chenjing', id, 'gaizhang', { route: '用印' })
  const yongyin = await waitFor('B’s 用印', async () => (await inbox(api, 'fengxue')).find((x) => x.step === 'yongyin' && x.title === title))
  const sealed = await api.as('fengxue').post(`/tasks/${yongyin.taskKey}/complete`, { route: '用印' })
  t.equal(sealed.status, 200, JSON.stringify(sealed.body))
  await waitFor('delivered', async () => (await documentAs(api, 'zhangwei', id)).status === 'completed')

  // A's track page: the co-issuer's answer and both seals
  const zw = await ui.as('zhangwei')
  await zw.goto(`/app/track/${id}`)
  const card = zw.locator('section.joint-issuance')
  await card.waitFor()
  t.match(await card.locator('tr[data-unit="liuzhou-edu"]').textContent(), /柳州市教育局同意（教育局同意联合发文）/, 'B’s 会签 answer and opinion')
  t.match(await card.locator('.seals li[data-unit="liuzhou-gov"]').textContent(), /柳州市人民政府办公室印章（主办）/, 'the lead’s seal')
  t.match(await card.locator('.seals li[data-unit="liuzhou-edu"]').textContent(), /柳州市教育局印章/, 'B’s seal')
  t.match(await zw.locator('ol.log').textContent(), /柳州市教育局会签：同意/, 'the routing log shows B’s 会签')
  await ui.screenshot(zw, 'ui-joint-issuance-track')
  t.same(ui.errors, [], 'no script errors')
})
