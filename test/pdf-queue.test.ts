// Printing is bounded: with one print at a time and one waiting, a burst of PDF requests gets
// PDFs and 503s with Retry-After and a Chinese message — never a 500 — and the server stays up.
import t from 'tap'
import { Api, startFawen, startStack } from './helpers/stack.ts'

const stack = await startStack({ env: { PDF_CONCURRENCY: '1', PDF_QUEUE: '1', PDF_TIMEOUT_MS: '60000' } })
t.teardown(() => stack.close())
const api = new Api(stack)

async function pdf(id: string) {
  const res = await fetch(`${stack.url}/documents/${id}/jian.pdf`, { headers: { authorization: `Bearer ${await api.token('zhangwei')}` } })
  const bytes = Buffer.from(await res.arrayBuffer())
  return { status: res.status, retryAfter: res.headers.get('retry-after'), type: res.headers.get('content-type'), bytes }
}

t.test('a burst of prints beyond the slot and the queue gets 503 with Retry-After, the rest a PDF', async (t) => {
  const id = await startFawen(api)
  const burst = await Promise.all(Array.from({ length: 6 }, () => pdf(id)))
  const statuses = burst.map((r) => r.status)
  t.same(statuses.filter((s) => s !== 200 && s !== 503), [], `only 200 and 503 (${statuses.join(', ')})`)
  const ok = burst.filter((r) => r.status === 200)
  const busy = burst.filter((r) => r.status === 503)
  t.ok(ok.length >= 2, `the one printing and the one waiting get their PDF (${ok.length})`)
  t.ok(busy.length >= 1, `the others are turned away (${busy.length})`)
  for (const r of ok) {
    t.equal(r.type, 'application/pdf')
    t.equal(r.bytes.subarray(0, 5).toString('latin1'), '%PDF-')
  }
  for (const r of busy) {
    t.match(r.retryAfter, /^[1-9]\d*$/, 'Retry-After in whole seconds')
    const body = JSON.parse(r.bytes.toString('utf8'))
    t.match(body, { statusCode: 503, code: 'BUSY', message: /PDF/ })
    t.match(body.message, /请稍后重试/)
  }
  // Once the burst is over, a print goes through again.
  const later = await pdf(id)
  t.equal(later.status, 200)
  t.equal((await api.as('zhangwei').get('/tasks')).status, 200, 'the server answers other requests')
})

t.test('a print or retry setting that is not a whole number stops the start, naming it', async (t) => {
  const { loadConfig } = await import('../server/config.ts')
  const base = { ENGINE_TOKEN: 'x', AUTH_SECRET: 'y' }
  for (const [name, raw] of [['PDF_CONCURRENCY', 'abc'], ['PDF_CONCURRENCY', '0'], ['PDF_QUEUE', '-1'], ['PDF_TIMEOUT_MS', '1.5'], ['RETRY_MAX_ATTEMPTS', 'ten']]) {
    t.throws(() => loadConfig({ ...base, [name]: raw }), { message: `${name}: "${raw}" is not a whole number of at least ${name === 'PDF_QUEUE' ? 0 : 1}` }, `${name}=${raw} is refused`)
  }
  const config = loadConfig({ ...base, PDF_QUEUE: '0', RETRY_BASE_MS: '500' })
  t.equal(config.pdfQueue, 0, 'no waiting queue is allowed')
  t.equal(config.retryBaseMs, 500)
  t.equal(loadConfig(base).pdfConcurrency, 2, 'the default when unset')
})
