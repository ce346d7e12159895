// 传阅 in Debian's chromium against the real stack: the drafter sends a 呈阅笺 for reading from the
// track page; one reader finds it under 待阅, opens it and marks it 已阅 with a comment; the sender
// then sees 已阅 (with time and comment) for that reader and 未阅 for the other. 督办: the office
// lists a document for supervision from the track page; the supervisor sees it on the 督办 list,
// opens the document, urges, reads the handler's 反馈, and finds it under 已超期 once overdue.
import t from 'tap'
import { startBrowserStack } from './helpers/browser.ts'
import { act } from './helpers/flows.ts'
import { waitFor } from './helpers/stack.ts'

// Overdue 督办 items are escalated by the server's own check, run often here.
const { stack, ui, api } = await startBrowserStack({ env: { SUPERVISION_CHECK_MS: '300' } })

t.test('传阅 read and unread: the reader’s 待阅 tab, 标为已阅, the sender’s 已阅/未阅 per reader', async (t) => {
  const title = '关于全市防汛工作情况的呈阅件'
  const start = await api.as('zhangwei').post('/documents', { kind: 'chengyue', data: { title, body: '现将防汛工作情况呈上。', urgency: '加急' } })
  const id = start.body.id as string
  await act(api, 'zhangwei', id, 'nigao', { route: '送科室负责人', nextHandler: 'lina' })

  // The sender circulates it from the track page.
  const sender = await ui.as('zhangwei')
  await sender.goto(`/app/track/${id}`)
  await sender.getByRole('button', { name: '传阅……' }).click()
  await sender.selectOption('form[aria-label="发起传阅"] select[name=people]', ['liuyang', 'wangqiang'])
  await sender.fill('form[aria-label="发起传阅"] input[name=note]', '请阅知')
  await sender.getByRole('button', { name: '发送传阅' }).click()
  await sender.locator('tr[data-reader="liuyang"]').waitFor()
  t.match(await sender.locator('tr[data-reader="liuyang"]').textContent(), /未阅/)
  t.match(await sender.locator('tr[data-reader="wangqiang"]').textContent(), /未阅/)
  t.match(await sender.locator('.log').textContent(), /传阅给刘洋、王强：请阅知/, 'the routing log shows it')

  // The reader: 待阅 tab, open, 标为已阅 with a comment.
  const reader = await ui.as('liuyang')
  await reader.goto('/app/inbox?tab=reading')
  const row = reader.locator(`tr[data-document="${id}"]`)
  await row.waitFor()
  t.match(await row.textContent(), /待阅/)
  t.match(await row.textContent(), /张伟/)
  t.match(await reader.locator('[role=tab][aria-selected=true]').textContent(), /待阅/)
  await ui.screenshot(reader, 'ui-reading-tab')
  await row.locator('.title-cell a').click()
  await reader.waitForURL(new RegExp(`/app/track/${id}`))
  await reader.locator('form[aria-label="阅知"]').waitFor({ timeout: 40_000 })
  await reader.fill('form[aria-label="阅知"] textarea[name=comment]', '已阅，将按要求准备材料。')
  await reader.getByRole('button', { name: '标为已阅' }).click()
  await reader.getByText('已标为已阅。').waitFor()
  await reader.locator('.my-reading', { hasText: '您已于' }).waitFor()
  t.match(await reader.locator('.my-reading').textContent(), /您已于.*阅，意见：已阅，将按要求准备材料。/)
  await reader.locator('.log', { hasText: '已阅，将按要求准备材料。' }).waitFor()
  await reader.goto('/app/inbox?tab=reading')
  await reader.getByText('没有符合条件的待阅。').waitFor()
  t.pass('gone from 待阅')

  // The sender sees 已阅 for one reader, 未阅 for the other.
  await sender.reload()
  await sender.locator('tr[data-reader="liuyang"]', { hasText: '已阅' }).waitFor()
  const read = (await sender.locator('tr[data-reader="liuyang"]').textContent())!
  t.match(read, /已阅/)
  t.match(read, /已阅，将按要求准备材料。/)
  t.match(read, /\d{4}-\d{2}-\d{2} \d{2}:\d{2}/, 'with the time read')
  t.match(await sender.locator('tr[data-reader="wangqiang"]').textContent(), /未阅/)
  t.match(await sender.locator('.circulation-sent').textContent(), /已阅 1 \/ 2/)
  await ui.screenshot(sender, 'ui-circulation-sender')
  await sender.getByRole('button', { name: '催阅' }).click()
  await sender.getByText('已催阅尚未阅的人员。').waitFor()
  const urged = (await api.as('wangqiang').get('/notifications')).body.items.filter((n: any) => n.documentId === id && n.kind === 'urge')
  t.equal(urged.length, 1, 'the unread reader is urged')
  t.same(ui.errors, [], 'no script errors')
})

t.test('督办 list: marked from the track page, 催办 and 反馈 on the item, 已超期 once overdue', async (t) => {
  const title = '关于老旧小区改造进度的呈阅件'
  const id = (await api.as('zhangwei').post('/documents', { kind: 'chengyue', data: { title, body: '请阅示。', urgency: '平件' } })).body.id as string
  await act(api, 'zhangwei', id, 'nigao', { route: '送科室负责人', nextHandler: 'lina' })
  await act(api, 'lina', id, 'keshi', { route: '送办公室', nextHandler: 'zhaolei' })
  const tomorrow = new Date(Date.now() + 8 * 3600_000 + 86_400_000).toISOString().slice(0, 10)

  // The office head, handling the 办公室 step, lists it with a leader as supervisor.
  const office = await ui.as('zhaolei')
  await office.goto(`/app/track/${id}`)
  await office.getByRole('button', { name: '列入督办……' }).click()
  await office.locator('form[aria-label="列入督办"] select[name=supervisorId] option[value="wangqiang"]').waitFor({ state: 'attached' })
  await office.selectOption('form[aria-label="列入督办"] select[name=supervisorId]', 'wangqiang')
  await office.fill('form[aria-label="列入督办"] input[name=dueDate]', tomorrow)
  await office.fill('form[aria-label="列入督办"] input[name=note]', '请明日前办结')
  await office.getByRole('button', { name: '列入督办', exact: true }).click()
  await office.getByText(`已列入督办，督办人 王强，办结期限 ${tomorrow}。`).waitFor()

  const supervisor = await ui.as('wangqiang')
  await supervisor.goto('/app/supervision')
  const row = supervisor.locator(`tr[data-document="${id}"]`)
  await row.waitFor()
  t.match(await row.textContent(), /在办/)
  t.match(await row.textContent(), new RegExp(tomorrow))
  t.equal((await api.as('wangqiang').get(`/documents/${id}`)).status, 200, 'the supervisor may open the document')
  await row.getByRole('button', { name: '详情' }).click()
  await supervisor.fill('section[aria-label="督办详情"] textarea[name=text]', '请抓紧办理。')
  await supervisor.getByRole('button', { name: '催办' }).click()
  await supervisor.getByText('已催办（通知 1 人）。').waitFor()
  t.equal((await api.as('zhaolei').post(`/supervision/${(await row.getAttribute('data-supervision'))}/replies`, { text: '今日办结。' })).status, 201)

  // Overdue (the due date moved back in the database, as time would): escalated, listed under 已超期.
  await stack.server!.knex('supervisions').where({ document_id: id }).update({ due_date: new Date(Date.now() + 8 * 3600_000 - 2 * 86_400_000).toISOString().slice(0, 10) })
  await waitFor('the escalation', async () => (await api.as('wangqiang').get('/notifications')).body.items.some((n: any) => n.documentId === id && n.kind === 'overdue'))
  await supervisor.reload()
  await supervisor.getByRole('tab', { name: /已超期/ }).click()
  const late = supervisor.locator(`tr[data-document="${id}"]`)
  await late.waitFor()
  t.match(await late.textContent(), /已超期/)
  await late.getByRole('button', { name: '详情' }).click()
  const detail = supervisor.locator('section[aria-label="督办详情"]')
  await detail.locator('li[data-event="escalation"]').waitFor()
  t.match(await detail.textContent(), /催办王强请抓紧办理。/)
  t.match(await detail.textContent(), /反馈赵磊今日办结。/)
  t.match(await detail.textContent(), /超期督办系统/)
  await ui.screenshot(supervisor, 'ui-supervision-list')
  t.same(ui.errors, [], 'no script errors')
})
