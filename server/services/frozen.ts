// A signed 发文 is frozen: from 签发 (documents.issued_at, set in the engine's transaction by
// migrations/012) its 正文, its 附件 and the 笺 fields the signed text depends on change for nobody.
// The one step after 签发 that may still add a 正文 version is the handler of the open step before
// sealing (盖章), who puts in the fixed-layout 正文 (版式文件, pdf or ofd) that the seal then binds.
import { isDeepStrictEqual } from 'node:util'
import { AppError, type FieldProblem } from '../errors.ts'

/** The 发文稿纸 fields frozen at 签发 (keep in step with migrations/012-frozen-documents.ts). */
export const frozenFields = ['title', 'docKind', 'mainRecipients', 'ccRecipients', 'urgency', 'publicity', 'publicityReason', 'body', 'attachments'] as const

const labels: Record<string, string> = {
  title: '标题', docKind: '文种', mainRecipients: '主送机关', ccRecipients: '抄送机关', urgency: '紧急程度', publicity: '公开属性',
  publicityReason: '不公开理由', body: '正文', attachments: '附件',
}

export function isFrozen(doc: { issued_at?: Date | string | null }): boolean {
  return Boolean(doc.issued_at)
}

/** 409 DOCUMENT_FROZEN naming what is frozen. */
export function frozenError(details: FieldProblem[], what?: string): AppError {
  const message = what ? `公文已签发，${what}不可再修改；如需更正，请另起公文并引用原文` : undefined
  return new AppError('DOCUMENT_FROZEN', message, details)
}

/** The frozen 笺 fields a submission would change (a value sent unchanged is no change). */
export function frozenChanges(current: Record<string, unknown>, submitted: Record<string, unknown>): string[] {
  return (frozenFields as readonly string[]).filter((f) => f in submitted && !isDeepStrictEqual(submitted[f], current[f]))
}

/** Refuses a submission that changes frozen fields of a signed document. */
export function assertFieldsUnfrozen(doc: { issued_at?: Date | string | null; data: Record<string, unknown> }, submitted: Record<string, unknown> | undefined): void {
  if (!isFrozen(doc) || !submitted) return
  const changed = frozenChanges(doc.data ?? {}, submitted)
  if (!changed.length) return
  const names = changed.map((f) => `“${labels[f]}”`).join('、')
  throw frozenError(changed.map((f) => ({ field: f, message: `公文已签发，“${labels[f]}”不可再修改` })), names)
}
