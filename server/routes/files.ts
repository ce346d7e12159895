// 正文 and 附件: upload (multipart), add a version, list a document's files, download a version.
import multipart from '@fastify/multipart'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import type { Services } from '../app.ts'
import { fail } from '../errors.ts'
import { checkUploadPart, uploadError } from '../plugins/input.ts'
import { errorResponses } from '../schemas.ts'
import { Files, maxFileBytes, type Received } from '../services/files.ts'

const uuidParam = { type: 'string', format: 'uuid' } as const
const uploadResponses = {
  201: {
    type: 'object',
    properties: {
      fileId: { type: 'string' }, versionId: { type: 'string' }, version: { type: 'integer' }, sha256: { type: 'string' },
      size: { type: 'integer' }, name: { type: 'string' }, kind: { type: 'string' },
    },
  },
  ...errorResponses,
  413: { $ref: 'Error#' },
  415: { $ref: 'Error#' },
}
const multipartNote = '以 multipart/form-data 提交，文件字段名为 file。'

/** Reads the whole multipart body: its fields and the one `file` part (staged to disk). */
async function readUpload(req: FastifyRequest, files: Files) {
  if (!req.isMultipart()) throw fail('VALIDATION', '请以 multipart/form-data 上传文件', [{ field: 'file', message: '缺少文件' }])
  const fields: Record<string, string> = {}
  let file: Received | undefined
  try {
    const limits = { fileSize: maxFileBytes(), files: 1, fields: 10, fieldSize: 1000, parts: 12 }
    for await (const part of req.parts({ limits })) {
      checkUploadPart(part)
      if (part.type === 'field') fields[part.fieldname] = String(part.value)
      else if (part.fieldname !== 'file') part.file.resume()
      else file = await files.receive(part.filename, part.mimetype, part.file)
    }
  } catch (err) {
    await files.discard(file)
    throw uploadError(err)
  }
  return { fields, file }
}

/** RFC 6266: an ASCII fallback name and the real one as UTF-8 filename*. */
function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_')
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`
}

const routes: FastifyPluginAsync<Services> = async (app, { knex, documents, dataDir }) => {
  const files = new Files(knex, documents, dataDir, app.log as unknown as Logger)
  // Oversize files are cut off and flagged `truncated`, so the request is read whole and answered 413.
  await app.register(multipart, { throwFileSizeLimit: false })

  app.post<{ Params: { id: string } }>('/documents/:id/files', {
    schema: {
      tags: ['files'],
      summary: '上传公文的正文或附件（正文每份公文一个，再次上传即为新版本）；签发后冻结（409 DOCUMENT_FROZEN），仅盖章环节可上传版式正文',
      description: `${multipartNote}字段 kind：正文 或 附件。接受 pdf、ofd、doc、docx、wps、xls、xlsx、et、txt、jpg、jpeg、png、zip。`,
      consumes: ['multipart/form-data'],
      params: { type: 'object', properties: { id: uuidParam } },
      response: uploadResponses,
    },
  }, async (req, reply) => {
    await files.assertCanUpload(req.principal, req.params.id)
    const { fields, file } = await readUpload(req, files)
    return reply.status(201).send(await files.upload(req.principal, req.params.id, { kind: fields.kind }, file))
  })

  app.post<{ Params: { id: string; fileId: string } }>('/documents/:id/files/:fileId/versions', {
    schema: {
      tags: ['files'], summary: '为公文的某个文件上传新版本（旧版本全部保留）', description: multipartNote, consumes: ['multipart/form-data'],
      params: { type: 'object', properties: { id: uuidParam, fileId: uuidParam } },
      response: uploadResponses,
    },
  }, async (req, reply) => {
    await files.assertCanUpload(req.principal, req.params.id)
    const { file } = await readUpload(req, files)
    return reply.status(201).send(await files.upload(req.principal, req.params.id, { fileId: req.params.fileId }, file))
  })

  app.get<{ Params: { id: string } }>('/documents/:id/files', {
    schema: {
      tags: ['files'], summary: '公文的正文与附件及其全部版本（新版本在前）；来文另列发文单位的文件（fromSource，只读）',
      params: { type: 'object', properties: { id: uuidParam } },
      response: {
        200: {
          type: 'object',
          properties: {
            /** For a sealed 发文 (or an incoming one, its sender's): whether the 正文 still matches the seal. */
            sealIntact: { type: ['boolean', 'null'] },
            sealedVersionId: { type: ['string', 'null'] },
            items: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  fileId: { type: 'string' }, documentId: { type: 'string' }, kind: { type: 'string' }, name: { type: 'string' },
                  createdAt: { type: 'string', format: 'date-time' }, fromSource: { type: 'boolean' },
                  versions: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: {
                        versionId: { type: 'string' }, version: { type: 'integer' }, name: { type: 'string' }, size: { type: 'integer' },
                        mimeType: { type: 'string' }, sha256: { type: 'string' }, uploadedBy: { type: 'string' },
                        uploaderName: { type: ['string', 'null'] }, uploadedAt: { type: 'string', format: 'date-time' },
                      },
                    },
                  },
                },
              },
            },
          },
        },
        ...errorResponses,
      },
    },
  }, async (req) => files.list(req.principal, req.params.id))

  app.get<{ Params: { versionId: string } }>('/files/versions/:versionId', {
    schema: {
      tags: ['files'], summary: '下载某个文件版本的内容（响应头 X-Sha256 与 Digest 给出其 SHA-256）',
      description: '已盖章发文的正文每次下载都与盖章记录的 SHA-256 核对；不一致时拒绝下载（409 SEAL_MISMATCH）。',
      params: { type: 'object', properties: { versionId: uuidParam } },
      response: errorResponses,
    },
  }, async (req, reply) => {
    const v = await files.version(req.principal, req.params.versionId)
    return reply
      .header('content-type', v.mime)
      .header('content-length', v.size)
      .header('content-disposition', contentDisposition(v.name))
      .header('x-sha256', v.sha256)
      .header('digest', `sha-256=${Buffer.from(v.sha256, 'hex').toString('base64')}`)
      .header('etag', `"${v.sha256}"`)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'private, no-cache')
      .send(v.stream)
  })
}

export default routes
