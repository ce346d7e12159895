// Every error the API answers with, declared once: code, HTTP status and Chinese message.
export const errors = {
  VALIDATION: { status: 400, message: '请求数据不符合要求' },
  FORM_INVALID: { status: 400, message: '笺的填写内容不符合要求' },
  ROUTE_INVALID: { status: 400, message: '此步骤不允许该办理方式' },
  HANDLER_INVALID: { status: 400, message: '下一步办理人不符合要求' },
  FIELD_FORBIDDEN: { status: 403, message: '此步骤无权修改该字段' },
  UNAUTHENTICATED: { status: 401, message: '请先登录或提供有效的 API 密钥' },
  LOGIN_FAILED: { status: 401, message: '用户名或密码错误' },
  ACCOUNT_LOCKED: { status: 423, message: '账号已锁定，请稍后再试或请单位管理员解锁' },
  FORBIDDEN: { status: 403, message: '无权执行此操作' },
  SCOPE_MISSING: { status: 403, message: '此 API 密钥没有该操作所需的权限' },
  CONFLICT: { status: 409, message: '当前状态不允许此操作' },
  NOT_FOUND: { status: 404, message: '未找到' },
  TASK_CLOSED: { status: 409, message: '该待办已办理或已被收回，不能重复办理' },
  DOCUMENT_FROZEN: { status: 409, message: '公文已签发，正文、附件及标题、主送、抄送等字段不可再修改；如需更正，请另起公文并引用原文' },
  SEAL_MISMATCH: { status: 409, message: '正文文件与盖章时的记录不一致，可能已被篡改，请联系管理员' },
  BODY_TOO_LARGE: { status: 413, message: '请求体过大' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: '不支持该文件类型' },
  TOO_MANY_REQUESTS: { status: 429, message: '请求过于频繁，请稍后再试' },
  ENGINE_UNAVAILABLE: { status: 503, message: '流程引擎暂不可用，请稍后重试' },
  BUSY: { status: 503, message: '服务器繁忙，请稍后重试' },
  INTERNAL: { status: 500, message: '服务器内部错误，请联系管理员并提供请求编号' },
} as const

export type ErrorCode = keyof typeof errors

export interface FieldProblem {
  field: string
  message: string
}

export class AppError extends Error {
  readonly statusCode: number
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: FieldProblem[],
    options?: { cause?: unknown },
  ) {
    super(message ?? errors[code].message, options)
    this.statusCode = errors[code].status
  }

  /** Seconds after which the request may succeed; sent as Retry-After (with BUSY). */
  retryAfter?: number
}

export const fail = (code: ErrorCode, message?: string, details?: FieldProblem[]) => new AppError(code, message, details)
