// 行为审计: logins, document reads and every flow action land in the unit's trail with who, when and
// from where; the unit admin reads, filters and exports it; nobody can change it through a route;
// and an entry edited or deleted in the database breaks the hash chain exactly where it happened.
import t from 'tap'
import { act } from './helpers/flows.ts'
import { startBrowserStack } from './helpers/browser.ts'
import { startFawen, taskFor } from './helpers/stack.ts'

const { stack, ui, api } = await startBrowserStack()
const knex = () => stack.server!.knex
type Entry = { id: string; at: string; actorId: string | null; actorName: string | null; channel: string | null; ip: string | null; action: string; target: string | null; status: number; detail: Record<string, unknown> | null }
const trail = async (query = '') => {
  const res = await api.as('zhouadmin').get(`/admin/audit?limit=200${query}`)
  if (res.status !== 200) throw new Error(`trail: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.items as Entry[]
}
const verify = async () => (await api.as('zhouadmin').get('/admin/audit/verify')).body

let documentId = ''

t.test('logins, reads and flow actions are recorded with who, when, from where and the result', async (t) => {
  // given: a wrong password, then logins, a document started, read and moved on
  const wrong = await api.call('POST', '/auth/login', { body: { username: 'zhangwei', password: 'not-the-password' } })
  t.equal(wrong.status, 401)
  documentId = await startFawen(api, 'zhangwei')
  t.equal((await api.as('zhangwei').get(`/documents/${documentId}`)).status, 200)
  await act(api, 'zhangwei', documentId, 'nigao', { route: '送审核', nextHandler: 'lina' })
  await taskFor(api, 'lina', documentId, 'shenhe')
  // and a person of another unit acts in theirs
  await api.token('fengxue')

  // then: the unit admin's trail shows each of them
  const entries = await trail()
  const find = (action: string, actorId: string, status?: number) => entries.find((e) => e.action === action && e.actorId === actorId && (status === undefined || e.status === status))
  const failed = find('POST /auth/login', 'zhangwei', 401)
  t.ok(failed, 'the failed login')
  t.notOk(JSON.stringify(failed).includes('not-the-password'), 'never the password tried')
  t.match(find('POST /auth/login', 'zhangwei', 200), { actorName: '张伟', ip: '127.0.0.1' }, 'the login, from where')
  t.match(find('POST /documents', 'zhangwei', 201), { channel: 'web', detail: { kind: 'fawen' } }, 'the document started')
  t.match(find('GET /documents/:id', 'zhangwei', 200), { target: `id=${documentId}` }, 'the document read')
  const completed = find('POST /tasks/:key/complete', 'zhangwei', 200)
  t.match(completed, { detail: { route: '送审核', nextHandler: 'lina' } }, 'the flow action, with the route and handler chosen')
  t.ok(Date.now() - Date.parse(completed!.at) < 5 * 60_000, 'and when')
  t.notOk(entries.some((e) => e.actorId === 'fengxue'), "another unit's logins are in that unit's trail, not this one")
  t.notOk(entries.some((e) => e.action === 'GET /tasks'), 'inbox polling is not recorded')

  // filters
  const onlyLogins = await trail('&action=/auth/login&actor=zhangwei')
  t.ok(onlyLogins.length >= 2 && onlyLogins.every((e) => e.action === 'POST /auth/login' && e.actorId === 'zhangwei'), 'filtered by action and person')
  const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10)
  t.ok((await trail(`&from=${today}&to=${today}`)).length >= entries.length - 1, 'filtered by day (Beijing time)')
  t.equal((await trail('&from=2020-01-01&to=2020-01-02')).length, 0, 'a day without entries')
})

t.test('only the unit admin reads the trail, and no route changes it', async (t) => {
  t.equal((await api.as('zhangwei').get('/admin/audit')).status, 403, 'a drafter may not read it')
  t.equal((await api.as('fengxue').get('/admin/audit')).status, 403, "nor another unit's person")
  t.equal((await api.call('GET', '/admin/audit')).status, 401, 'nor anyone without a login')
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
    t.equal((await api.call(method, '/admin/audit', { as: 'zhouadmin', body: {} })).status, 404, `${method} /admin/audit does not exist`)
  }
  await t.rejects(knex()('audit_log').update({ actor_name: 'x' }), /append-only/, 'the database refuses an update')
  await t.rejects(knex()('audit_log').del(), /append-only/, 'and a delete')
})

t.test('the trail is exported as CSV that spreadsheet programs read', async (t) => {
  const res = await fetch(`${stack.url}/admin/audit.csv?action=complete`, { headers: { authorization: `Bearer ${await api.token('zhouadmin')}` } })
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /text\/csv/)
  t.match(res.headers.get('content-disposition'), /attachment; filename="audit-liuzhou-gov\.csv"/)
  const bytes = Buffer.from(await res.arrayBuffer())
  t.same([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'a UTF-8 BOM')
  const text = bytes.subarray(3).toString('utf8')
  t.ok(text.startsWith('"序号","时间","人员编号"'), 'and a Chinese header')
  const rows = text.trim().split('\r\n').slice(1)
  t.ok(rows.length >= 1 && rows.every((r) => r.includes('"POST /tasks/:key/complete"')), `only the filtered entries (${rows.length})`)
  t.ok(rows.some((r) => r.includes(`"key=`) && r.includes('"zhangwei"')), 'with who and what')
})

t.test('the unit admin reads, filters and checks the trail on the admin page', async (t) => {
  const page = await ui.as('zhouadmin')
  await page.goto('/app/admin#audit')
  await page.locator('table[aria-label="审计记录"] tbody tr').first().waitFor()
  t.ok(await page.locator('table[aria-label="审计记录"] tbody tr').count() >= 5, 'the entries are listed')
  await page.fill('input[name=action]', 'complete')
  await page.click('.audit-filters button[type=submit]')
  await page.waitForFunction(() => [...document.querySelectorAll('table[aria-label="审计记录"] tbody tr code')].every((c) => c.textContent === 'POST /tasks/:key/complete'))
  t.match(await page.locator('table[aria-label="审计记录"] tbody').innerText(), /张伟/, 'filtered to the flow actions, with who did them')
  await page.getByRole('button', { name: '校验完整性' }).click()
  t.match(await page.getByRole('status').innerText(), /审计记录完整：已逐条校验 \d+ 条/, 'the chain is reported intact')
  await ui.screenshot(page, 'admin-audit')
  t.same(ui.errors, [], 'no script errors')
})

t.test('an entry edited or deleted by hand breaks the chain where it happened', async (t) => {
  const intact = await verify()
  t.match(intact, { intact: true }, 'intact as written')
  t.ok(intact.checked >= 5, `${intact.checked} entries checked`)
  const [newest, middle] = await knex()('audit_log').where({ chain: 'liuzhou-gov' }).orderBy('id', 'desc').offset(2).limit(2).select()
  /** What someone with the database's password could do: switch the guard off, change, switch it on. */
  const tamper = (sql: string, bindings: Array<string | number>) =>
    knex().transaction(async (trx) => {
      await trx.raw('alter table audit_log disable trigger audit_log_append_only')
      await trx.raw(sql, bindings)
      await trx.raw('alter table audit_log enable trigger audit_log_append_only')
    })

  // an edited entry
  await tamper('update audit_log set actor_name = ? where id = ?', ['某人', middle.id])
  t.match(await verify(), { intact: false, brokenAt: { id: String(middle.id), reason: /内容已被修改/ } }, 'an edited entry is found')
  await tamper('update audit_log set actor_name = ? where id = ?', [middle.actor_name, middle.id])
  t.match(await verify(), { intact: true }, 'and put back, the chain holds again')

  // a deleted entry: the one after it no longer links
  await tamper('delete from audit_log where id = ?', [middle.id])
  t.match(await verify(), { intact: false, brokenAt: { id: String(newest.id), reason: /前一条记录已被删除或修改/ } }, 'a deleted entry is found at the next one')

  await knex()('audit_log').insert(middle)
  t.match(await verify(), { intact: true }, 'put back as it was, the chain holds again')

  // the newest entries deleted: the chain's head no longer matches
  // (an entry written after the deletion links to a deleted one; without one, the head no longer matches)
  await tamper('delete from audit_log where id > ?', [newest.id])
  const result = await verify()
  t.equal(result.intact, false, `deleted last entries are found: ${JSON.stringify(result.brokenAt)}`)
  t.ok(Number(result.brokenAt?.id) > Number(newest.id), 'after the last entry left untouched')

  // and the admin page says so loudly
  const page = await ui.as('zhouadmin')
  await page.goto('/app/admin#audit')
  await page.getByRole('button', { name: '校验完整性' }).click()
  t.match(await page.getByRole('alert').innerText(), /审计记录已被篡改：第 \d+ 条处断开/, 'the page shows where the chain breaks')
})
