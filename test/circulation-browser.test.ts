// 传阅 in Debian's chromium against the real stack: the drafter sends a 呈阅笺 for reading from the
// track page; one reader finds it under 待阅, opens it and marks it 已阅 with a comment; the sender
// then sees 已阅 (with time and comment) for that reader and 未阅 for the other.
import t from 'tap'
import { startBrowser } from './helpers/browser.ts'
import { act } from './helpers/flows.ts'
import { Api, startStack } from './helpers/stack.ts'

const stack = await startStack()
const ui = await startBrowser(stack)
t.teardown(async () => {
  await ui.close()
  await stack.close()
})
const api = new Api(stack)

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
