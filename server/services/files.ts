// 正文 and 附件: every uploaded version kept, content-addressed under <dataDir>/files; who may read
// and upload; copying a document's files whole (转笺, 合并).
import { createHash, randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises'
import { dirname, extname, join } from 'node:path'
import { Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import { fail } from '../errors.ts'
import type { Documents } from './documents.ts'
import { frozenError, isFrozen } from './frozen.ts'
import type { Principal } from './principal.ts'

export type FileKind = '正文' | '附件'
export const fileKinds: FileKind[] = ['正文', '附件']

/** FILE_MAX_BYTES — largest accepted file in bytes. Default 50 MiB. Read per request. */
export function maxFileBytes(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.FILE_MAX_BYTES)
  return Number.isSafeInteger(n) && n > 0 ? n : 50 * 1024 * 1024
}

/** Accepted types by extension; the first MIME type is the one we store and serve. */
const zipped = ['application/zip', 'application/x-zip-compressed']
const fileTypes: Record<string, string[]> = {
  pdf: ['application/pdf'],
  ofd: ['application/ofd', ...zipped],
  doc: ['application/msword'],
  docx: ['application/vnd.openxmlformats-officedocument.wordprocessingml.document', ...zipped],
  wps: ['application/kswps', 'application/wps-office.wps', 'application/vnd.ms-works'],
  xls: ['application/vnd.ms-excel'],
  xlsx: ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', ...zipped],
  et: ['application/kset', 'application/wps-office.et', 'application/vnd.ms-excel'],
  txt: ['text/plain'],
  jpg: ['image/jpeg'],
  jpeg: ['image/jpeg'],
  png: ['image/png'],
  zip: zipped,
}
const allowedList = Object.keys(fileTypes).join('、')

/** The MIME type to store for an upload, or null when its extension or declared type is not accepted. */
export function acceptedType(name: string, declared: string): string | null {
  const types = fileTypes[extname(name).slice(1).toLowerCase()]
  const mime = declared.split(';')[0].trim().toLowerCase()
  if (!types) return null
  // Browsers declare unfamiliar types (ofd, wps, et) as octet-stream; the extension decides then.
  return mime === '' || mime === 'application/octet-stream' || types.includes(mime) ? types[0] : null
}

/** An upload read from the request: staged to a temp file, or refused (and drained) by its type. */
export interface Received {
  name: string
  mime: string | null
  path: string | null
  size: number
  sha256: string
  truncated: boolean
}

const versionColumns = [
  'v.file_id', 'v.id as versionId', 'v.version', 'v.name', 'v.size', 'v.mime_type as mimeType', 'v.sha256',
  'v.uploaded_by as uploadedBy', 'u.name as uploaderName', 'v.uploaded_at as uploadedAt',
]

export class Files {
  readonly root: string

  constructor(
    private readonly knex: Knex,
    private readonly documents: Documents,
    dataDir: string,
    private readonly log: Logger,
  ) {
    this.root = join(dataDir, 'files')
  }

  /**
   * Whoever may read the document, or an incoming document of their own unit made from it
   * (after 分发 the recipient unit's handlers read what was sent). Everyone else: not found.
   */
  async canRead(p: Principal, documentId: string): Promise<boolean> {
    if (await this.documents.canRead(p, documentId)) return true
    return Boolean(await this.documents.readableQuery(p, 'i').where('i.source_document_id', documentId).first('i.id'))
  }

  /**
   * A reader may upload when they created the document and it is still open, or hold an open
   * task on it they may act on; an integrator key may upload to its unit's documents. Once the
   * document is signed (签发) nobody may, but the handler of the open step before sealing (盖章),
   * who adds the fixed-layout 正文 (checked in upload); once sealed, nobody at all: 409.
   */
  async assertCanUpload(p: Principal, documentId: string): Promise<void> {
    const doc = await this.knex('documents').where({ id: documentId }).first('unit_id', 'status', 'created_by', 'issued_at', 'sealed_at')
    if (!doc || !(await this.canRead(p, documentId))) throw fail('NOT_FOUND', '未找到该公文')
    if (doc.unit_id === p.unitId && isFrozen(doc)) {
      // Signed: only the person handling the step before sealing (盖章) adds the fixed-layout 正文.
      if (doc.sealed_at || p.channel === 'api' || !(await this.openTaskOf(p, documentId))) {
        this.log.warn({ documentId, userId: p.userId, channel: p.channel }, 'upload to a signed document refused')
        throw frozenFiles(Boolean(doc.sealed_at))
      }
      return
    }
    if (doc.unit_id === p.unitId) {
      if (p.channel === 'api') return
      if (doc.created_by === p.userId && !['completed', 'canceled'].includes(doc.status)) return
      if (await this.openTaskOf(p, documentId)) return
    }
    throw fail('FORBIDDEN', '只有拟稿人（公文办结前）或当前办理人可以上传该公文的文件')
  }

  /** An open task on the document that the caller may act on. */
  private async openTaskOf(p: Principal, documentId: string) {
    return this.knex('tasks')
      .where({ document_id: documentId, unit_id: p.unitId, state: 'open' })
      .andWhere((q) => q.where('assignee', p.userId).orWhere((r) => r.whereNull('assignee').whereIn('candidate_role', p.roles)))
      .first('task_key')
  }

  /** Streams a file part to a temp file, hashing as it goes; a refused type is drained, not stored. */
  async receive(name: string, declared: string, stream: Readable & { truncated?: boolean }): Promise<Received> {
    const mime = acceptedType(name, declared)
    if (!mime) {
      stream.resume()
      return { name, mime, path: null, size: 0, sha256: '', truncated: false }
    }
    const dir = join(this.root, 'tmp')
    await mkdir(dir, { recursive: true })
    const path = join(dir, randomUUID())
    const hash = createHash('sha256')
    let size = 0
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk)
        size += chunk.length
        done(null, chunk)
      },
    })
    try {
      // flush: fsync before the stream closes, and pipeline resolves only once it has closed.
      await pipeline(stream, meter, createWriteStream(path, { flags: 'wx', flush: true }))
    } catch (err) {
      await rm(path, { force: true })
      throw err
    }
    return { name, mime, path, size, sha256: hash.digest('hex'), truncated: Boolean(stream.truncated) }
  }

  async discard(file: Received | undefined): Promise<void> {
    if (file?.path) await rm(file.path, { force: true })
  }

  /**
   * Stores a received file as a new version: a new logical file for kind 附件, the document's one
   * 正文 for kind 正文, or the given file. The bytes are on disk before the row is written.
   */
  async upload(p: Principal, documentId: string, target: { kind?: string } | { fileId: string }, file: Received | undefined) {
    try {
      if ('kind' in target && !fileKinds.includes(target.kind as FileKind))
        throw fail('VALIDATION', '请选择文件类别：正文或附件', [{ field: 'kind', message: 'kind 须为“正文”或“附件”' }])
      this.check(file)
      await this.assertCanUpload(p, documentId)
      const storagePath = await this.keep(file)
      const { name, mime, size, sha256 } = file
      const saved = await this.knex.transaction(async (trx) => {
        // Locked against 签发 and 用印登记 committing meanwhile.
        const doc = await trx('documents').where({ id: documentId }).forUpdate().first('issued_at', 'sealed_at')
        const kind = 'fileId' in target ? (await trx('files').where({ id: target.fileId, document_id: documentId }).first('kind'))?.kind : target.kind
        if (isFrozen(doc)) {
          if (doc.sealed_at || kind === '附件') throw frozenFiles(Boolean(doc.sealed_at))
          if (kind === '正文' && !layoutTypes.includes(mime!))
            throw frozenError([{ field: 'file', message: '公文已签发，正文只能再上传盖章用的版式文件（pdf、ofd）' }], '正文（签发后只能上传盖章用的版式文件 pdf、ofd）')
        }
        const logical = 'fileId' in target
          ? await trx('files').where({ id: target.fileId, document_id: documentId }).forUpdate().first()
          : await this.logicalFile(trx, documentId, target.kind as FileKind, name, p.userId)
        if (!logical) throw fail('NOT_FOUND', '未找到该文件')
        const [{ max }] = await trx('file_versions').where({ file_id: logical.id }).max('version as max')
        const version = Number(max ?? 0) + 1
        const versionId = randomUUID()
        await trx('file_versions').insert({
          id: versionId, file_id: logical.id, version, name, size, mime_type: mime, sha256, storage_path: storagePath, uploaded_by: p.userId,
        })
        await trx('files').where({ id: logical.id }).update({ name })
        return { fileId: logical.id as string, versionId, version, kind: logical.kind as FileKind }
      })
      this.log.info({ documentId, ...saved, sha256, size }, 'file version stored')
      return { ...saved, sha256, size, name }
    } finally {
      await this.discard(file)
    }
  }

  private check(file: Received | undefined): asserts file is Received {
    if (!file) throw fail('VALIDATION', '请选择要上传的文件', [{ field: 'file', message: '缺少文件' }])
    if (!file.mime)
      throw fail('UNSUPPORTED_MEDIA_TYPE', `不支持该文件类型，只接受：${allowedList}`, [{ field: 'file', message: `“${file.name}”的类型不在允许之列（${allowedList}）` }])
    if (file.truncated) {
      const max = maxFileBytes()
      const shown = max >= 1024 * 1024 ? `${Math.floor(max / 1024 / 1024)} MiB` : `${Math.floor(max / 1024)} KiB`
      throw fail('BODY_TOO_LARGE', `文件过大，不能超过 ${shown}`, [{ field: 'file', message: `文件不能超过 ${max} 字节` }])
    }
    if (file.size === 0) throw fail('VALIDATION', '文件为空', [{ field: 'file', message: '文件为空，请重新选择' }])
  }

  /** A new 附件, or the document's one 正文 (created on first upload), locked for the new version. */
  private async logicalFile(trx: Knex.Transaction, documentId: string, kind: FileKind, name: string, userId: string) {
    const doc = await trx('documents').where({ id: documentId }).first('unit_id')
    const row = { id: randomUUID(), document_id: documentId, unit_id: doc.unit_id, kind, name, created_by: userId }
    if (kind === '附件') {
      await trx('files').insert(row)
      return trx('files').where({ id: row.id }).forUpdate().first()
    }
    await trx.raw(`insert into files (id, document_id, unit_id, kind, name, created_by) values (?, ?, ?, ?, ?, ?)
      on conflict (document_id) where kind = '正文' do nothing`, [row.id, row.document_id, row.unit_id, row.kind, row.name, row.created_by])
    return trx('files').where({ document_id: documentId, kind: '正文' }).forUpdate().first()
  }

  /** Moves a staged file to its content address; identical content is stored once. */
  private async keep(file: Received): Promise<string> {
    const relative = join(file.sha256.slice(0, 2), file.sha256)
    const target = join(this.root, relative)
    if (await stat(target).then(() => true, () => false)) return relative
    await mkdir(dirname(target), { recursive: true })
    await rename(file.path!, target)
    const dir = await open(dirname(target), 'r')
    await dir.sync().finally(() => dir.close())
    return relative
  }

  /** The document's files with every version (newest first); for an incoming one also its source's. */
  async list(p: Principal, documentId: string) {
    if (!(await this.canRead(p, documentId))) throw fail('NOT_FOUND', '未找到该公文')
    const doc = await this.knex('documents').where({ id: documentId }).first('source_document_id')
    const own = await this.filesOf(documentId, false)
    const source = doc.source_document_id ? await this.filesOf(doc.source_document_id, true) : []
    // The seal that binds what is listed: this document's, or for an incoming one its sender's.
    const seal = await this.sealOf(doc.source_document_id ?? documentId)
    return { items: [...own, ...source], sealIntact: seal?.intact ?? null, sealedVersionId: seal?.sealedVersionId ?? null }
  }

  /** The seal check of a document (null when not sealed); a broken seal is logged as an error. */
  async sealOf(documentId: string): Promise<SealState | null> {
    const seal = await sealState(this.knex, this.root, documentId)
    if (seal && !seal.intact) this.log.error({ documentId, ...seal }, 'the sealed 正文 does not match its seal record')
    return seal
  }

  private async filesOf(documentId: string, fromSource: boolean) {
    const files = await this.knex('files').where({ document_id: documentId }).orderByRaw(`kind <> '正文', created_at, id`)
      .select('id as fileId', 'document_id as documentId', 'kind', 'name', 'created_at as createdAt')
    const versions = await this.knex('file_versions as v').leftJoin('users as u', 'u.id', 'v.uploaded_by')
      .whereIn('v.file_id', files.map((f) => f.fileId)).orderBy('v.version', 'desc').select(versionColumns)
    return files.map((f) => ({
      ...f,
      fromSource,
      versions: versions.filter((v) => v.file_id === f.fileId).map(({ file_id: _, ...v }) => ({ ...v, size: Number(v.size) })),
    }))
  }

  /** One version's metadata and an open handle on its bytes, for a reader of its document. */
  async version(p: Principal, versionId: string) {
    const v = await this.knex('file_versions as v').join('files as f', 'f.id', 'v.file_id').where('v.id', versionId)
      .first('v.name', 'v.version', 'v.size', 'v.mime_type', 'v.sha256', 'v.storage_path', 'f.document_id', 'f.kind')
    if (!v || !(await this.canRead(p, v.document_id))) throw fail('NOT_FOUND', '未找到该文件')
    if (v.kind === '正文') {
      // The sealed 正文 (or one put in its place) is served only while it matches the seal record.
      const seal = await this.sealOf(v.document_id)
      if (seal && !seal.intact && (seal.sealedVersion === null || v.version >= seal.sealedVersion)) {
        this.log.error({ documentId: v.document_id, versionId, userId: p.userId }, 'download of a 正文 that does not match its seal refused')
        throw fail('SEAL_MISMATCH')
      }
    }
    const handle = await open(join(this.root, v.storage_path), 'r')
    return { name: v.name as string, size: Number(v.size), mime: v.mime_type as string, sha256: v.sha256 as string, stream: handle.createReadStream() }
  }
}

/** What the seal check of a sealed document found. */
export interface SealState {
  sealedVersionId: string | null
  /** The version number of the sealed 正文, null when none is found. */
  sealedVersion: number | null
  /** The 正文 is the sealed version, and its stored bytes hash to the sealed sha256. */
  intact: boolean
  reason?: string
}

/** sha256 of stored files, by identity and change time: a file changed on disk is hashed again. */
const hashCache = new Map<string, string>()

async function storedSha256(path: string): Promise<string> {
  const handle: FileHandle = await open(path, 'r')
  try {
    const st = await handle.stat()
    const key = `${path}|${st.dev}|${st.ino}|${st.size}|${st.mtimeMs}|${st.ctimeMs}`
    const cached = hashCache.get(key)
    if (cached) return cached
    const hash = createHash('sha256')
    const buffer = Buffer.alloc(1024 * 1024)
    for (let position = 0; ;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position)
      if (!bytesRead) break
      hash.update(buffer.subarray(0, bytesRead))
      position += bytesRead
    }
    const digest = hash.digest('hex')
    if (hashCache.size >= 1000) hashCache.delete(hashCache.keys().next().value!)
    hashCache.set(key, digest)
    return digest
  } finally {
    await handle.close()
  }
}

/**
 * Checks a sealed document's 正文 against its seal record: the newest 正文 version must be the one
 * sealed, its row must still carry the sealed sha256, and its stored bytes must hash to it.
 * Null when the document is not sealed.
 */
export async function sealState(knex: Knex, root: string, documentId: string): Promise<SealState | null> {
  const doc = await knex('documents').where({ id: documentId }).first('sealed_at', 'sealed_sha256', 'sealed_version_id')
  if (!doc?.sealed_at) return null
  const versions = await knex('files as f').join('file_versions as v', 'v.file_id', 'f.id')
    .where({ 'f.document_id': documentId, 'f.kind': '正文' }).orderBy('v.version', 'desc')
    .select('v.id', 'v.version', 'v.sha256', 'v.storage_path')
  const newest = versions[0]
  if (!doc.sealed_sha256) {
    return newest ? { sealedVersionId: null, sealedVersion: null, intact: false, reason: 'a 正文 appeared after sealing' } : { sealedVersionId: null, sealedVersion: null, intact: true }
  }
  const sealed = doc.sealed_version_id ? versions.find((v) => v.id === doc.sealed_version_id) : versions.find((v) => v.sha256 === doc.sealed_sha256)
  if (!sealed) return { sealedVersionId: doc.sealed_version_id ?? null, sealedVersion: null, intact: false, reason: 'the sealed 正文 version is gone' }
  const state = { sealedVersionId: sealed.id as string, sealedVersion: sealed.version as number }
  if (newest.id !== sealed.id) return { ...state, intact: false, reason: 'a 正文 version newer than the sealed one' }
  if (sealed.sha256 !== doc.sealed_sha256) return { ...state, intact: false, reason: 'the sealed version’s recorded hash was changed' }
  const actual = await storedSha256(join(root, sealed.storage_path)).catch(() => null)
  if (actual !== doc.sealed_sha256) return { ...state, intact: false, reason: actual ? 'the stored bytes do not hash to the sealed sha256' : 'the stored file cannot be read' }
  return { ...state, intact: true }
}

/** The fixed-layout types (版式文件) the 正文 may still take between 签发 and sealing. */
const layoutTypes = ['application/pdf', 'application/ofd']

function frozenFiles(sealed: boolean) {
  const why = sealed ? '公文已签发并盖章，正文和附件不可再上传或修改' : '公文已签发，附件不可再上传或修改，正文只能由盖章环节的办理人上传版式文件'
  return frozenError([{ field: 'file', message: why }], '正文和附件')
}

/** The newest version of the document's file of that kind (its one 正文), or null. */
export async function latestVersionOf(knex: Knex, documentId: string, kind: FileKind) {
  const row = await knex('files as f').join('file_versions as v', 'v.file_id', 'f.id')
    .where({ 'f.document_id': documentId, 'f.kind': kind })
    .orderBy([{ column: 'f.created_at' }, { column: 'v.version', order: 'desc' }])
    .first('v.id as versionId', 'v.sha256', 'v.name')
  return row ? { versionId: row.versionId as string, sha256: row.sha256 as string, name: row.name as string } : null
}

/**
 * Copies every file of one document, with all its versions (same numbers, same stored content,
 * same uploader and time), to another (转笺, 合并). Safe to repeat: a file already copied to the
 * target is not copied again. When the target already has its own 正文, the source's comes
 * along as an 附件, so nothing is lost. Returns old → new ids of files and versions.
 */
export async function copyFiles(trx: Knex | Knex.Transaction, fromDocumentId: string, toDocumentId: string, actorId: string) {
  const target = await trx('documents').where({ id: toDocumentId }).first('unit_id')
  if (!target) throw new Error(`copyFiles: no document ${toDocumentId}`)
  const mapping = { files: {} as Record<string, string>, versions: {} as Record<string, string> }
  const sources = await trx('files').where({ document_id: fromDocumentId }).orderByRaw(`kind <> '正文', created_at, id`)
  for (const src of sources) {
    const versions = await trx('file_versions').where({ file_id: src.id }).orderBy('version')
    let copy = await trx('files').where({ document_id: toDocumentId, copied_from: src.id }).first('id')
    if (!copy) {
      const hasZhengwen = src.kind === '正文' && (await trx('files').where({ document_id: toDocumentId, kind: '正文' }).first('id'))
      copy = { id: randomUUID() }
      await trx('files').insert({
        id: copy.id, document_id: toDocumentId, unit_id: target.unit_id, kind: hasZhengwen ? '附件' : src.kind, name: src.name,
        created_by: actorId, copied_from: src.id,
      })
      await trx('file_versions').insert(versions.map((v) => ({ ...v, id: randomUUID(), file_id: copy!.id })))
    }
    const copied = await trx('file_versions').where({ file_id: copy.id }).select('id', 'version')
    mapping.files[src.id] = copy.id
    for (const v of versions) mapping.versions[v.id] = copied.find((c) => c.version === v.version)!.id
  }
  return mapping
}
