// 单位管理 › 接口密钥 in Debian's chromium against the real stack: a unit admin makes a key with a
// scope, sees its secret once, and revokes it; each step is checked over REST with the key itself.
import t from 'tap'
import { startBrowserStack } from './helpers/browser.ts'

const { stack, ui, api } = await startBrowserStack()

t.test('a unit admin makes a key, copies its secret once, and revokes it', async (t) => {
  const page = await ui.as('zhouadmin')
  page.on('dialog', (d) => void d.accept())
  await page.goto('/app/admin#api-keys')
  await page.locator('#api-keys tr[data-id="liuzhou-gov-demo"]').waitFor()
  t.match(await page.locator('#api-keys tr[data-id="liuzhou-gov-demo"]').textContent(), /demo-key-l…/, 'the demo key shows by its prefix')

  await page.fill('#api-key-name', '统计大屏')
  await page.uncheck('#add-api-key input[value="documents:read"]')
  await page.check('#add-api-key input[value="statistics:read"]')
  await page.getByRole('button', { name: '新建密钥' }).click()
  const secret = (await page.locator('#new-secret').textContent())!
  t.match(secret, /^gw_/, 'the secret is shown')
  t.equal((await api.call('GET', '/statistics', { apiKey: secret })).status, 200, 'and works for its scope')
  t.equal((await api.call('GET', '/documents', { apiKey: secret })).status, 403, 'and only for it')
  await ui.screenshot(page, 'ui-admin-api-keys')

  await page.getByRole('button', { name: '我已保存' }).click()
  t.equal(await page.locator('#new-secret').count(), 0, 'gone once saved')
  await page.reload()
  t.notOk((await page.locator('#api-keys').textContent())!.includes(secret), 'never shown again')

  const row = page.locator('#api-keys tr', { hasText: '统计大屏' })
  await row.getByRole('button', { name: '吊销' }).click()
  await page.getByText('已吊销“统计大屏”').waitFor()
  t.match(await row.textContent(), /已吊销/)
  t.equal((await api.call('GET', '/statistics', { apiKey: secret })).status, 401, 'the revoked key answers 401')
  t.same(ui.errors, [], 'no script errors')
})
