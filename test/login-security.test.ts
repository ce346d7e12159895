// Login defences and sessions over REST: the lockout after consecutive failed logins (refusing
// even the right password, naming the unlock time) and a unit admin's unlock; the limit of failed
// logins per client address (429, also under concurrent attempts); login tokens revoked by a
// password change, logout or an admin; HS256-only tokens that must expire; the unit's optional
// password policy; and the embedded PostgreSQL's generated password and loopback-only listening.
import { createHmac, randomUUID } from 'node:crypto'
import { readFile, rm, stat, mkdtemp } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import knexFactory from 'knex'
import pg from 'pg'
import pino from 'pino'
import t from 'tap'
import { openDatabase } from '../server/db/database.ts'
import { startBrowser } from './helpers/browser.ts'
import { freeRange } from './helpers/ports.ts'
import { Api, startStack } from './helpers/stack.ts'

const MAX_FAILURES = 3
const ADDRESS_MAX_FAILURES = 4
const stack = await startStack({
  env: { LOGIN_MAX_FAILURES: String(MAX_FAILURES), LOGIN_LOCK_SECONDS: '600', LOGIN_ADDRESS_MAX_FAILURES: String(ADDRESS_MAX_FAILURES), LOGIN_ADDRESS_WINDOW_SECONDS: '600' },
})
const db = knexFactory({ client: 'pg', connection: stack.databaseUrl, pool: { min: 0, max: 2 } })
t.teardown(async () => {
  await db.destroy()
  await stack.close()
})
const api = new Api(stack)
const admin = api.as('zhouadmin')

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: any
}

/**
 * A request from a loopback address of our choosing (127.0.0.x), so each test counts failed
 * logins against an address of its own.
 */
function send(method: string, path: string, opts: { from?: string; body?: unknown; token?: string } = {}): Promise<Answer> {
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body)
  const headers: Record<string, string> = {}
  if (payload !== undefined) headers['content-type'] = 'application/json'
  if (opts.token) headers.authorization = `Bearer ${opts.token}`
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: stack.port, method, path, headers, localAddress: opts.from ?? '127.0.0.1' }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c) => (text += c))
      res.on('end', () => {
        let body: any = text
        try {
          body = text ? JSON.parse(text) : null
        } catch {}
        resolve({ status: res.statusCode!, headers: res.headers, body })
      })
    })
    req.on('error', reject)
    req.end(payload)
  })
}

const login = (username: string, password: string, from?: string) => send('POST', '/auth/login', { from, body: { username, password } })
const me = (token: string) => send('GET', '/me', { token })
const lockedUntil = async (id: string) => (await db('users').where({ id }).first('locked_until')).locked_until as Date | null
const clock = new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })

t.test('consecutive failed logins lock the account; even the right password is refused until it is unlocked', async (t) => {
  const from = '127.0.0.11'
  for (let i = 1; i < MAX_FAILURES; i++) {
    const res = await login('liuyang', `wrong-${i}`, from)
    t.equal(res.status, 401, `failure ${i} is a plain 401`)
    t.equal(res.body.code, 'LOGIN_FAILED')
  }
  t.notOk(await lockedUntil('liuyang'), `not locked before the ${MAX_FAILURES}th failure`)
  const locking = await login('liuyang', 'wrong-last', from)
  t.equal(locking.status, 423, `the ${MAX_FAILURES}th failure locks the account`)
  const until = await lockedUntil('liuyang')
  t.ok(until && until.getTime() > Date.now() + 590_000 && until.getTime() < Date.now() + 610_000, 'locked for LOGIN_LOCK_SECONDS')

  const right = await login('liuyang', 'gongwen123', from)
  t.equal(right.status, 423, 'the right password is refused while locked')
  t.equal(right.body.code, 'ACCOUNT_LOCKED')
  t.match(right.body.message, `账号因连续 ${MAX_FAILURES} 次密码错误已锁定`)
  t.match(right.body.message, `至 ${clock.format(until!)} 自动解锁`, 'the message names the unlock time')
  t.match(right.body.message, '单位管理员解锁')
  const retry = Number(right.headers['retry-after'])
  t.ok(retry > 500 && retry <= 600, `Retry-After gives the seconds until the unlock (${right.headers['retry-after']})`)

  // The lock ends by itself at its time; the count then starts again.
  await db('users').where({ id: 'liuyang' }).update({ locked_until: db.raw(`now() - interval '1 second'`) })
  t.equal((await login('liuyang', 'gongwen123', '127.0.0.13')).status, 200, 'after the lock time the right password works')
  t.same(await db('users').where({ id: 'liuyang' }).first('failed_logins', 'locked_until'), { failed_logins: 0, locked_until: null }, 'and clears the count')
})

t.test('a success resets the count of consecutive failures', async (t) => {
  const from = '127.0.0.14'
  for (let i = 1; i < MAX_FAILURES; i++) t.equal((await login('lina', 'wrong', from)).status, 401)
  t.equal((await login('lina', 'gongwen123', from)).status, 200)
  for (let i = 1; i < MAX_FAILURES; i++) t.equal((await login('lina', 'wrong', '127.0.0.15')).status, 401, 'failures after a success count from zero')
  t.equal((await login('lina', 'gongwen123', '127.0.0.15')).status, 200)
})

t.test('concurrent wrong passwords cannot outrun the lockout', async (t) => {
  const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => login('wangqiang', `guess-${i}`, `127.0.0.${30 + i}`)))
  const statuses = answers.map((a) => a.status).sort()
  t.same(statuses, [...Array(MAX_FAILURES - 1).fill(401), ...Array(12 - MAX_FAILURES + 1).fill(423)], `only ${MAX_FAILURES} of 12 concurrent guesses were checked`)
  t.equal((await db('users').where({ id: 'wangqiang' }).first('failed_logins')).failed_logins, MAX_FAILURES)
})

t.test('a unit admin sees the lock and unlocks; another unit’s admin gets 404', async (t) => {
  for (let i = 0; i < MAX_FAILURES; i++) await login('sunli', 'wrong', '127.0.0.16')
  t.equal((await login('sunli', 'gongwen123', '127.0.0.16')).status, 423, 'locked')
  const listed = (await admin.get('/admin/people')).body.find((p: { id: string }) => p.id === 'sunli')
  t.ok(listed.lockedUntil && new Date(listed.lockedUntil).getTime() > Date.now(), `the admin’s list shows lockedUntil (${listed.lockedUntil})`)
  t.equal((await admin.get('/admin/people')).body.find((p: { id: string }) => p.id === 'zhangwei').lockedUntil, null, 'others are not locked')

  // hejun (财政局) becomes his unit's admin for this test
  await db('user_roles').insert({ user_id: 'hejun', role: 'unit_admin' })
  const foreign = await api.as('hejun').post('/admin/people/sunli/unlock')
  t.equal(foreign.status, 404, 'another unit’s admin gets 404')
  t.equal((await api.as('zhangwei').post('/admin/people/sunli/unlock')).status, 403, 'a drafter may not unlock')
  t.equal((await admin.post('/admin/people/nobody/unlock')).status, 404)
  t.ok(await lockedUntil('sunli'), 'still locked')

  const unlocked = await admin.post('/admin/people/sunli/unlock')
  t.equal(unlocked.status, 200, JSON.stringify(unlocked.body))
  t.equal(unlocked.body.lockedUntil, null)
  t.equal((await login('sunli', 'gongwen123', '127.0.0.17')).status, 200, 'the person logs in again')
})

t.test('in the browser: the login page says the account is locked; the admin’s people page shows 已锁定 and unlocks it', async (t) => {
  const ui = await startBrowser(stack)
  t.teardown(() => ui.close())
  for (let i = 0; i < MAX_FAILURES; i++) await login('liuyang', 'wrong', '127.0.0.18')
  const until = await lockedUntil('liuyang')
  t.ok(until, 'locked')

  const loginPage = await ui.page()
  await loginPage.goto('/app/login')
  await loginPage.fill('#username', 'liuyang')
  await loginPage.fill('#password', 'gongwen123')
  await loginPage.getByRole('button', { name: '登录' }).click()
  await loginPage.getByText(`至 ${clock.format(until!)} 自动解锁`).waitFor()
  t.match(loginPage.url(), /\/app\/login/, 'the person stays on the login page')

  const page = await ui.as('zhouadmin')
  await page.goto('/app/admin')
  const row = page.locator('#people tr[data-id="liuyang"]')
  await row.waitFor()
  t.match(await row.textContent(), /已锁定/, 'the locked person is marked')
  t.notMatch(await page.locator('#people tr[data-id="lina"]').textContent(), /已锁定/, 'others are not')
  t.equal(await page.locator('#people tr[data-id="lina"] button', { hasText: '解锁' }).count(), 0, 'and have no 解锁 button')
  await row.locator('button', { hasText: '解锁' }).click()
  await page.getByText('已解锁“刘洋”的账号').waitFor()
  t.notMatch(await row.textContent(), /已锁定/, 'the mark is gone')
  t.equal(await lockedUntil('liuyang'), null, 'and the account is unlocked')
  t.equal((await login('liuyang', 'gongwen123', '127.0.0.18')).status, 200)
  t.same(ui.errors, [], 'no script errors')
})

t.test('failed logins per client address: 429 with Retry-After beyond the limit', async (t) => {
  const from = '127.0.0.2'
  for (let i = 1; i <= ADDRESS_MAX_FAILURES; i++) {
    t.equal((await login(`nobody${i}`, 'wrong', from)).status, 401, `failure ${i} from the address`)
  }
  const limited = await login('nobody-else', 'wrong', from)
  t.equal(limited.status, 429)
  t.equal(limited.body.code, 'TOO_MANY_REQUESTS')
  t.match(limited.body.message, /此地址登录失败次数过多，请于 \d\d:\d\d 后再试/)
  const retry = Number(limited.headers['retry-after'])
  t.ok(retry > 500 && retry <= 600, `Retry-After (${limited.headers['retry-after']})`)
  t.equal((await login('zhangwei', 'gongwen123', from)).status, 429, 'the address is refused even a right password')
  t.equal((await login('zhangwei', 'gongwen123', '127.0.0.3')).status, 200, 'another address is not')
  t.equal((await login('zhangwei', 'wrong', from)).status, 429)
  t.equal((await db('users').where({ id: 'zhangwei' }).first('failed_logins')).failed_logins, 0, 'an attempt refused for its address never counts against the account')
})

t.test('successful logins do not count against the address', async (t) => {
  const from = '127.0.0.4'
  for (let i = 0; i < ADDRESS_MAX_FAILURES - 1; i++) t.equal((await login('nobody', 'wrong', from)).status, 401)
  for (let i = 0; i < 5; i++) t.equal((await login('zhangwei', 'gongwen123', from)).status, 200, `success ${i + 1}`)
  t.equal((await login('nobody', 'wrong', from)).status, 401, `the ${ADDRESS_MAX_FAILURES}th failure is still answered`)
  t.equal((await login('nobody', 'wrong', from)).status, 429, 'the next is not')
})

t.test('concurrent failed logins from one address cannot outrun the limit', async (t) => {
  const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => login(`ghost${i}`, 'wrong', '127.0.0.5')))
  t.same(answers.map((a) => a.status).sort(), [...Array(ADDRESS_MAX_FAILURES).fill(401), ...Array(10 - ADDRESS_MAX_FAILURES).fill(429)])
})

t.test('changing one’s password revokes every token; the new token works', async (t) => {
  const a = (await login('chenjing', 'gongwen123')).body.token
  const b = (await login('chenjing', 'gongwen123')).body.token
  t.equal((await me(a)).status, 200)
  const wrongOld = await send('POST', '/auth/password', { token: a, body: { oldPassword: 'not-it', newPassword: 'xinmima456' } })
  t.equal(wrongOld.status, 400)
  t.same(wrongOld.body.details.map((d: { field: string }) => d.field), ['oldPassword'])
  const short = await send('POST', '/auth/password', { token: a, body: { oldPassword: 'gongwen123', newPassword: 'short' } })
  t.equal(short.status, 400)
  t.ok(short.body.details.some((d: { field: string }) => d.field === 'newPassword'), JSON.stringify(short.body.details))
  t.equal((await me(a)).status, 200, 'refused changes revoke nothing')

  const changed = await send('POST', '/auth/password', { token: a, body: { oldPassword: 'gongwen123', newPassword: 'xinmima456' } })
  t.equal(changed.status, 200, JSON.stringify(changed.body))
  t.equal((await me(a)).status, 401, 'the token used for the change is revoked')
  t.equal((await me(b)).status, 401, 'so is every other token of the person')
  t.equal((await me(changed.body.token)).status, 200, 'the token the change returned works')
  t.equal((await login('chenjing', 'gongwen123')).status, 401, 'the old password no longer works')
  const again = await login('chenjing', 'xinmima456')
  t.equal(again.status, 200, 'the new one does')
  t.equal((await me(again.body.token)).status, 200)
  t.equal((await send('POST', '/auth/password', { body: { oldPassword: 'x', newPassword: 'xinmima789' } })).status, 401, 'not without a token')
  const integrator = await api.call('POST', '/auth/password', { apiKey: 'demo-key-liuzhou-gov', body: { oldPassword: 'x', newPassword: 'xinmima789' } })
  t.equal(integrator.status, 403, 'an API key has no password to change')
})

t.test('logout revokes the token', async (t) => {
  const token = (await login('zhaolei', 'gongwen123')).body.token
  t.equal((await me(token)).status, 200)
  t.equal((await send('POST', '/auth/logout', { token })).status, 204)
  t.equal((await me(token)).status, 401, 'the token no longer works')
  t.equal((await send('POST', '/auth/logout', { token })).status, 401, 'nor logs out twice')
  const fresh = (await login('zhaolei', 'gongwen123')).body.token
  t.equal((await me(fresh)).status, 200, 'a new login works')
  t.equal((await send('GET', '/tasks', { token: fresh })).status, 200)
})

t.test('an admin revokes a person’s tokens, or sets a new password, and the old tokens stop working', async (t) => {
  const token = (await login('huangmei', 'gongwen123')).body.token
  t.equal((await me(token)).status, 200)
  t.equal((await admin.post('/admin/people/huangmei/revoke-sessions')).status, 404, 'another unit’s admin gets 404')
  t.equal((await me(token)).status, 200, 'and revokes nothing')
  t.equal((await api.as('huangmei').post('/admin/people/huangmei/revoke-sessions')).status, 403, 'a drafter may not revoke')

  const gov = (await login('zhangwei', 'gongwen123')).body.token
  const revoked = await admin.post('/admin/people/zhangwei/revoke-sessions')
  t.equal(revoked.status, 200, JSON.stringify(revoked.body))
  t.equal((await me(gov)).status, 401, 'the person’s token is revoked')
  const fresh = (await login('zhangwei', 'gongwen123')).body.token
  t.equal((await me(fresh)).status, 200, 'a new login works')

  const patched = await api.call('PATCH', '/admin/people/zhangwei', { as: 'zhouadmin', body: { password: 'xinmima456' } })
  t.equal(patched.status, 200)
  t.equal((await me(fresh)).status, 401, 'a password set by the admin revokes the tokens too')
  t.equal((await login('zhangwei', 'xinmima456')).status, 200)
})

t.test('tokens: HS256 only, an expiry always, the current token version', async (t) => {
  const b64 = (x: unknown) => Buffer.from(JSON.stringify(x)).toString('base64url')
  const forge = (header: Record<string, unknown>, claims: Record<string, unknown>, secret = 'test-secret') => {
    const input = `${b64(header)}.${b64(claims)}`
    const alg = header.alg === 'HS512' ? 'sha512' : 'sha256'
    return header.alg === 'none' ? `${input}.` : `${input}.${createHmac(alg, secret).update(input).digest('base64url')}`
  }
  const now = Math.floor(Date.now() / 1000)
  const claims = { sub: 'wugang', ver: 0, jti: randomUUID(), iat: now, exp: now + 3600 }
  const hs256 = { alg: 'HS256', typ: 'JWT' }

  t.equal((await me(forge(hs256, claims))).status, 200, 'control: a token made like ours with the right secret is accepted')
  t.equal((await me(forge({ alg: 'HS512', typ: 'JWT' }, claims))).status, 401, 'HS512 with the right secret → 401')
  t.equal((await me(forge({ alg: 'none', typ: 'JWT' }, claims))).status, 401, 'alg none → 401')
  const { exp: _exp, ...noExp } = claims
  t.equal((await me(forge(hs256, noExp))).status, 401, 'no exp → 401')
  t.equal((await me(forge(hs256, { ...claims, iat: now - 7200, exp: now - 60 }))).status, 401, 'expired → 401')
  const { ver: _ver, ...noVer } = claims
  t.equal((await me(forge(hs256, noVer))).status, 401, 'no token version → 401')
  t.equal((await me(forge(hs256, { ...claims, ver: 1 }))).status, 401, 'another token version → 401')
  t.equal((await me(forge(hs256, claims, 'another-secret'))).status, 401, 'another secret → 401')

  const issued = (await login('wugang', 'gongwen123')).body.token as string
  const [header, payload] = issued.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()))
  t.equal(header.alg, 'HS256')
  t.match(payload, { sub: 'wugang', ver: 0, jti: /^[0-9a-f-]{36}$/, iat: Number, exp: Number })
})

t.test('the unit’s password policy: off by default, enforced when a password is set or changed', async (t) => {
  t.equal((await admin.get('/settings/unit')).body.passwordPolicy, null, 'off by default')
  const bad = await api.call('PUT', '/settings/unit', { as: 'zhouadmin', body: { passwordPolicy: { minLength: 3 } } })
  t.equal(bad.status, 400)
  t.same(bad.body.details.map((d: { field: string }) => d.field), ['passwordPolicy.minLength'])
  t.equal((await api.call('PUT', '/settings/unit', { as: 'liuyang', body: { passwordPolicy: null } })).status, 403, 'only the unit admin sets it')

  const set = await api.call('PUT', '/settings/unit', { as: 'zhouadmin', body: { passwordPolicy: { minLength: 12, requireLetter: true, requireDigit: true, requireSymbol: true } } })
  t.equal(set.status, 200, JSON.stringify(set.body))
  t.same(set.body.passwordPolicy, { minLength: 12, requireLetter: true, requireDigit: true, requireSymbol: true })

  const departmentId = (await admin.get('/admin/departments')).body[0].id
  const added = await admin.post('/admin/people', { username: 'xiaozhao', name: '小赵', departmentId, password: 'gongwen123', roles: ['drafter'] })
  t.equal(added.status, 400, 'a new person’s password is checked')
  t.same(added.body.details.map((d: { field: string }) => d.field), ['password', 'password'])
  t.match(added.body.message, '至少 12 位')
  t.match(added.body.message, '须包含符号')
  t.equal((await admin.post('/admin/people', { username: 'xiaozhao', name: '小赵', departmentId, password: 'Gongwen-2024!', roles: ['drafter'] })).status, 201)

  const patched = await api.call('PATCH', '/admin/people/xiaozhao', { as: 'zhouadmin', body: { password: 'abcdefghijklmn' } })
  t.equal(patched.status, 400, 'a password set by the admin is checked')
  t.same(patched.body.details.map((d: { field: string }) => d.field), ['password', 'password'])

  const token = (await login('xiaozhao', 'Gongwen-2024!')).body.token
  const changed = await send('POST', '/auth/password', { token, body: { oldPassword: 'Gongwen-2024!', newPassword: 'gongwen1234' } })
  t.equal(changed.status, 400, 'a changed password is checked')
  t.same(changed.body.details.map((d: { field: string }) => d.field), ['newPassword', 'newPassword'])
  t.match(changed.body.details[0].message, '至少 12 位')
  t.equal((await send('POST', '/auth/password', { token, body: { oldPassword: 'Gongwen-2024!', newPassword: 'gongwen1234#x' } })).status, 200)

  // another unit keeps no policy
  const edu = (await login('maqing', 'gongwen123')).body.token
  t.equal((await send('POST', '/auth/password', { token: edu, body: { oldPassword: 'gongwen123', newPassword: 'gongwen456' } })).status, 200, 'another unit is not affected')

  const off = await api.call('PUT', '/settings/unit', { as: 'zhouadmin', body: { passwordPolicy: null } })
  t.equal(off.body.passwordPolicy, null)
  t.equal((await api.call('PATCH', '/admin/people/xiaozhao', { as: 'zhouadmin', body: { password: 'gongwen123' } })).status, 200, 'off again: 8 characters suffice')
})

t.test('the new routes are in the API reference', async (t) => {
  const doc = await send('GET', '/docs/json')
  t.equal(doc.status, 200)
  for (const path of ['/auth/logout', '/auth/password', '/admin/people/{id}/unlock', '/admin/people/{id}/revoke-sessions']) t.ok(doc.body.paths[path]?.post, path)
  t.ok(doc.body.paths['/auth/login'].post.responses['429'], 'the login documents 429')
})

t.test('the embedded PostgreSQL: a generated password (0600), loopback only; an old cluster’s fixed password is replaced', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gongwen-pg-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const port = await freeRange(1)
  const log = pino({ level: 'warn' })
  const passwordFile = join(dir, 'postgres-password')
  const refuses = async (password: string) => {
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' })
    try {
      await client.connect()
      await client.end()
      return false
    } catch (err) {
      return (err as { code?: string }).code === '28P01'
    }
  }

  let database = await openDatabase({ url: null, dataDir: dir, embeddedPort: port, log })
  try {
    const first = (await readFile(passwordFile, 'utf8')).trim()
    t.equal((await stat(passwordFile)).mode & 0o777, 0o600, 'the password file is readable by its owner only')
    t.match(first, /^[0-9a-f]{48}$/)
    t.ok(database.url.includes(first), 'the server connects with it')
    t.equal((await database.knex.raw('show listen_addresses')).rows[0].listen_addresses, '127.0.0.1', 'listens on loopback only')
    t.ok(await refuses('gongwen'), 'the old fixed password is refused')
    t.ok(await database.knex.schema.hasTable('users'), 'migrated')

    // A data dir from before: the fixed password, no password file.
    await database.knex.raw(`alter user postgres with password 'gongwen'`)
    await database.close()
    await rm(passwordFile)
    database = await openDatabase({ url: null, dataDir: dir, embeddedPort: port, log })
    const second = (await readFile(passwordFile, 'utf8')).trim()
    t.match(second, /^[0-9a-f]{48}$/, 'a new password is generated for it')
    t.not(second, first)
    t.equal((await stat(passwordFile)).mode & 0o777, 0o600)
    t.ok(database.url.includes(second))
    t.ok(await refuses('gongwen'), 'and the fixed one no longer works')
    t.equal((await database.knex.raw('select count(*)::int as n from users')).rows[0].n, 0, 'the data is kept and reachable')
  } finally {
    await database.close()
  }
})
