// 正文 and 附件: every version kept with its hash, only the document's readers see them, bad
// uploads store nothing, files survive a restart, and copyFiles carries them whole.
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import knexFactory from 'knex'
import t from 'tap'
import { copyFiles, latestVersionOf } from '../server/services/files.ts'
import { Api, startFawen, startStack, waitFor } from './helpers/stack.ts'

// Read by the files service per request; small so the oversize case needs few bytes.
process.env.FILE_MAX_BYTES = String(64 * 1024)
const stack = await startStack()
const db = knexFactory({ client: 'pg', connection: stack.databaseUrl, pool: { min: 0, max: 2 } })
t.teardown(async () => {
  await db.destroy()
  await stack.close()
})
const api = new Api(stack)
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')
const docxType = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'

async function upload(as: string, path: string, file: { bytes: Buffer; name: string; type?: string } | null, fields: Record<string, string> = {}) {
  const form = new FormData()
  for (const [k, v] of Object.entries(fields)) form.append(k, v)
  if (file) form.append('file', new Blob([new Uint8Array(file.bytes)], { type: file.type ?? '' }), file.name)
  const res = await fetch(`${stack.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${await api.token(as)}` }, body: form })
  return { status: res.status, body: await res.json() }
}

async function download(as: string, versionId: string) {
  const res = await fetch(`${stack.url}/files/versions/${versionId}`, { headers: { authorization: `Bearer ${await api.token(as)}` } })
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) }
}

const list = (as: string, id: string) => api.as(as).get(`/documents/${id}/files`)
const tmpFiles = async () => readdir(join(stack.server!.services.dataDir, 'files', 'tmp')).catch(() => [])

const id = await startFawen(api)
const zhengwen1 = randomBytes(4096)
const zhengwen2 = randomBytes(5000)
const fujian = randomBytes(3000)
let zhengwenFileId = ''
let firstVersionId = ''

t.test('the drafter uploads a 正文 and an 附件; a second 正文 becomes version 2 and both are kept', async (t) => {
  const z1 = await upload('zhangwei', `/documents/${id}/files`, { bytes: zhengwen1, name: '正文.docx', type: docxType }, { kind: '正文' })
  t.equal(z1.status, 201, JSON.stringify(z1.body))
  t.match(z1.body, { version: 1, sha256: sha256(zhengwen1), size: 4096, name: '正文.docx', kind: '正文' })
  zhengwenFileId = z1.body.fileId
  firstVersionId = z1.body.versionId

  const a = await upload('zhangwei', `/documents/${id}/files`, { bytes: fujian, name: '附件1 经费预算表.xlsx' }, { kind: '附件' })
  t.equal(a.status, 201)
  t.match(a.body, { version: 1, kind: '附件', sha256: sha256(fujian) })
  t.not(a.body.fileId, zhengwenFileId)

  const z2 = await upload('zhangwei', `/documents/${id}/files`, { bytes: zhengwen2, name: '正文（修改稿）.docx' }, { kind: '正文' })
  t.equal(z2.status, 201)
  t.match(z2.body, { fileId: zhengwenFileId, version: 2, sha256: sha256(zhengwen2) })

  const res = await list('zhangwei', id)
  t.equal(res.status, 200)
  t.same(res.body.items.map((f: any) => [f.kind, f.fromSource, f.versions.map((v: any) => [v.version, v.sha256, v.size])]), [
    ['正文', false, [[2, sha256(zhengwen2), 5000], [1, sha256(zhengwen1), 4096]]],
    ['附件', false, [[1, sha256(fujian), 3000]]],
  ])
  t.equal(res.body.items[0].name, '正文（修改稿）.docx', 'the file is listed under its newest name')
  t.same(await latestVersionOf(db, id, '正文'), { versionId: z2.body.versionId, sha256: sha256(zhengwen2), name: '正文（修改稿）.docx' })
  t.same(await tmpFiles(), [], 'no staged file is left behind')
})

t.test('a version is downloaded byte for byte, with its hash and UTF-8 file name', async (t) => {
  const res = await download('zhangwei', firstVersionId)
  t.equal(res.status, 200)
  t.ok(res.bytes.equals(zhengwen1), 'identical bytes')
  t.equal(res.headers.get('x-sha256'), sha256(zhengwen1))
  t.equal(res.headers.get('digest'), `sha-256=${createHash('sha256').update(zhengwen1).digest('base64')}`)
  t.equal(res.headers.get('content-type'), docxType)
  t.match(res.headers.get('content-disposition'), `filename*=UTF-8''${encodeURIComponent('正文.docx')}`)
})

t.test('a new version of a given file; identical content is stored once', async (t) => {
  const files = (await list('zhangwei', id)).body.items
  const attachment = files.find((f: any) => f.kind === '附件')
  const res = await upload('zhangwei', `/documents/${id}/files/${attachment.fileId}/versions`, { bytes: zhengwen1, name: '附件1 经费预算表.pdf' })
  t.equal(res.status, 201)
  t.match(res.body, { fileId: attachment.fileId, version: 2, kind: '附件', sha256: sha256(zhengwen1) })
  const stored = await db('file_versions').where({ sha256: sha256(zhengwen1) }).pluck('storage_path')
  t.equal(stored.length, 2)
  t.equal(new Set(stored).size, 1, 'both versions point at one stored file')
  const unknown = await upload('zhangwei', `/documents/${id}/files/${randomUUID()}/versions`, { bytes: fujian, name: 'a.pdf' })
  t.equal(unknown.status, 404)
})

t.test('bad uploads are refused naming the field and store nothing', async (t) => {
  const before = (await list('zhangwei', id)).body
  const rowsBefore = await db('file_versions').count<{ count: string }[]>('* as count')
  const path = `/documents/${id}/files`
  const cases: Array<[string, Awaited<ReturnType<typeof upload>>, number, string]> = [
    ['too large', await upload('zhangwei', path, { bytes: randomBytes(64 * 1024 + 1), name: '大文件.pdf' }, { kind: '附件' }), 413, 'file'],
    ['an .exe', await upload('zhangwei', path, { bytes: randomBytes(100), name: 'setup.exe' }, { kind: '附件' }), 415, 'file'],
    ['a .pdf declared as a program', await upload('zhangwei', path, { bytes: randomBytes(100), name: 'a.pdf', type: 'application/x-msdownload' }, { kind: '附件' }), 415, 'file'],
    ['an empty file', await upload('zhangwei', path, { bytes: Buffer.alloc(0), name: 'empty.txt' }, { kind: '附件' }), 400, 'file'],
    ['no file', await upload('zhangwei', path, null, { kind: '附件' }), 400, 'file'],
    ['no kind', await upload('zhangwei', path, { bytes: randomBytes(100), name: 'a.pdf' }), 400, 'kind'],
    ['an unknown kind', await upload('zhangwei', path, { bytes: randomBytes(100), name: 'a.pdf' }, { kind: '正本' }), 400, 'kind'],
  ]
  for (const [what, res, status, field] of cases) {
    t.equal(res.status, status, `${what} → ${status}`)
    t.ok(res.body.details?.some((d: { field: string }) => d.field === field), `${what} names ${field}: ${JSON.stringify(res.body)}`)
  }
  const json = await api.call('POST', path, { as: 'zhangwei', body: { kind: '附件' } })
  t.equal(json.status, 400, 'a JSON body is no upload')
  t.same((await list('zhangwei', id)).body, before, 'the list is unchanged')
  t.same(await db('file_versions').count('* as count'), rowsBefore, 'no row was written')
  t.same(await tmpFiles(), [], 'no staged file is left behind')
})

t.test('people who may not read the document get 404 on list, download and upload', async (t) => {
  const small = { bytes: randomBytes(100), name: 'a.txt' }
  for (const who of ['huangmei', 'fengxue', 'wangqiang', 'liuyang', 'chenjing']) {
    t.equal((await list(who, id)).status, 404, `${who}: list`)
    t.equal((await download(who, firstVersionId)).status, 404, `${who}: download`)
    t.equal((await upload(who, `/documents/${id}/files`, small, { kind: '附件' })).status, 404, `${who}: upload`)
  }
  t.equal((await api.call('GET', `/documents/${id}/files`, { apiKey: 'demo-key-liuzhou-edu' })).status, 404, 'another unit’s key: list')
  t.equal((await api.call('GET', `/files/versions/${firstVersionId}`, { apiKey: 'demo-key-liuzhou-edu' })).status, 404, 'another unit’s key: download')
  t.equal((await api.call('GET', `/documents/${id}/files`, { apiKey: 'demo-key-liuzhou-gov' })).status, 200, 'the unit’s own key reads')
  t.equal((await api.call('GET', `/documents/${randomUUID()}/files`, { as: 'zhangwei' })).status, 404, 'no such document')
})

t.test('the department head reads and adds files once the document is sent to her', async (t) => {
  t.equal((await list('lina', id)).status, 404, 'not before')
  const task = await waitFor('zhangwei’s task', async () => (await api.as('zhangwei').get('/tasks')).body.items.find((x: any) => x.documentId === id))
  const detail = await api.as('zhangwei').get(`/tasks/${task.taskKey}`)
  const route = detail.body.routes.find((r: any) => r.handlers.some((h: { id: string }) => h.id === 'lina'))
  t.ok(route, `a route leads to lina: ${JSON.stringify(detail.body.routes.map((r: any) => r.name))}`)
  const done = await api.as('zhangwei').post(`/tasks/${task.taskKey}/complete`, { route: route.name, nextHandler: 'lina', opinion: '请审核' })
  t.equal(done.status, 200, JSON.stringify(done.body))
  await waitFor('lina’s task', async () => (await api.as('lina').get('/tasks')).body.items.find((x: any) => x.documentId === id))

  const res = await list('lina', id)
  t.equal(res.status, 200)
  t.same(res.body, (await list('zhangwei', id)).body, 'she sees what the drafter sees')
  t.ok((await download('lina', firstVersionId)).bytes.equals(zhengwen1))
  const added = await upload('lina', `/documents/${id}/files`, { bytes: randomBytes(200), name: '审核意见.txt', type: 'text/plain' }, { kind: '附件' })
  t.equal(added.status, 201, 'she holds an open task on it, so she may upload')
  t.equal((await list('wangqiang', id)).status, 404, 'the leader still cannot read it')
})

t.test('a reader who may not upload gets 403', async (t) => {
  // Given a document that has ended (set in the database: the flow's end is not this test's subject).
  const other = await startFawen(api)
  await waitFor('the 拟稿 task', async () => (await api.as('zhangwei').get('/tasks')).body.items.find((x: any) => x.documentId === other))
  await db('documents').where({ id: other }).update({ status: 'completed' })
  await db('tasks').where({ document_id: other }).update({ state: 'completed' })
  t.equal((await list('zhangwei', other)).status, 200, 'the drafter still reads it')
  const res = await upload('zhangwei', `/documents/${other}/files`, { bytes: randomBytes(100), name: 'a.txt' }, { kind: '附件' })
  t.equal(res.status, 403)
})

t.test('an incoming document’s readers see the source’s files, read-only; others of that unit do not', async (t) => {
  // Given an incoming document in liuzhou-edu made from it (分发 is the lead's flow; inserted here).
  const incoming = randomUUID()
  await db('documents').insert({ id: incoming, unit_id: 'liuzhou-edu', kind: 'shouwen', title: '来文', status: 'running', data: '{}', created_by: 'fengxue', source_document_id: id, source_unit_id: 'liuzhou-gov' })
  const res = await list('fengxue', incoming)
  t.equal(res.status, 200)
  t.ok(res.body.items.length > 0 && res.body.items.every((f: any) => f.fromSource && f.documentId === id), 'the source’s files, marked fromSource')
  t.ok((await download('fengxue', firstVersionId)).bytes.equals(zhengwen1))
  t.equal((await upload('fengxue', `/documents/${id}/files`, { bytes: randomBytes(10), name: 'a.txt' }, { kind: '附件' })).status, 403, 'read-only')
  t.equal((await list('huangmei', incoming)).status, 404, 'a colleague with no part in the incoming document')
  t.equal((await download('huangmei', firstVersionId)).status, 404)
})

t.test('files are still listed and downloadable after a server restart', async (t) => {
  const before = (await list('zhangwei', id)).body
  await stack.stopServer()
  await stack.startServer()
  t.same((await list('zhangwei', id)).body, before)
  t.ok((await download('zhangwei', firstVersionId)).bytes.equals(zhengwen1))
})

t.test('copyFiles carries every file with all versions, once, and never drops a 正文', async (t) => {
  const versionsOf = async (documentId: string) =>
    db('files as f').join('file_versions as v', 'v.file_id', 'f.id').where('f.document_id', documentId)
      .orderBy(['f.name', 'v.version']).select('f.kind', 'f.name', 'v.version', 'v.sha256', 'v.size', 'v.storage_path', 'v.uploaded_by')
  const target = await startFawen(api)
  const mapping = await db.transaction((trx) => copyFiles(trx, id, target, 'zhangwei'))
  const source = await versionsOf(id)
  t.same(await versionsOf(target), source, 'same files, version numbers, hashes and stored content')
  t.equal(Object.keys(mapping.versions).length, source.length)
  t.same(await db.transaction((trx) => copyFiles(trx, id, target, 'zhangwei')), mapping, 'a repeat copies nothing more')
  t.equal((await versionsOf(target)).length, source.length)
  const copied = (await list('zhangwei', target)).body.items.find((f: any) => f.kind === '正文')
  const v1 = copied.versions.find((v: any) => v.version === 1)
  t.ok((await download('zhangwei', v1.versionId)).bytes.equals(zhengwen1), 'a copied version downloads the same bytes')

  const own = await startFawen(api)
  t.equal((await upload('zhangwei', `/documents/${own}/files`, { bytes: randomBytes(50), name: '本件正文.pdf' }, { kind: '正文' })).status, 201)
  await db.transaction((trx) => copyFiles(trx, id, own, 'zhangwei'))
  const merged = (await list('zhangwei', own)).body.items
  t.same(merged.filter((f: any) => f.kind === '正文').map((f: any) => f.name), ['本件正文.pdf'], 'the target keeps its one 正文')
  t.ok(merged.some((f: any) => f.kind === '附件' && f.versions.length === 2 && f.versions[0].sha256 === sha256(zhengwen2)), 'the source’s 正文 comes along as an 附件 with both versions')
})
