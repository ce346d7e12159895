// Input that PostgreSQL cannot store is refused before any route sees it: every string of a
// request's path params, query and JSON body (values and keys, at any depth) must be storable as
// PostgreSQL text — no NUL (U+0000) and no lone UTF-16 surrogate (which JSON can spell as
// "\ud800" and jsonb refuses) — and a body may nest only so deep. Multipart uploads are read by
// their route, which checks each part with `checkUploadPart` and maps parser errors with
// `uploadError`. Dates (`format: 'date'`) are real calendar dates of the years 1900–2999.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AppError, fail, type FieldProblem } from '../errors.ts'

/** Deepest nesting of arrays and objects a JSON body may have. */
export const maxDepth = 32

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/** Why `text` cannot be stored as PostgreSQL text, or null when it can. */
export function textProblem(text: string): string | null {
  if (text.includes('\u0000')) return '不能包含空字符'
  if (text.search(loneSurrogate) >= 0) return '不能包含无效的 Unicode 字符（不成对的代理项）'
  return null
}

/** The first unstorable string (or too deep nesting) in `value`, named by its field path (a.b.0). */
export function findProblem(value: unknown, root: string): FieldProblem | null {
  // Iterative, so that no nesting depth can overflow the stack.
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: root, depth: 0 }]
  while (stack.length) {
    const { value: v, path, depth } = stack.pop()!
    if (typeof v === 'string') {
      const problem = textProblem(v)
      if (problem) return { field: path || 'body', message: problem }
    } else if (v !== null && typeof v === 'object') {
      if (depth >= maxDepth) return { field: path || 'body', message: `嵌套层次不能超过 ${maxDepth} 层` }
      for (const [key, child] of Object.entries(v)) {
        const childPath = path ? `${path}.${key}` : key
        const keyProblem = textProblem(key)
        if (keyProblem) return { field: childPath, message: `字段名${keyProblem}` }
        stack.push({ value: child, path: childPath, depth: depth + 1 })
      }
    }
  }
  return null
}

const refuse = (problem: FieldProblem) => fail('VALIDATION', `请求数据不符合要求：${problem.field} ${problem.message}`, [problem])

/** Throws a 400 naming `field` when `text` cannot be stored. */
export function assertStorable(text: string | undefined, field: string): void {
  const problem = text === undefined ? null : textProblem(text)
  if (problem) throw refuse({ field, message: problem })
}

/** One part of a multipart upload, as @fastify/multipart hands it over. */
interface UploadPart {
  type: 'field' | 'file'
  fieldname: string
  fieldnameTruncated?: boolean
  valueTruncated?: boolean
  value?: unknown
  filename?: string
}

/** Refuses a part whose name, value or file name cannot be stored, or that the parser cut short. */
export function checkUploadPart(part: UploadPart): void {
  // busboy hands over a part without a name (Content-Disposition lacking name=) as undefined.
  if (!part.fieldname) throw fail('VALIDATION', '上传内容中有缺少名称的部分', [{ field: 'file', message: '缺少字段名（name）' }])
  if (part.fieldnameTruncated) throw fail('BODY_TOO_LARGE', '上传内容的字段名过长', [{ field: part.fieldname, message: '字段名过长' }])
  assertStorable(part.fieldname, part.fieldname.replace(/\u0000/g, '\\0'))
  if (part.type === 'field') {
    if (part.valueTruncated) throw fail('BODY_TOO_LARGE', `上传内容的字段 ${part.fieldname} 过长`, [{ field: part.fieldname, message: '内容过长' }])
    if (typeof part.value === 'string') assertStorable(part.value, part.fieldname)
  } else {
    if (!part.filename) throw fail('VALIDATION', '上传的文件缺少文件名', [{ field: part.fieldname, message: '缺少文件名' }])
    if (part.filename.length > 255) throw fail('VALIDATION', '文件名不能超过 255 个字符', [{ field: `${part.fieldname}.filename`, message: '文件名过长' }])
    assertStorable(part.filename, `${part.fieldname}.filename`)
  }
}

/** An error met while reading a multipart upload, as the 4xx it deserves (system errors pass on). */
export function uploadError(err: unknown): unknown {
  if (err instanceof AppError) return err
  const code = (err as { code?: string }).code
  const file = (message: string) => [{ field: 'file', message }]
  if (code === 'FST_FILES_LIMIT') return fail('VALIDATION', '一次只能上传一个文件', file('一次只能上传一个文件'))
  if (code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') return fail('BODY_TOO_LARGE', '上传内容的字段过多', file('字段过多'))
  if (code === 'FST_REQ_FILE_TOO_LARGE') return fail('BODY_TOO_LARGE', '文件过大', file('文件过大'))
  // busboy's own errors (truncated body, malformed part header, missing boundary) are plain
  // Errors without a code; a bug (TypeError …) or a system error (ENOSPC …) is no bad input.
  const parserError = err instanceof Error && Object.getPrototypeOf(err) === Error.prototype && !code
  if (code?.startsWith('FST_') || parserError) return fail('VALIDATION', '上传内容格式不正确', file(`上传内容格式不正确：${(err as Error).message}`))
  return err
}

/** A calendar date YYYY-MM-DD of the years 1900–2999 that exists (no 2026-02-30). */
export function isCalendarDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text)
  if (!m) return false
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])]
  if (year < 1900 || year > 2999 || month < 1 || month > 12 || day < 1) return false
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate()
}

/**
 * The request validator's formats: ajv-formats, with `date` made strict (see isCalendarDate).
 * Passed as Fastify's ajv plugin after ajv-formats, whose `date` accepts the year 0000.
 */
export function strictDateFormat<A extends { addFormat(name: string, format: { type: 'string'; validate: (s: string) => boolean }): unknown }>(ajv: A): A {
  ajv.addFormat('date', { type: 'string', validate: isCalendarDate })
  return ajv
}

/** `value` with every unstorable character replaced by U+FFFD, cut off below `maxDepth`. */
export function storable(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(/\u0000/g, '\ufffd').replace(loneSurrogate, '\ufffd')
  if (value === null || typeof value !== 'object') return value
  if (depth >= maxDepth) return null
  if (Array.isArray(value)) return value.map((v) => storable(v, depth + 1))
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [storable(k), storable(v, depth + 1)]))
}

/**
 * Path params and query are checked on arrival, before authentication (registered before the auth
 * plugin), the body once it is parsed. What records a refused request afterwards (the audit
 * trail) gets the same request with its unstorable characters replaced.
 */
export default fp(async function input(app: FastifyInstance) {
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const problem = findProblem(req.params, '') ?? findProblem(req.query, '')
    if (!problem) return
    req.params = storable(req.params)
    req.query = storable(req.query)
    throw refuse(problem)
  })
  app.addHook('preValidation', async (req: FastifyRequest) => {
    const problem = findProblem(req.body, '')
    if (!problem) return
    req.body = storable(req.body)
    throw refuse(problem)
  })
})
