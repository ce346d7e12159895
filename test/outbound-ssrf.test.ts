// Outbound calls (a unit's webhook and SMS gateway) cannot be turned against the server's own machine
// or network (SSRF): internal addresses in every spelling are refused when a unit admin saves them
// (400 naming the field, nothing changed) and again on every send (a dead letter saying why, no
// retries, no connection made); redirects are not followed; what the operator allows still works.
import { createServer as createHttpServer } from 'node:http'
import { createServer as createTcpServer, type AddressInfo } from 'node:net'
import t from 'tap'
import { loadConfig } from '../server/config.ts'
import { nonPublicReason, Outbound, parseAllowList, type Resolver } from '../server/notify/outbound.ts'
import { Api, draft, inbox, startFawen, startStack, waitFor, type Stack } from './helpers/stack.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const REFUSED = '不允许向内网或本机地址发送'
/** Where a helper's listener is closed: the test that started it. */
type Scope = Pick<typeof t, 'teardown'>

/** A TCP listener that only counts connections: nothing may even connect to it. */
async function tcpListener(t: Scope, host: string) {
  const counter = { connections: 0, port: 0 }
  const srv = createTcpServer((socket) => {
    counter.connections++
    socket.destroy()
  })
  await new Promise<void>((r) => srv.listen(0, host, r))
  counter.port = (srv.address() as AddressInfo).port
  t.teardown(() => new Promise((r) => srv.close(r)))
  return counter
}

/** An HTTP receiver on 127.0.0.1 recording each request; `answer` gives status and headers. */
async function httpReceiver(t: Scope, answer: () => [number, Record<string, string>?] = () => [200]) {
  const rx = { requests: [] as Array<{ url: string; host: string; key: string; body: any }>, url: '' }
  const srv = createHttpServer(async (req, res) => {
    let text = ''
    for await (const chunk of req) text += chunk
    rx.requests.push({ url: req.url ?? '', host: String(req.headers.host), key: String(req.headers['idempotency-key']), body: text ? JSON.parse(text) : null })
    const [status, headers] = answer()
    res.writeHead(status, headers).end()
  })
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  rx.url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`
  t.teardown(() => new Promise((r) => srv.close(r)))
  return rx
}

/** The REST surface of one stack, as the unit admin, a registry clerk and a drafter use it. */
function client(stack: Stack) {
  const api = new Api(stack)
  const knex = () => stack.server!.knex
  return {
    api,
    settings: async () => (await api.as('zhouadmin').get('/settings/notifications')).body,
    save: (webhookUrl: string | null, smsGatewayUrl: string | null) =>
      api.call('PUT', '/settings/notifications', { as: 'zhouadmin', body: { webhookUrl, smsGatewayUrl } }),
    /** Writes the unit's addresses straight into the database, as a row saved before the check (or before a DNS change) would be. */
    async storeDirectly(webhookUrl: string | null, smsGatewayUrl: string | null) {
      const { unit_id: unitId } = await knex()('users').where({ id: 'zhouadmin' }).first('unit_id')
      await knex()('units').where({ id: unitId }).update({ webhook_url: webhookUrl, sms_gateway_url: smsGatewayUrl })
    },
    /** Starts a 发文 as zhangwei, has chenjing 催办 it, and returns the task key. */
    async urgeNewTask(title: string) {
      const documentId = await startFawen(api, 'zhangwei', draft({ title }))
      const task = await waitFor(`zhangwei's task on ${title}`, async () => (await inbox(api, 'zhangwei')).find((x) => x.documentId === documentId))
      const urged = await api.as('chenjing').post(`/tasks/${task.taskKey}/urge`)
      if (urged.status !== 200) throw new Error(`urge: ${urged.status} ${JSON.stringify(urged.body)}`)
      return task.taskKey
    },
    /** The delivery log of a task's 催办: one outbox row per channel. */
    outbox: (taskKey: string) =>
      knex()('notification_outbox as o').join('notifications as n', 'n.id', 'o.notification_id').where({ 'n.task_key': taskKey, 'n.kind': 'urge' })
        .orderBy('o.channel').select('o.channel', 'o.target', 'o.state', 'o.attempts', 'o.last_error'),
  }
}

t.test('the address checker, on its own', async (t) => {
  t.test('public unicast addresses pass; every internal or special range is refused with its reason', async (t) => {
    for (const address of ['8.8.8.8', '93.184.216.34', '2606:4700::1111', '::ffff:8.8.8.8']) t.equal(nonPublicReason(address), null, address)
    const refused: Array<[string, string]> = [
      ['127.0.0.1', '本机回环'], ['127.255.0.9', '本机回环'], ['::1', '本机回环'], ['::ffff:127.0.0.1', '本机回环'],
      ['10.1.2.3', '内网'], ['172.16.0.1', '内网'], ['172.31.255.1', '内网'], ['192.168.0.1', '内网'], ['fc00::1', '内网'], ['fd12:3456::1', '内网'],
      ['169.254.169.254', '链路本地'], ['::ffff:169.254.169.254', '链路本地'], ['fe80::1', '链路本地'], ['febf::1', '链路本地'],
      ['0.0.0.0', '未指定'], ['0.1.2.3', '未指定'], ['::', '未指定'], ['224.0.0.1', '组播'], ['ff02::1', '组播'],
      ['255.255.255.255', '广播'], ['100.64.0.1', '运营商级 NAT'], ['100.127.255.254', '运营商级 NAT'],
      ['64:ff9b::7f00:1', 'NAT64'], ['64:ff9b:1::a00:1', 'NAT64'], ['2002:7f00:1::', '6to4'], ['2001::1', 'Teredo'],
      ['::7f00:1', '非公网'], ['240.0.0.1', '保留'], ['2001:db8::1', '保留'],
    ]
    for (const [address, reason] of refused) t.match(nonPublicReason(address), reason, address)
    t.equal(nonPublicReason('172.32.0.1'), null, 'just outside 172.16/12')
    t.equal(nonPublicReason('100.128.0.1'), null, 'just outside 100.64/10')
  })

  t.test('the allow-list takes addresses, CIDR ranges and host names, and refuses anything else', async (t) => {
    t.same(parseAllowList(['127.0.0.1', '10.0.0.0/8', '::1', '[fd00::]/8', 'SMS.Intranet.']).map((r) => r.kind), ['range', 'range', 'range', 'range', 'host'])
    t.throws(() => parseAllowList(['10.0.0.0/33']), /10\.0\.0\.0\/33/)
    t.throws(() => parseAllowList(['not a host!']), /not a host!/)
    t.throws(() => loadConfig({ ENGINE_TOKEN: 'x', AUTH_SECRET: 'y', OUTBOUND_ALLOW: '127.0.0.1, bad/entry' }), /OUTBOUND_ALLOW/)
    t.same(loadConfig({ ENGINE_TOKEN: 'x', AUTH_SECRET: 'y', OUTBOUND_ALLOW: ' 127.0.0.1 , sms.intranet ,' }).outboundAllow, ['127.0.0.1', 'sms.intranet'])
    t.equal(loadConfig({ ENGINE_TOKEN: 'x', AUTH_SECRET: 'y' }).outboundAllowHttp, false, 'https only by default')
    t.equal(loadConfig({ ENGINE_TOKEN: 'x', AUTH_SECRET: 'y', OUTBOUND_ALLOW_HTTP: 'true' }).outboundAllowHttp, true)
  })

  t.test('a name is resolved and checked on every call; one internal address among several refuses it', async (t) => {
    let answers = [['93.184.216.34'], ['93.184.216.34', '10.0.0.7'], ['127.0.0.1']]
    const asked: string[] = []
    const resolver: Resolver = async (host) => {
      asked.push(host)
      const [next, ...rest] = answers
      answers = rest
      return next.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
    }
    const outbound = new Outbound({ allowHttp: false, allow: [] }, resolver)
    t.match(await outbound.vet('https://hook.example.org/x'), { address: '93.184.216.34', family: 4 })
    await t.rejects(outbound.vet('https://hook.example.org/x'), { permanent: true, message: /hook\.example\.org → 10\.0\.0\.7/ })
    await t.rejects(outbound.vet('https://hook.example.org/x'), { permanent: true, message: /hook\.example\.org → 127\.0\.0\.1（本机回环地址/ })
    t.same(asked, ['hook.example.org', 'hook.example.org', 'hook.example.org'], 'resolved again for each call')
  })

  t.test('an allow-listed name may resolve inward, other names may not; the connection goes to the checked address', async (t) => {
    const rx = await httpReceiver(t)
    const port = new URL(rx.url).port
    // No DNS server knows hook.test: the request can only reach the receiver through the checked address.
    const resolver: Resolver = async (host) => (host.endsWith('.test') ? [{ address: '127.0.0.1', family: 4 }] : [])
    const outbound = new Outbound({ allowHttp: true, allow: ['hook.test'] }, resolver)
    await outbound.postJson(`http://hook.test:${port}/in`, { a: 1 }, { headers: { 'idempotency-key': 'k1' }, timeoutMs: 5000 })
    t.match(rx.requests, [{ url: '/in', host: `hook.test:${port}`, key: 'k1', body: { a: 1 } }], 'delivered, with the name as Host')
    await t.rejects(outbound.postJson(`http://other.test:${port}/in`, {}, { timeoutMs: 5000 }), { permanent: true, message: /other\.test → 127\.0\.0\.1/ })
    t.equal(rx.requests.length, 1, 'the name not on the allow-list reached nothing')
  })
})

t.test('no allow-list (the default): https only, public addresses only', async (t) => {
  const stack = await startStack()
  t.teardown(() => stack.close())
  const c = client(stack)
  const baseline = { webhookUrl: 'https://93.184.216.34/hook', smsGatewayUrl: 'https://[2606:4700::1111]/sms' }

  await t.test('a unit admin may save public https addresses', async (t) => {
    const saved = await c.save(baseline.webhookUrl, baseline.smsGatewayUrl)
    t.equal(saved.status, 200)
    t.same(await c.settings(), baseline)
  })

  await t.test('every spelling of an internal address is refused when saved: 400 naming the field, nothing changed', async (t) => {
    const forms: Array<[string, string]> = [
      ['https://127.0.0.1/hook', '127.0.0.1（本机回环地址'],
      ['https://2130706433/hook', '127.0.0.1（'],
      ['https://0x7f000001/hook', '127.0.0.1（'],
      ['https://0177.0.0.1/hook', '127.0.0.1（'],
      ['https://017700000001/hook', '127.0.0.1（'],
      ['https://127.1/hook', '127.0.0.1（'],
      ['https://0x7f.1:8443/hook', '127.0.0.1（'],
      ['https://[::1]/hook', '::1（本机回环地址'],
      ['https://[0:0:0:0:0:0:0:1]/hook', '::1（'],
      ['https://[::ffff:127.0.0.1]/hook', '::ffff:7f00:1（本机回环地址'],
      ['https://[::127.0.0.1]/hook', '::7f00:1（'],
      ['https://169.254.169.254/latest/meta-data/', '169.254.169.254（链路本地地址'],
      ['https://0xa9fea9fe/latest/meta-data/', '169.254.169.254（链路本地地址'],
      ['https://[::ffff:169.254.169.254]/', '::ffff:a9fe:a9fe（链路本地地址'],
      ['https://[fe80::1]/hook', 'fe80::1（链路本地地址'],
      ['https://10.0.0.5/hook', '10.0.0.5（内网地址'],
      ['https://172.16.1.1/hook', '172.16.1.1（内网地址'],
      ['https://192.168.1.1/hook', '192.168.1.1（内网地址'],
      ['https://[fc00::1]/hook', 'fc00::1（内网地址'],
      ['https://[fd12:3456::1]/hook', 'fd12:3456::1（内网地址'],
      ['https://100.64.0.1/hook', '100.64.0.1（运营商级 NAT 地址'],
      ['https://0.0.0.0/hook', '0.0.0.0（未指定地址'],
      ['https://0/hook', '0.0.0.0（未指定地址'],
      ['https://[::]/hook', '::（未指定地址'],
      ['https://224.0.0.1/hook', '224.0.0.1（组播地址'],
      ['https://255.255.255.255/hook', '255.255.255.255（广播地址'],
      ['https://[64:ff9b::7f00:1]/hook', '64:ff9b::7f00:1（NAT64 地址'],
      ['https://localhost/hook', 'localhost → 127.0.0.1（本机回环地址'],
      ['https://LocalHost:8443/hook', 'localhost → 127.0.0.1（'],
    ]
    for (const [i, [url, shown]] of forms.entries()) {
      // The bad address in one field, a good new one in the other: neither may be saved.
      const field = i % 2 === 0 ? 'webhookUrl' : 'smsGatewayUrl'
      const res = field === 'webhookUrl' ? await c.save(url, 'https://8.8.4.4/new') : await c.save('https://8.8.4.4/new', url)
      t.equal(res.status, 400, `${url}: 400`)
      t.same(res.body.details?.map((d: { field: string }) => d.field), [field], `${url}: names ${field} only`)
      t.match(res.body.details?.[0]?.message, `${field}：${REFUSED}：${shown}`, `${url}: says why`)
      t.match(res.body.message, 'OUTBOUND_ALLOW', `${url}: says who may allow it`)
    }
    t.same(await c.settings(), baseline, 'nothing changed')
  })

  await t.test('plain http and names that do not resolve are refused when saved, naming the field', async (t) => {
    const http = await c.save('http://93.184.216.34/hook', null)
    t.equal(http.status, 400)
    t.same(http.body.details.map((d: { field: string }) => d.field), ['webhookUrl'])
    t.match(http.body.details[0].message, /webhookUrl：只允许 https:\/\/ 地址.*OUTBOUND_ALLOW_HTTP/)
    const unknown = await c.save(null, 'https://no-such-host.invalid/sms')
    t.equal(unknown.status, 400)
    t.same(unknown.body.details.map((d: { field: string }) => d.field), ['smsGatewayUrl'])
    t.match(unknown.body.details[0].message, 'smsGatewayUrl：无法解析主机名：no-such-host.invalid')
    t.same(await c.settings(), baseline, 'nothing changed')
  })

  await t.test('an address refused at send time becomes a dead letter saying why; nothing is connected to, nothing retried', async (t) => {
    const v4 = await tcpListener(t, '127.0.0.1')
    const v6 = await tcpListener(t, '::1')
    t.equal((await c.api.call('PUT', '/people/me/phone', { as: 'zhangwei', body: { phone: '13800138000' } })).status, 200)
    // Each pair goes to the webhook and the SMS gateway of one 催办.
    const forms: Array<[string, string]> = [
      [`https://127.0.0.1:${v4.port}/hook`, '127.0.0.1（本机回环地址'],
      [`https://2130706433:${v4.port}/hook`, '127.0.0.1（'],
      [`https://0x7f000001:${v4.port}/hook`, '127.0.0.1（'],
      [`https://0177.0.0.1:${v4.port}/hook`, '127.0.0.1（'],
      [`https://127.1:${v4.port}/hook`, '127.0.0.1（'],
      [`https://[::ffff:127.0.0.1]:${v4.port}/hook`, '::ffff:7f00:1（本机回环地址'],
      [`https://[::1]:${v6.port}/hook`, '::1（本机回环地址'],
      [`https://[0:0:0:0:0:0:0:1]:${v6.port}/hook`, '::1（'],
      [`https://localhost:${v4.port}/hook`, 'localhost → 127.0.0.1（本机回环地址'],
      ['https://169.254.169.254/latest/meta-data/', '169.254.169.254（链路本地地址'],
      ['https://[fe80::1]/hook', 'fe80::1（链路本地地址'],
      ['https://10.0.0.5/hook', '10.0.0.5（内网地址'],
      ['https://172.16.1.1/hook', '172.16.1.1（内网地址'],
      ['https://192.168.1.1/hook', '192.168.1.1（内网地址'],
      ['https://[fd12:3456::1]/hook', 'fd12:3456::1（内网地址'],
      ['https://100.64.0.1/hook', '100.64.0.1（运营商级 NAT 地址'],
      ['https://0.0.0.0/hook', '0.0.0.0（未指定地址'],
      ['https://[::]/hook', '::（未指定地址'],
      ['https://224.0.0.1/hook', '224.0.0.1（组播地址'],
      ['https://255.255.255.255/hook', '255.255.255.255（广播地址'],
      ['https://[64:ff9b::7f00:1]/hook', '64:ff9b::7f00:1（NAT64 地址'],
      [`https://[::127.0.0.1]:${v4.port}/hook`, '::7f00:1（'],
    ]
    const expected = new Map<string, { url: string; shown: string }>()
    for (let i = 0; i < forms.length; i += 2) {
      const [[hookUrl, hookShown], [smsUrl, smsShown]] = [forms[i], forms[i + 1]]
      await c.storeDirectly(hookUrl, smsUrl)
      const taskKey = await c.urgeNewTask(`关于出站地址检查的测试通知（第${i / 2 + 1}组）`)
      expected.set(`${taskKey}:webhook`, { url: hookUrl, shown: hookShown })
      expected.set(`${taskKey}:sms`, { url: smsUrl, shown: smsShown })
    }
    // And one stored http:// address: refused for its scheme, again without a connection.
    await c.storeDirectly(`http://127.0.0.1:${v4.port}/hook`, null)
    const httpTask = await c.urgeNewTask('关于明文地址的测试通知')

    const taskKeys = [...new Set([...expected.keys()].map((k) => k.split(':')[0]))]
    const rows = async () => (await Promise.all(taskKeys.map(async (key) => (await c.outbox(key)).map((r) => ({ ...r, key: `${key}:${r.channel}` }))))).flat()
    await waitFor('every delivery attempted', async () => {
      const all = await rows()
      return all.length === expected.size && all.every((r) => r.attempts >= 1)
    })
    await sleep(2000) // several polls: a retry would have happened by now
    for (const row of await rows()) {
      const { url, shown } = expected.get(row.key)!
      t.equal(row.target, url, `${row.key} was queued for ${url}`)
      t.match(row, { state: 'failed', attempts: 1 }, `${url}: failed after one attempt, not retried`)
      t.match(row.last_error, `已拒绝：${REFUSED}：${shown}`, `${url}: the log says why`)
    }
    await waitFor('the http:// delivery attempted', async () => (await c.outbox(httpTask))[0]?.attempts >= 1)
    t.match(await c.outbox(httpTask), [{ channel: 'webhook', state: 'failed', attempts: 1, last_error: /^已拒绝：只允许 https:\/\/ 地址/ }])
    t.equal(v4.connections, 0, 'nothing connected to 127.0.0.1')
    t.equal(v6.connections, 0, 'nothing connected to ::1')
  })
})

t.test('127.0.0.1 allowed over http (OUTBOUND_ALLOW=127.0.0.1, OUTBOUND_ALLOW_HTTP=true)', async (t) => {
  const stack = await startStack({ env: { OUTBOUND_ALLOW: '127.0.0.1', OUTBOUND_ALLOW_HTTP: 'true' } })
  t.teardown(() => stack.close())
  const c = client(stack)
  t.equal((await c.api.call('PUT', '/people/me/phone', { as: 'zhangwei', body: { phone: '13800138000' } })).status, 200)

  await t.test('an allowed local receiver gets the webhook and the SMS, by address and by name', async (t) => {
    const hook = await httpReceiver(t)
    const gateway = await httpReceiver(t)
    const smsUrl = `http://localhost:${new URL(gateway.url).port}/sms`
    const saved = await c.save(`${hook.url}/hook`, smsUrl)
    t.equal(saved.status, 200)
    t.same(saved.body, { webhookUrl: `${hook.url}/hook`, smsGatewayUrl: smsUrl })
    const taskKey = await c.urgeNewTask('关于放行地址的测试通知')
    await waitFor('both delivered', async () => (await c.outbox(taskKey)).filter((r) => r.state === 'sent').length === 2)
    t.match(hook.requests, [{ url: '/hook', body: { kind: 'urge', taskKey, recipient: { id: 'zhangwei' } } }])
    t.match(gateway.requests, [{ url: '/sms', host: `localhost:${new URL(gateway.url).port}`, body: { phone: '13800138000' } }])
    t.match(await c.outbox(taskKey), [{ channel: 'sms', state: 'sent', attempts: 1 }, { channel: 'webhook', state: 'sent', attempts: 1 }])
  })

  await t.test('the allow-list opens only what it names: [::1], 127.0.0.2 and 169.254.169.254 are still refused', async (t) => {
    const before = await c.settings()
    for (const [url, shown] of [['http://[::1]:8080/hook', '::1（'], ['http://127.0.0.2/hook', '127.0.0.2（'], ['http://169.254.169.254/', '169.254.169.254（']]) {
      const res = await c.save(url, null)
      t.equal(res.status, 400, url)
      t.match(res.body.details?.[0], { field: 'webhookUrl', message: `webhookUrl：${REFUSED}：${shown}` }, url)
    }
    t.same(await c.settings(), before, 'nothing changed')
  })

  await t.test('a redirect is not followed, not even to an allowed address: the delivery is a dead letter', async (t) => {
    const v6 = await tcpListener(t, '::1')
    const elsewhere = await httpReceiver(t)
    let location = `http://[::1]:${v6.port}/stolen`
    const redirecting = await httpReceiver(t, () => [302, { location }])
    t.equal((await c.save(`${redirecting.url}/hook`, `${redirecting.url}/sms`)).status, 200)
    const toLoopback = await c.urgeNewTask('关于重定向到本机的测试通知')
    await waitFor('the redirected deliveries attempted', async () => (await c.outbox(toLoopback)).filter((r) => r.attempts >= 1).length === 2)

    location = `${elsewhere.url}/followed`
    const toAllowed = await c.urgeNewTask('关于重定向到放行地址的测试通知')
    await waitFor('the second redirected deliveries attempted', async () => (await c.outbox(toAllowed)).filter((r) => r.attempts >= 1).length === 2)
    await sleep(2000) // several polls: a retry would have happened by now

    const failed = { state: 'failed', attempts: 1, last_error: /^接收方返回重定向 HTTP 302.*不跟随重定向，未投递/ }
    t.match(await c.outbox(toLoopback), [{ channel: 'sms', ...failed }, { channel: 'webhook', ...failed }])
    t.match((await c.outbox(toLoopback))[1].last_error, `[::1]:${v6.port}/stolen`, 'the log names where it was sent')
    t.match(await c.outbox(toAllowed), [{ channel: 'sms', ...failed }, { channel: 'webhook', ...failed }])
    t.equal(redirecting.requests.length, 4, 'the redirecting receiver was asked once per delivery')
    t.equal(v6.connections, 0, 'the redirect to [::1] was not followed')
    t.equal(elsewhere.requests.length, 0, 'the redirect to an allowed address was not followed')
  })

  await t.test('an address that passed before but is refused now fails at send time, without a connection', async (t) => {
    const v6 = await tcpListener(t, '::1')
    await c.storeDirectly(`http://[::1]:${v6.port}/hook`, `http://169.254.169.254/sms`)
    const taskKey = await c.urgeNewTask('关于地址变更后发送的测试通知')
    await waitFor('both attempted', async () => (await c.outbox(taskKey)).filter((r) => r.attempts >= 1).length === 2)
    await sleep(2000) // several polls: a retry would have happened by now
    t.match(await c.outbox(taskKey), [
      { channel: 'sms', state: 'failed', attempts: 1, last_error: `已拒绝：${REFUSED}：169.254.169.254（链路本地地址` },
      { channel: 'webhook', state: 'failed', attempts: 1, last_error: `已拒绝：${REFUSED}：::1（本机回环地址` },
    ])
    t.equal(v6.connections, 0, 'nothing connected to ::1')
  })
})
