// 组织机构 in Debian's chromium against the real stack: the platform admin's dry run lists the bad
// rows of a spreadsheet and changes nothing, a unit made in the form shows in the tree (checked
// over REST); a drafter adds a whole group of recipients to a 发文 with one click.
import t from 'tap'
import { withCheckChar } from '../server/org-tree/credit-code.ts'
import { startBrowserStack } from './helpers/browser.ts'

const { stack, ui, api } = await startBrowserStack()
const code = (n: number) => withCheckChar(`11450200MB${String(n).padStart(7, '0')}`)

t.test('the platform admin sees a dry run’s bad rows, then creates a unit in the tree', async (t) => {
  const page = await ui.as('platform')
  await page.goto('/app/platform')
  await page.locator('#tree li[data-id="liuzhou-edu"]').waitFor()
  t.ok(await page.locator('nav a[href="/app/platform"]').count(), 'the nav offers 组织机构')

  const csv = [
    '单位编号,单位名称,统一社会信用代码,层级,上级单位编号,发文字号前缀',
    `liubei-gov,柳北区人民政府,${code(1)},区县,liuzhou-gov,北政发`,
    `liunan-gov,柳南区人民政府,${code(2).slice(0, 17)}0,区县,liuzhou-gov,南政发`,
  ].join('\n')
  await page.setInputFiles('#import input[type=file]', { name: '单位.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) })
  await page.getByRole('button', { name: '试导入' }).click()
  const report = page.locator('#import .import-report')
  await report.waitFor()
  t.match(await report.textContent(), /发现 1 处问题/)
  t.match(await report.locator('tbody tr').first().textContent(), /^3统一社会信用代码统一社会信用代码校验位不符/, 'the bad row with its number, field and problem')
  t.notOk((await api.as('platform').get('/platform/units')).body.some((u: { id: string }) => u.id === 'liubei-gov'), 'the dry run changed nothing')
  await ui.screenshot(page, 'ui-platform-import-dry-run')

  await page.fill('#unit-id', 'yufeng-gov')
  await page.fill('#unit-name', '鱼峰区人民政府')
  await page.fill('#unit-creditCode', code(3).slice(0, 17) + 'Z')
  await page.selectOption('#unit-level', 'county')
  await page.selectOption('#unit-parentId', 'liuzhou-gov')
  await page.fill('#unit-docNumberPrefix', '鱼政发')
  await page.getByRole('button', { name: '新建单位' }).click()
  await page.locator('#new-unit .field-error').waitFor()
  t.match(await page.locator('#new-unit .field-error').textContent(), /不允许的字符/, 'a bad code is named at its field')
  await page.fill('#unit-creditCode', code(3))
  await page.getByRole('button', { name: '新建单位' }).click()
  await page.locator('#tree li[data-id="liuzhou-gov"] li[data-id="yufeng-gov"]').waitFor()
  t.match(await page.locator('#tree li[data-id="yufeng-gov"]').textContent(), /鱼峰区人民政府\s*区县/)
  const unit = (await api.as('platform').get('/platform/units')).body.find((u: { id: string }) => u.id === 'yufeng-gov')
  t.match(unit, { level: 'county', parentId: 'liuzhou-gov', creditCode: code(3), active: true })
  await ui.screenshot(page, 'ui-platform-tree')
  t.same(ui.errors, [], 'no script errors')
})

t.test('a drafter adds a group of recipients with one click', async (t) => {
  const page = await ui.as('zhangwei')
  t.equal(await page.locator('nav a[href="/app/platform"]').count(), 0, 'no 组织机构 link for staff')
  await page.goto('/app/inbox')
  await page.click('button:has-text("新建发文")')
  const form = page.locator('form.new-document')
  await form.locator('[data-picker=mainRecipients] button[data-group="liuzhou-gov:department"]').click()
  await form.locator('[data-picker=mainRecipients] [role=status]').waitFor()
  t.ok(await form.locator('[name=mainRecipients][value="liuzhou-edu"]').isChecked())
  t.ok(await form.locator('[name=mainRecipients][value="liuzhou-fin"]').isChecked())
  t.notOk(await form.locator('[name=mainRecipients][value="yufeng-gov"]').isChecked(), 'only the group’s units')
  t.same(ui.errors, [], 'no script errors')
})
