// A 发文 freezes when signed (签发): its 正文, 附件 and the 笺 fields the signed text depends on
// change for nobody — drafter, integrator key, unit admin, any later step — and 转笺/合并 leave it
// alone; only the 盖章 handler still puts in the fixed-layout 正文. After sealing, every download
// of the 正文 is checked against the sealed sha256. A correction is a new 发文 naming the old one.
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { act } from './helpers/flows.ts'
import { Api, draft, startFawen, startStack, taskFor, waitFor } from './helpers/stack.ts'

type Tap = Pick<typeof t, 'equal' | 'match' | 'ok'>
const stack = await startStack()
t.teardown(() => stack.close())
const api = new Api(stack)
const apiKey = 'demo-key-liuzhou-gov'
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')
const docx = { type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', ext: 'docx' }
const pdf = { type: 'application/pdf', ext: 'pdf' }

type Who = { as: string } | { apiKey: string }
const label = (who: Who) => ('as' in who ? who.as : 'integrator key')
const headers = async (who: Who): Promise<Record<string, string>> => ('as' in who ? { authorization: `Bearer ${await api.token(who.as)}` } : { 'x-api-key': who.apiKey })

async function upload(who: Who, path: string, bytes: Buffer, type: { type: string; ext: string }, fields: Record<string, string> = {}) {
  const form = new FormData()
  for (const [k, v] of Object.entries(fields)) form.append(k, v)
  form.append('file', new Blob([new Uint8Array(bytes)], { type: type.type }), `文件.${type.ext}`)
  const res = await fetch(`${stack.url}${path}`, { method: 'POST', headers: await headers(who), body: form })
  return { status: res.status, body: await res.json() }
}

async function download(who: Who, versionId: string) {
  const res = await fetch(`${stack.url}/files/versions/${versionId}`, { headers: await headers(who) })
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) }
}

const call = async (who: Who, method: string, path: string, body?: unknown) => api.call(method, path, { ...who, body })
const files = async (id: string) => (await call({ apiKey }, 'GET', `/documents/${id}/files`)).body
const doc = async (id: string) => (await call({ apiKey }, 'GET', `/documents/${id}`)).body
const zhengwenOf = async (id: string) => (await files(id)).items.find((f: { kind: string; fromSource: boolean }) => f.kind === '正文' && !f.fromSource)
const attachmentOf = async (id: string) => (await files(id)).items.find((f: { kind: string; fromSource: boolean }) => f.kind === '附件' && !f.fromSource)

/** A new 发文 started by a person or by the integrator key (which acts only on documents it started). */
async function start(who: Who, data = draft()) {
  const res = await call(who, 'POST', '/documents', { kind: 'fawen', data })
  if (res.status !== 201) throw new Error(`start failed: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.id as string
}

/** The starter's 拟稿 task, completed (the key's through its own 待办). */
async function sendToReview(who: Who, id: string, data?: Record<string, unknown>) {
  if ('as' in who) return act(api, who.as, id, 'nigao', { route: '送审核', nextHandler: 'lina', data })
  const task = await waitFor('the key’s 拟稿', async () => (await call(who, 'GET', '/tasks')).body.items.find((x: { documentId: string }) => x.documentId === id))
  const res = await call(who, 'POST', `/tasks/${task.taskKey}/complete`, { route: '送审核', nextHandler: 'lina', data })
  if (res.status !== 200) throw new Error(`the key could not send ${id}: ${res.status} ${JSON.stringify(res.body)}`)
}

/** A 发文 with a 正文 and an 附件, walked to the leader's 签发 task. */
async function toQianfa(who: Who = { as: 'zhangwei' }) {
  const id = await start(who)
  t.equal((await upload(who, `/documents/${id}/files`, randomBytes(2000), docx, { kind: '正文' })).status, 201)
  t.equal((await upload(who, `/documents/${id}/files`, randomBytes(1500), docx, { kind: '附件' })).status, 201)
  await sendToReview(who, id)
  await act(api, 'lina', id, 'shenhe', { route: '送签发', nextHandler: 'wangqiang' })
  return id
}

async function seal(id: string) {
  await act(api, 'chenjing', id, 'gaizhang', { route: '用印' })
  return waitFor('sealed and delivered', async () => {
    const d = await doc(id)
    return d.status === 'completed' && d
  })
}

t.test('before 签发 the 正文, the 附件 and the 笺 still change', async (t) => {
  const id = await startFawen(api)
  const first = await upload({ as: 'zhangwei' }, `/documents/${id}/files`, randomBytes(2000), docx, { kind: '正文' })
  t.equal(first.status, 201, 'the drafter uploads a 正文')
  t.equal((await upload({ as: 'zhangwei' }, `/documents/${id}/files/${first.body.fileId}/versions`, randomBytes(2100), docx)).status, 201, 'and a new version of it')
  const att = await upload({ as: 'zhangwei' }, `/documents/${id}/files`, randomBytes(1000), docx, { kind: '附件' })
  t.equal(att.status, 201, 'and an 附件')
  const keys = await start({ apiKey })
  const keyAtt = await upload({ apiKey }, `/documents/${keys}/files`, randomBytes(1000), docx, { kind: '附件' })
  t.equal(keyAtt.status, 201, 'the integrator key adds an 附件 to its document')
  t.equal((await upload({ apiKey }, `/documents/${keys}/files/${keyAtt.body.fileId}/versions`, randomBytes(1100), docx)).status, 201, 'and a new version of it')
  t.equal((await upload({ apiKey }, `/documents/${keys}/files`, randomBytes(1100), docx, { kind: '正文' })).status, 201, 'and a 正文')
  await sendToReview({ apiKey }, keys, { title: '接口修改的标题' })
  t.equal((await doc(keys)).title, '接口修改的标题', 'the key changes its 笺 before 签发')
  await act(api, 'zhangwei', id, 'nigao', { route: '送审核', nextHandler: 'lina', data: { title: '修改后的标题', ccRecipients: [] } })
  await act(api, 'lina', id, 'shenhe', { route: '送签发', nextHandler: 'wangqiang', data: { body: '修改后的正文' } })
  const d = await doc(id)
  t.equal(d.title, '修改后的标题')
  t.equal(d.data.body, '修改后的正文')
  t.same(d.data.ccRecipients, [])
  t.equal(d.frozen, false, 'not frozen before 签发')
  t.same(d.frozenFields, [])
  const other = await startFawen(api)
  const merged = await call({ as: 'zhangwei' }, 'POST', `/documents/${id}/merge`, { from: [other] })
  t.equal(merged.status, 200, '合并 works before 签发')
})

t.test('after 签发 nobody changes the 正文, the 附件 or the frozen 笺 fields; the automated steps go on', async (t) => {
  const id = await toQianfa()
  const keys = await toQianfa({ apiKey })
  const before = new Map<string, { files: unknown; data: unknown }>()
  for (const d of [id, keys]) await act(api, 'wangqiang', d, 'qianfa', { route: '签发', opinion: '同意印发' })
  const gaizhang = await taskFor(api, 'chenjing', id, 'gaizhang')
  await taskFor(api, 'chenjing', keys, 'gaizhang')
  const signed = await doc(id)
  t.equal(signed.frozen, true, 'frozen from the commit of 签发')
  t.ok(signed.issuedAt)
  t.equal(signed.issuedBy, 'wangqiang')
  t.same(signed.frozenFields, ['title', 'docKind', 'mainRecipients', 'ccRecipients', 'urgency', 'publicity', 'publicityReason', 'body', 'attachments'])
  t.match(signed.docNumber ?? (await waitFor('编号', async () => (await doc(id)).docNumber)), /^柳政办发〔\d{4}〕\d+号$/, '编号 still runs')
  for (const d of [id, keys]) before.set(d, { files: await files(d), data: (await doc(d)).data })

  const frozen = (t: Tap, res: { status: number; body: any }, what: string, field?: string) => {
    t.equal(res.status, 409, `${what}: 409`)
    t.equal(res.body.code, 'DOCUMENT_FROZEN', `${what}: DOCUMENT_FROZEN`)
    t.match(res.body.message, /已签发/, `${what}: the message says it is signed`)
    t.ok(Array.isArray(res.body.details) && res.body.details.length > 0, `${what}: details name what is frozen`)
    if (field) t.ok(res.body.details.some((d: { field: string }) => d.field === field), `${what}: names ${field}`)
  }

  // The drafter (who could upload while the document was open) and the integrator key (which may
  // upload to any of its unit's documents): every file route answers 409.
  for (const [who, signedId] of [[{ as: 'zhangwei' }, id], [{ apiKey }, keys]] as Array<[Who, string]>) {
    const name = label(who)
    const zhengwen = await zhengwenOf(signedId)
    const attachment = await attachmentOf(signedId)
    frozen(t, await upload(who, `/documents/${signedId}/files`, randomBytes(900), pdf, { kind: '正文' }), `${name}: a new 正文`, 'file')
    frozen(t, await upload(who, `/documents/${signedId}/files`, randomBytes(900), docx, { kind: '附件' }), `${name}: a new 附件`, 'file')
    frozen(t, await upload(who, `/documents/${signedId}/files/${zhengwen.fileId}/versions`, randomBytes(900), pdf), `${name}: a 正文 version`, 'file')
    frozen(t, await upload(who, `/documents/${signedId}/files/${attachment.fileId}/versions`, randomBytes(900), docx), `${name}: an 附件 version`, 'file')
    const other = await start(who)
    frozen(t, await call(who, 'POST', `/documents/${signedId}/merge`, { from: [other] }), `${name}: 合并 into the signed document`, 'id')
    frozen(t, await call(who, 'POST', `/documents/${other}/merge`, { from: [signedId] }), `${name}: 合并 of the signed document into another`, 'from')
    frozen(t, await call(who, 'POST', `/documents/${signedId}/convert`), `${name}: 转笺 of the signed document`, 'id')
  }
  // The unit admin may not read other people's documents at all: refused without learning more.
  for (const [method, path] of [['POST', `/documents/${id}/merge`], ['POST', `/documents/${id}/convert`]]) {
    t.equal((await call({ as: 'zhouadmin' }, method, path, method === 'POST' && path.endsWith('merge') ? { from: [randomUUID()] } : undefined)).status, 404, `unit admin: ${path}`)
  }
  t.equal((await upload({ as: 'zhouadmin' }, `/documents/${id}/files`, randomBytes(900), pdf, { kind: '正文' })).status, 404, 'unit admin: upload')

  // The 盖章 handler's 笺 changes through the completion: the frozen fields answer 409 by name.
  for (const data of [{ title: '篡改的标题' }, { body: '篡改的正文' }, { mainRecipients: ['liuzhou-fin'] }, { ccRecipients: ['liuzhou-edu'] }, { urgency: '特急' }, { docKind: '函' }]) {
    const res = await api.as('chenjing').post(`/tasks/${gaizhang.taskKey}/complete`, { route: '用印', data })
    frozen(t, res, `盖章 with ${Object.keys(data)[0]}`, Object.keys(data)[0])
  }
  // ...and the registry may not add an 附件, nor a 正文 that is not a fixed-layout file.
  frozen(t, await upload({ as: 'chenjing' }, `/documents/${id}/files`, randomBytes(900), docx, { kind: '附件' }), 'registry: a new 附件', 'file')
  frozen(t, await upload({ as: 'chenjing' }, `/documents/${id}/files`, randomBytes(900), docx, { kind: '正文' }), 'registry: a docx 正文', 'file')

  for (const d of [id, keys]) {
    t.same(await files(d), before.get(d)!.files, 'no file or version changed')
    t.same((await doc(d)).data, before.get(d)!.data, 'no 笺 field changed')
  }
  t.equal((await doc(id)).title, signed.title)

  // The 盖章 handler puts in the fixed-layout 正文 (版式) that the seal binds, then seals.
  const layout = randomBytes(3000)
  const up = await upload({ as: 'chenjing' }, `/documents/${id}/files`, layout, pdf, { kind: '正文' })
  t.equal(up.status, 201, 'the 盖章 handler adds the fixed-layout 正文')
  const sealed = await seal(id)
  const keysSealed = await seal(keys)
  t.equal(keysSealed.sealIntact, true)
  t.equal(sealed.sealedSha256, sha256(layout), 'the seal names the fixed-layout 正文')
  t.equal(sealed.sealedVersionId, up.body.versionId)
  t.equal(sealed.sealIntact, true)
  t.equal(sealed.deliveries.length, 2, '分发 still runs')

  // After sealing and 分发 nobody adds anything, the 盖章 handler included: the attack of issue 10.
  for (const [who, sealedId] of [[{ as: 'zhangwei' }, id], [{ as: 'chenjing' }, id], [{ apiKey }, keys]] as Array<[Who, string]>) {
    const zhengwen = await zhengwenOf(sealedId)
    const filesNow = await files(sealedId)
    frozen(t, await upload(who, `/documents/${sealedId}/files/${zhengwen.fileId}/versions`, randomBytes(900), pdf), `${label(who)}: a 正文 version after sealing`, 'file')
    frozen(t, await upload(who, `/documents/${sealedId}/files`, randomBytes(900), pdf, { kind: '正文' }), `${label(who)}: a 正文 after sealing`, 'file')
    t.same(await files(sealedId), filesNow, 'nothing stored')
  }
  const got = await download({ as: 'zhangwei' }, up.body.versionId)
  t.equal(got.status, 200)
  t.equal(sha256(got.bytes), sha256(layout), 'the sealed 正文 downloads whole')
})

t.test('a 正文 changed on disk after sealing is refused on every download, and the document shows it', async (t) => {
  const id = await toQianfa()
  await act(api, 'wangqiang', id, 'qianfa', { route: '签发', opinion: '同意' })
  const sealed = await seal(id)
  t.equal(sealed.sealIntact, true)
  const versionId = sealed.sealedVersionId
  t.ok(versionId, 'the seal names the drafter’s 正文 version')
  t.equal((await download({ as: 'zhangwei' }, versionId)).status, 200, 'intact: it downloads')
  const incoming = await waitFor('the recipient’s incoming document', async () => {
    const rows = await stack.server!.knex('documents').where({ source_document_id: id, unit_id: 'liuzhou-edu' }).select('id')
    return rows[0]?.id as string | undefined
  })
  await taskFor(api, 'fengxue', incoming, 'qianshou')
  t.equal((await download({ as: 'fengxue' }, versionId)).status, 200, 'the recipient downloads it too')

  // Someone with access to the data dir changes the stored bytes.
  const row = await stack.server!.knex('file_versions').where({ id: versionId }).first('storage_path')
  await writeFile(join(stack.server!.services.dataDir, 'files', row.storage_path), randomBytes(2000))

  for (const who of [{ as: 'zhangwei' }, { apiKey }, { as: 'fengxue' }] as Who[]) {
    const res = await fetch(`${stack.url}/files/versions/${versionId}`, { headers: await headers(who) })
    const body = await res.json()
    t.equal(res.status, 409, `${label(who)}: refused`)
    t.equal(body.code, 'SEAL_MISMATCH')
    t.match(body.message, /正文文件与盖章时的记录不一致/)
  }
  t.equal((await doc(id)).sealIntact, false, 'the document says its seal no longer holds')
  t.equal((await files(id)).sealIntact, false, 'and so does its file list')
  t.equal((await api.as('fengxue').get(`/documents/${incoming}`)).body.sealIntact, false, 'the recipient’s incoming document too')
  const attachment = (await files(id)).items.find((f: { kind: string }) => f.kind === '附件')
  t.equal((await download({ as: 'zhangwei' }, attachment.versions[0].versionId)).status, 200, 'the 附件 still download')
})

t.test('a 正文 version slipped in after sealing (past the API) is refused too', async (t) => {
  const id = await toQianfa()
  await act(api, 'wangqiang', id, 'qianfa', { route: '签发', opinion: '同意' })
  await act(api, 'chenjing', id, 'gaizhang', { route: '用印' })
  const sealed = await waitFor('sealed', async () => {
    const d = await doc(id)
    return d.sealedAt && d
  })
  const knex = stack.server!.knex
  const old = await knex('file_versions').where({ id: sealed.sealedVersionId }).first()
  const forged = randomUUID()
  await knex('file_versions').insert({ ...old, id: forged, version: old.version + 1, sha256: 'f'.repeat(64) })
  const res = await download({ as: 'zhangwei' }, forged)
  t.equal(res.status, 409, 'the newer 正文 is refused')
  t.equal((await doc(id)).sealIntact, false)
})

t.test('a correction is a new 发文 that names the one it corrects', async (t) => {
  const id = await toQianfa()
  await act(api, 'wangqiang', id, 'qianfa', { route: '签发', opinion: '同意' })
  const res = await api.as('zhangwei').post('/documents', { kind: 'fawen', data: draft({ title: '关于更正冬季安全生产通知的通知' }), corrects: id })
  t.equal(res.status, 201, JSON.stringify(res.body))
  const correction = await doc(res.body.id)
  t.equal(correction.corrects.id, id)
  t.equal(correction.corrects.title, draft().title)
  t.equal(correction.frozen, false, 'the correction is a draft of its own')
  const original = await doc(id)
  t.same(original.corrections.map((c: { id: string }) => c.id), [res.body.id], 'the original lists its corrections')

  const edu = await startFawen(api, 'huangmei', draft({ mainRecipients: ['liuzhou-gov'], ccRecipients: [] }))
  const bad: Array<[string, unknown, string]> = [
    ['an unknown document', randomUUID(), 'fawen'],
    ['another unit’s document', edu, 'fawen'],
    ['not an id', 'abc', 'fawen'],
    ['a kind other than 发文', id, 'chengyue'],
  ]
  for (const [what, corrects, kind] of bad) {
    const r = await api.as('zhangwei').post('/documents', { kind, data: draft(), corrects })
    t.equal(r.status, 400, `${what}: 400`)
    t.ok(r.body.details?.some((d: { field: string }) => d.field === 'corrects'), `${what}: names corrects`)
  }
})
