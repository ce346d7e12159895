// HTTP to Operaton's REST API (/engine-rest): bearer token, time limit, JSON, and the one place
// that turns the engine's error answers into EngineError kinds.
import { setTimeout as sleep } from 'node:timers/promises'
import { EngineError, type EngineErrorKind } from '../port.ts'

export interface RestOptions {
  /** http://host:port of the engine node (with or without /engine-rest). */
  url: string
  token: string
  /** Time limit of one call unless the call sets its own. */
  timeoutMs?: number
  /** Calls as this tenant (a unit): the engine's tenant check then refuses every other tenant's data. */
  tenant?: string
}

export interface CallOptions {
  /** Sent as JSON. */
  body?: unknown
  /** Sent as multipart/form-data (deployments). */
  form?: FormData
  query?: Record<string, string | number | boolean | undefined>
  /** Aborts the call; an abort by the caller is rethrown as it is, not as an engine fault. */
  signal?: AbortSignal
  timeoutMs?: number
}

/** The JSON body of an error answer: `{type, message, code}` (the code is the engine's error code). */
export interface EngineFault {
  type?: string
  message?: string
  code?: number
}

/** What an EngineError made from an HTTP answer carries as its cause. */
export interface FaultCause {
  status: number
  body: EngineFault | string
}

export class Rest {
  readonly base: string
  private readonly timeoutMs: number

  constructor(private readonly options: RestOptions) {
    const url = options.url.replace(/\/+$/, '')
    this.base = url.endsWith('/engine-rest') ? url : `${url}/engine-rest`
    this.timeoutMs = options.timeoutMs ?? 15_000
  }

  /** The same engine, called as one tenant. */
  forTenant(tenant: string): Rest {
    return new Rest({ ...this.options, tenant })
  }

  async call<T = unknown>(method: string, path: string, options: CallOptions = {}): Promise<T> {
    const what = `${method} ${path}`
    const url = new URL(this.base + path)
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v))
    const timeoutMs = options.timeoutMs ?? this.timeoutMs
    const timeout = AbortSignal.timeout(timeoutMs)
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.token}`, accept: 'application/json' }
    if (this.options.tenant) headers['gongwen-tenant'] = this.options.tenant
    let body: string | FormData | undefined
    if (options.form) body = options.form
    else if (options.body !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(options.body)
    }
    let status: number
    let text: string
    try {
      const res = await fetch(url, { method, headers, body, signal })
      status = res.status
      text = await res.text()
    } catch (err) {
      if (options.signal?.aborted) throw err
      const message = timeout.aborted
        ? `${what}: no answer from the engine at ${this.base} within ${timeoutMs} ms`
        : `${what}: engine at ${this.base} unreachable: ${networkReason(err)}`
      throw new EngineError('unavailable', message, { cause: err })
    }
    if (status < 200 || status >= 300) throw faultError(what, status, text)
    try {
      return (text ? JSON.parse(text) : undefined) as T
    } catch (err) {
      throw new EngineError('unavailable', `${what}: the answer is not JSON: ${text.slice(0, 200)}`, { cause: err })
    }
  }
}

function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause
  return cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err)
}

// The REST API reports a missing task or instance in several shapes: a 404 (GET, DELETE), a 500
// RestException wrapping NullValueException ("Cannot complete task x: Cannot find task with id x:
// task is null"), a 400 NotFoundException (assignee), a 500 ProcessEngineException ("ENGINE-13036
// Process instance 'x' cannot be modified. The process instance does not exist"), or a 400 for a
// message nothing waits for ("No process definition or execution matches the parameters").
const NOT_FOUND =
  /cannot find task|\b(task|processInstance|processDefinition|execution|externalTask) is null|does not exist|cannot be found|no deployed process definition found|no process definition or execution matches|no matching/i
// ... but a model element that does not exist (a modification to an unknown activity) is bad input.
const BAD_ELEMENT = /element '.*' does not exist|activity .* does not exist|cannot find activity/i
// The engine lost its database, or the app's inbox functions it calls in every task event failed:
// nothing is wrong with the command itself.
const INFRASTRUCTURE = /PersistenceException|SQLException|JDBC|CannotCreateTransaction|connection (is )?(not available|refused|reset|closed)|gongwen_\w+ failed/i
const OTHER_TENANT = /belongs to no authenticated tenant/i
// Engine error codes (ProcessEngineException.getCode): 1 optimistic locking, 2 deadlock; both mean
// a concurrent transaction won and the same command may simply be sent again.
const RETRYABLE_CODES = new Set([1, 2])

export function faultError(what: string, status: number, text: string): EngineError {
  let fault: EngineFault | undefined
  try {
    const parsed = JSON.parse(text)
    if (parsed && typeof parsed === 'object') fault = parsed as EngineFault
  } catch {
    // not JSON: a proxy's or the servlet container's page
  }
  const engineMessage = fault?.message ?? (text.trim().slice(0, 300) || `HTTP ${status}`)
  const cause: FaultCause = { status, body: fault ?? text }
  if (status === 401 || (status === 403 && !fault?.type)) {
    return new EngineError('unavailable', `${what}: the engine refused the credential (HTTP ${status}); check the engine token`, { cause })
  }
  const kind = faultKind(status, fault?.type, typeof fault?.code === 'number' ? fault.code : undefined, engineMessage)
  const label = fault?.type ? `${fault.type}: ` : ''
  return new EngineError(kind, `${what}: HTTP ${status} ${label}${engineMessage}`, { cause })
}

function faultKind(status: number, type: string | undefined, code: number | undefined, message: string): EngineErrorKind {
  if (status === 404) return 'not_found'
  // The engine's tenant check: to a unit, another unit's instance or task does not exist.
  if (OTHER_TENANT.test(message)) return 'not_found'
  if ((code !== undefined && RETRYABLE_CODES.has(code)) || /OptimisticLocking/.test(type ?? '') || /OptimisticLockingException|ENGINE-03005/.test(message)) {
    return 'conflict'
  }
  if (INFRASTRUCTURE.test(message)) return 'unavailable'
  if (NOT_FOUND.test(message) && !BAD_ELEMENT.test(message)) return 'not_found'
  if (type === 'SuspendedEntityInteractionException' || /\bis suspended\b/i.test(message)) return 'invalid_state'
  // BadUserRequestException: the input is well-formed but the target refuses it now (a task
  // locked by another worker). Parse errors and malformed values are 'rejected'.
  if (status === 400) return type === 'BadUserRequestException' ? 'invalid_state' : 'rejected'
  // A 500 whose body carries an engine error code comes from a ProcessEngineException: the engine
  // ran the command and refused it (an expression that cannot be evaluated, a model that does not
  // parse), rolled it back, and would refuse it again. Anything else (a JVM error, a proxy page)
  // says the engine itself is in trouble.
  if (status >= 500) return typeof code === 'number' ? 'rejected' : 'unavailable'
  return 'rejected'
}

/**
 * Sends a command again when a concurrent transaction won (parallel 会签 completions touch the same
 * multi-instance body): the engine rolled the losing transaction back, so a retry is safe.
 */
export async function retryOnConflict<T>(
  command: () => Promise<T>,
  options: { attempts?: number; onConflict?: (err: EngineError, attempt: number) => void } = {},
): Promise<T> {
  // Eight tries, waits doubling to at most 0.5–1 s: ten signers finishing at once all get through.
  const attempts = options.attempts ?? 8
  for (let attempt = 1; ; attempt++) {
    try {
      return await command()
    } catch (err) {
      if (!(err instanceof EngineError) || err.kind !== 'conflict' || attempt >= attempts) throw err
      options.onConflict?.(err, attempt)
      const base = Math.min(20 * 2 ** attempt, 500)
      await sleep(base + Math.random() * base)
    }
  }
}
