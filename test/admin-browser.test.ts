// The unit admin's pages in Debian's chromium against the real stack: add a department and a
// person, change the person's roles, change the unit's settings; each change is checked over REST.
import t from 'tap'
import { startBrowserStack } from './helpers/browser.ts'
import { startFawen, taskFor, waitFor } from './helpers/stack.ts'

// The settings page saves a webhook on this machine over http://, which the operator must allow.
const { stack, ui, api } = await startBrowserStack({ env: { OUTBOUND_ALLOW: '127.0.0.1', OUTBOUND_ALLOW_HTTP: 'true' } })

t.test('a unit admin adds a department and a person, and changes the person’s roles', async (t) => {
  const page = await ui.as('zhouadmin')
  await page.goto('/app/admin')
  await page.locator('#people tr[data-id="zhaolei"]').waitFor()
  t.match(await page.locator('#people tr[data-id="zhaolei"] .roles').textContent(), /科室负责人/, 'people are listed with their roles')
  t.equal(await page.locator('#people tr[data-id="huangmei"]').count(), 0, 'only the admin’s unit')

  // a department
  await page.getByRole('tab', { name: '科室' }).click()
  await page.fill('#department-name', '法规科')
  await page.getByRole('button', { name: '新增科室' }).click()
  await page.getByText('已新增科室“法规科”').waitFor()
  await page.fill('#department-name', '综合科')
  await page.getByRole('button', { name: '新增科室' }).click()
  await page.getByText('本单位已有名为“综合科”的科室').first().waitFor()
  const departments = (await api.as('zhouadmin').get('/admin/departments')).body as Array<{ id: string; name: string }>
  const fagui = departments.find((d) => d.name === '法规科')
  t.ok(fagui, 'the department exists')
  t.equal(departments.filter((d) => d.name === '综合科').length, 1, 'the duplicate was refused')

  // a person in it, with a role
  await page.getByRole('tab', { name: '人员与角色' }).click()
  await page.fill('#person-username', 'xiaoli')
  await page.fill('#person-name', '小李')
  await page.selectOption('#person-department', fagui!.id)
  await page.fill('#person-password', 'mima12345')
  await page.check('#add-person input[value="drafter"]')
  await page.getByRole('button', { name: '新增人员' }).click()
  await page.locator('#people tr[data-id="xiaoli"]').waitFor()
  t.match(await page.locator('#people tr[data-id="xiaoli"]').textContent(), /小李.*法规科.*拟稿人/)
  const login = await api.call('POST', '/auth/login', { body: { username: 'xiaoli', password: 'mima12345' } })
  t.equal(login.status, 200, 'the new person logs in with the password given')

  // their roles changed: drafter → leader
  await page.locator('#people tr[data-id="xiaoli"] button', { hasText: '修改' }).click()
  await page.uncheck('#people tr.editing input[value="drafter"]')
  await page.check('#people tr.editing input[value="leader"]')
  await page.locator('#people tr.editing button', { hasText: '保存' }).click()
  await page.getByText('已保存“小李”').waitFor()
  t.match(await page.locator('#people tr[data-id="xiaoli"] .roles').textContent(), /^领导$/)
  t.ok((await api.as('zhangwei').get('/people?role=leader')).body.some((p: { id: string }) => p.id === 'xiaoli'), 'the person is now offered as a leader')
  await ui.screenshot(page, 'ui-admin-people')
})

t.test('a unit admin changes the unit’s settings', async (t) => {
  const page = await ui.as('zhouadmin')
  await page.goto('/app/admin#settings')
  await page.locator('#limit-特急').waitFor()
  t.equal(await page.inputValue('#limit-平件'), '72', 'the default 平件 limit shows as 72 hours')
  await page.fill('#limit-特急', '2')
  await page.fill('#remind-特急', '0.5')
  await page.check('#blank-signature')
  await page.fill('#seal-name', '柳州市人民政府办公室电子印章')
  await page.getByRole('button', { name: '添加文种前缀' }).click()
  await page.locator('#settings select[aria-label="文种"]').last().selectOption('函')
  await page.locator('#settings input[aria-label="前缀"]').last().fill('柳政办函')
  await page.fill('#webhook-url', 'http://127.0.0.1:9/hook')
  t.notOk(await page.locator('#policy-min').count(), 'no password policy until one is switched on')
  await page.check('#policy-on')
  await page.fill('#policy-min', '10')
  await page.check('#policy-requireSymbol')
  await page.click('#save-settings')
  await page.getByText('单位设置已保存').waitFor()
  await ui.screenshot(page, 'ui-admin-settings')

  const saved = (await api.as('zhouadmin').get('/settings/unit')).body
  t.same(saved.timeLimits.特急, { limit: 'PT2H', remindBefore: 'PT30M' })
  t.equal(saved.allowBlankSignature, true)
  t.equal(saved.sealName, '柳州市人民政府办公室电子印章')
  t.same(saved.docNumberPrefixes, { 函: '柳政办函' })
  t.match(saved.passwordPolicy, { minLength: 10, requireLetter: true, requireDigit: true, requireSymbol: true }, 'the password policy chosen')
  t.notOk(saved.passwordPolicy.requireMixedCase, 'with only the rules ticked')
  t.equal((await api.as('zhouadmin').get('/settings/notifications')).body.webhookUrl, 'http://127.0.0.1:9/hook')
  t.equal((await api.as('huangmei').get('/settings/unit')).body.allowBlankSignature, false, 'another unit is unchanged')

  // a reminder that is not shorter than the limit is refused, naming the field
  await page.fill('#remind-特急', '3')
  await page.click('#save-settings')
  await page.getByText('提醒提前量须大于零且小于办理时限').waitFor()
  t.same((await api.as('zhouadmin').get('/settings/unit')).body.timeLimits.特急.remindBefore, 'PT30M', 'and nothing changed')
})

t.test('a notification the receiver refused shows under 失败待处理, where the admin discards it', async (t) => {
  // given: a webhook address on a private network the operator has not allowed (saved before the
  // check existed, say), and a task that is urged
  const knex = stack.server!.knex
  await knex('units').where({ id: 'liuzhou-gov' }).update({ webhook_url: 'http://10.20.30.40/hook' })
  const id = await startFawen(api, 'zhangwei')
  const task = await taskFor(api, 'zhangwei', id, 'nigao')
  t.equal((await api.as('chenjing').post(`/tasks/${task.taskKey}/urge`)).status, 200)
  const dead = await waitFor<{ id: string }>('the refused delivery', async () =>
    knex('notification_outbox as o').join('notifications as n', 'n.id', 'o.notification_id').where({ 'n.task_key': task.taskKey, 'o.channel': 'webhook', 'o.state': 'failed' }).first('o.id'))
  // when: the admin opens 失败待处理
  const page = await ui.as('zhouadmin')
  await page.goto('/app/admin#dead-letters')
  const row = page.locator(`section[aria-label="失败待处理"] tr[data-id="${dead.id}"]`)
  await row.waitFor()
  t.match(await row.innerText(), /10\.20\.30\.40[\s\S]*已拒绝/, 'the delivery is listed with its address and why it was refused')
  await ui.screenshot(page, 'admin-dead-letters')
  // then: 放弃 marks it discarded and it leaves the list
  await row.getByRole('button', { name: '放弃' }).click()
  await page.getByText('已放弃该通知投递。').waitFor()
  await row.waitFor({ state: 'detached' })
  t.equal((await knex('notification_outbox').where({ id: dead.id }).first('state')).state, 'discarded', 'the delivery is discarded')
  await knex('units').where({ id: 'liuzhou-gov' }).update({ webhook_url: null })
  t.same(ui.errors, [], 'no script errors')
})

t.test('a drafter cannot use the admin pages', async (t) => {
  const page = await ui.as('zhangwei')
  await page.goto('/app/admin')
  await page.getByText('只有单位管理员可以管理本单位的科室、人员和设置。').waitFor()
  await page.goto('/app/modeler')
  await page.getByText('只有单位管理员可以设计流程。').waitFor()
  t.equal((await api.as('zhangwei').get('/admin/people')).status, 403)
  t.same(ui.errors, [], 'no script errors on the pages')
})
