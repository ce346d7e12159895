// 运行监控 in Debian's chromium against the real stack: the office head sees a stuck document and an
// engine incident, urges, retries and cancels from the page, and reads the charts for known data.
import knexFactory from 'knex'
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { startBrowser } from './helpers/browser.ts'
import { Api, draft, startFawen, startStack, taskFor, waitFor } from './helpers/stack.ts'
import { documentAs } from './helpers/flows.ts'

const stack = await startStack({ env: { STEP_RETRIES: '2' } })
const ui = await startBrowser(stack)
const db = knexFactory({ client: 'pg', connection: stack.databaseUrl, pool: { min: 0, max: 2 } })
t.teardown(async () => {
  await db.raw(`drop trigger if exists ops_test_fault on notifications`).catch(() => undefined)
  await db.destroy()
  await ui.close()
  await stack.close()
})
const api = new Api(stack)

// The database refuses the 临期提醒 notification of a listed document: the automated step fails.
await db.raw(`create table if not exists ops_test_faults (document_id uuid primary key)`)
await db.raw(`create or replace function ops_test_fault() returns trigger language plpgsql as $$
  begin
    if exists (select 1 from ops_test_faults where document_id = new.document_id) then
      raise exception 'injected fault: notifications refused';
    end if;
    return new;
  end $$`)
await db.raw(`create trigger ops_test_fault before insert on notifications for each row execute function ops_test_fault()`)

// Known figures in a past year: 综合科 3 documents (2 办结), 秘书科 1 (overdue), over January and February.
const at = (date: string) => `${date}T12:00:00+08:00`
const fixtures = [
  { dept: 'liuzhou-gov-zonghe', status: 'completed', created: at('2024-01-05'), completed: at('2024-01-20') },
  { dept: 'liuzhou-gov-zonghe', status: 'completed', created: at('2024-02-03'), completed: at('2024-02-04') },
  { dept: 'liuzhou-gov-zonghe', status: 'running', created: at('2024-02-10') },
  { dept: 'liuzhou-gov-mishu', status: 'running', created: at('2024-01-15'), deadline: at('2024-01-25') },
]
for (const [i, f] of fixtures.entries()) {
  await db('documents').insert({
    id: randomUUID(), unit_id: 'liuzhou-gov', kind: 'fawen', title: `图表夹具 ${i}`, status: f.status, department_id: f.dept, created_by: 'zhangwei',
    created_at: f.created, completed_at: f.completed ?? null, deadline: f.deadline ?? null,
  })
}

t.test('the office head urges and cancels stuck documents and retries an incident from the page; the charts show the figures', async (t) => {
  // a stuck document (its step arrived five days ago) and one that will be canceled
  const stuckId = await startFawen(api, 'zhangwei', draft({ title: '运行监控页 滞留公文' }))
  const stuckTask = await taskFor(api, 'zhangwei', stuckId, 'nigao')
  const cancelId = await startFawen(api, 'liuyang', draft({ title: '运行监控页 待取消公文' }))
  const cancelTask = await taskFor(api, 'liuyang', cancelId, 'nigao')
  await db('tasks').whereIn('task_key', [stuckTask.taskKey, cancelTask.taskKey]).update({ created_at: db.raw(`now() - interval '5 days'`) })

  // an incident: a 特急 document whose 临期提醒 fails
  await api.call('PUT', '/settings/unit', { as: 'zhouadmin', body: { timeLimits: { 特急: { limit: 'PT3600S', remindBefore: 'PT3597S' } } } })
  const faulty = (await api.as('zhangwei').post('/documents', { kind: 'fawen', data: draft({ title: '运行监控页 故障公文', urgency: '特急' }) })).body.id
  await db('ops_test_faults').insert({ document_id: faulty })
  const incident = await waitFor('the incident', async () => (await api.as('zhaolei').get('/operations/problems')).body.incidents.find((i: any) => i.document?.id === faulty), 40_000)

  const page = await ui.as('zhaolei')
  await page.goto('/app/inbox')
  await page.getByRole('link', { name: '运行监控' }).click()
  await page.waitForURL('**/app/operations')
  await page.getByRole('heading', { name: '运行监控' }).waitFor()

  // the lists
  const stuckRow = page.locator(`[data-list="stuck"] tr[data-task="${stuckTask.taskKey}"]`)
  await stuckRow.waitFor()
  t.match(await stuckRow.textContent(), /运行监控页 滞留公文.*拟稿.*张伟.*5 天/)
  const incidentRow = page.locator(`[data-list="incidents"] tr[data-incident="${incident.id}"]`)
  await incidentRow.waitFor()
  t.match(await incidentRow.textContent(), /运行监控页 故障公文.*临期提醒.*injected fault/)

  // the charts for the known year
  await page.fill('.ops-figures input[name="from"]', '2024-01-01')
  await page.fill('.ops-figures input[name="to"]', '2024-03-31')
  await page.getByRole('button', { name: '查询' }).click()
  await page.getByText('2024-01-01 至 2024-03-31').waitFor()
  const volume = page.locator('figure[data-chart="volume"]')
  t.equal(await volume.locator('svg[role="img"] > title').textContent(), '各科室公文量', 'the chart has an accessible title')
  t.equal(await volume.locator('rect.bar[data-label="综合科"]').getAttribute('data-value'), '3')
  t.equal(await volume.locator('rect.bar[data-label="秘书科"]').getAttribute('data-value'), '1')
  const heights = await volume.locator('rect.bar').evaluateAll((bars) => Object.fromEntries(bars.map((b) => [b.getAttribute('data-label'), Number(b.getAttribute('height'))])))
  t.ok(heights['综合科'] > heights['秘书科'] && heights['秘书科'] > 0, 'bars are drawn to scale')
  t.equal(heights['办领导'], 0, 'an empty department has a bar of no height')
  const rate = page.locator('figure[data-chart="rate"]')
  t.equal(await rate.locator('circle.dot[data-label="2024-01"]').getAttribute('data-value'), '0.5', '办结率 in January: 1 of 2')
  t.equal(await rate.locator('circle.dot[data-label="2024-02"]').getAttribute('data-value'), '0.5', '办结率 in February: 1 of 2')
  t.equal(await rate.locator('circle.dot').count(), 2, 'March has no documents: no point')
  t.match(await rate.locator('desc').textContent(), /2024-01：50%；2024-02：50%；2024-03：无/)
  const overdue = page.locator('figure[data-chart="overdue"]')
  t.equal(await overdue.locator('rect.bar[data-label="2024-01"]').getAttribute('data-value'), '1')
  t.equal(await overdue.locator('rect.bar[data-label="2024-02"]').getAttribute('data-value'), '0')
  t.match(await page.locator('[data-list="departments"]').textContent(), /综合科3266.7%/)

  const download = page.waitForEvent('download')
  await page.getByRole('button', { name: '导出 CSV' }).click()
  const file = await download
  t.equal(file.suggestedFilename(), '运行统计-2024-01-01至2024-03-31.csv')
  await ui.screenshot(page, 'operations')

  // 催办
  await stuckRow.getByRole('button', { name: '催办' }).click()
  await page.getByText('已催办“运行监控页 滞留公文”的办理人。').waitFor()
  const notes = (await api.as('zhangwei').get('/notifications?limit=200')).body.items
  t.ok(notes.some((n: any) => n.kind === 'urge' && n.taskKey === stuckTask.taskKey), 'the handler was urged')

  // 取消, with the reason asked in a dialog
  page.once('dialog', (d) => void d.accept('重复起草，不再办理'))
  await page.locator(`[data-list="stuck"] tr[data-task="${cancelTask.taskKey}"]`).getByRole('button', { name: '取消' }).click()
  await page.getByText('已取消“运行监控页 待取消公文”的流转。').waitFor()
  const canceled = await documentAs(api, 'liuyang', cancelId)
  t.equal(canceled.status, 'canceled')
  t.equal(canceled.log.find((l: any) => l.stepName === '取消流转')?.opinion, '重复起草，不再办理')
  t.equal(await page.locator(`[data-list="stuck"] tr[data-task="${cancelTask.taskKey}"]`).count(), 0, 'gone from the list')

  // 重试, once the cause is gone
  await db('ops_test_faults').where({ document_id: faulty }).del()
  await incidentRow.getByRole('button', { name: '重试' }).click()
  await page.getByText('已重试“临期提醒”。').waitFor()
  const faultyTask = await taskFor(api, 'zhangwei', faulty, 'nigao')
  await waitFor('the reminder after the retry', async () => (await api.as('zhangwei').get('/notifications?limit=200')).body.items.some((n: any) => n.kind === 'reminder' && n.taskKey === faultyTask.taskKey), 20_000)
  t.equal(await incidentRow.count(), 0, 'the incident left the list')
  t.strictSame(ui.errors, [], 'no script errors')
  await api.call('PUT', '/settings/unit', { as: 'zhouadmin', body: { timeLimits: { 特急: { limit: 'PT24H', remindBefore: 'PT4H' } } } })
})

t.test('people who do not run the unit get no link and a refusal', async (t) => {
  const page = await ui.as('zhangwei')
  await page.goto('/app/operations')
  await page.getByText('只有办公室主任和单位管理员可以使用运行监控。').waitFor()
  t.equal(await page.getByRole('link', { name: '运行监控' }).count(), 0, 'no link in the bar')
  const admin = await ui.as('zhouadmin')
  await admin.goto('/app/inbox')
  t.equal(await admin.getByRole('link', { name: '运行监控' }).count(), 1, 'the unit admin has the link')
})
