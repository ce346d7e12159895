// Completing a user task: validate and claim it in PostgreSQL (state 'completing', with the
// submission), then complete it in the engine. The engine's inbox listener applies the stored
// submission — the task's state, the 笺 changes and the routing-log entry — inside the engine's
// own transaction, so the step move and our record commit together, once. Nothing entered is
// lost when the engine or the server fails in between: a retry loop sends what is still stored.
// Each stored completion retries on its own backoff; one the engine keeps refusing becomes a dead
// letter after the last attempt (the row stays 'completing', stuck, with the whole submission) for
// the unit admin to retry or discard. An engine outage delays but never dead-letters a completion.
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import { EngineError, type RouteTarget, type WorkflowEngine } from '../../engine/port.ts'
import { AppError, fail } from '../errors.ts'
import type { Forms } from '../forms/forms.ts'
import { roleLabel } from '../labels.ts'
import { latestVersionOf } from './files.ts'
import { assertFieldsUnfrozen } from './frozen.ts'
import { checkCoIssuers } from './joint-issuance.ts'
import { resolveRecipientFields } from '../org-tree/recipients.ts'
import { recordedChannel, type Principal } from './principal.ts'
import type { ProcessModels } from './process-models.ts'
import { backoffMs, defaultRetryPolicy, SlotRunner, withTimeout, type RetryPolicy } from './recovery.ts'
import { canAct } from './tasks.ts'

export interface CompletionInput {
  route: string
  nextHandler?: string | null
  opinion?: string | null
  data?: Record<string, unknown>
}

export interface CompletionResult {
  taskKey: string
  documentId: string
  state: 'completed' | 'pending'
  route: string
  nextHandler: string | null
}

/** What one attempt to hand a stored completion to the engine came to. */
type Attempt =
  | { outcome: 'done' }
  /** The task left the flow without this completion (撤回, 退回, cancelled); the row is settled. */
  | { outcome: 'gone' }
  /** The engine did not answer, or a concurrent change won: the same completion may be sent again. */
  | { outcome: 'outage'; error: string }
  /** The engine ran the completion and refused it. */
  | { outcome: 'refused'; error: string; cause: EngineError }

interface StoredCompletion {
  task_key: string
  unit_id: string
  engine_variables: Record<string, unknown>
  completion_attempts: number
}

/** The automated step that seals the 正文 (用印登记); see automation.ts. */
const SEAL_TOPIC = 'document.seal'

/** Completions the retry loop sends at once. */
const RETRY_CONCURRENCY = 4
/** A completion being sent is leased for this long (the engine client gives up after 15 s, retrying conflicts). */
const LEASE_MS = 30_000
/** One attempt's time limit, within the lease. */
const ATTEMPT_TIMEOUT_MS = 20_000

export class TaskCompletion {
  private readonly runner: SlotRunner<StoredCompletion>

  constructor(
    private readonly knex: Knex,
    private readonly engine: WorkflowEngine,
    private readonly models: ProcessModels,
    private readonly forms: Forms,
    private readonly log: Logger,
    private readonly retry: RetryPolicy = defaultRetryPolicy,
  ) {
    this.runner = new SlotRunner((n) => this.claimDue(n), (row) => this.resend(row), {
      concurrency: RETRY_CONCURRENCY, pollMs: Math.min(1000, retry.baseMs), log, what: 'completion retry loop',
    })
  }

  async complete(p: Principal, taskKey: string, input: CompletionInput, idempotencyKey: string | null): Promise<CompletionResult> {
    if (input.data) input = { ...input, data: await resolveRecipientFields(this.knex, p, input.data) }
    const claimed = await this.knex.transaction(async (trx) => {
      const task = await trx('tasks').where({ task_key: taskKey, unit_id: p.unitId }).forUpdate().first()
      if (!task) throw fail('NOT_FOUND', '未找到该待办')
      if (task.state !== 'open') {
        if (idempotencyKey && task.idempotency_key === idempotencyKey && task.completed_by === p.userId) return { replay: task }
        throw fail('TASK_CLOSED')
      }
      if (!canAct(p, task)) throw fail('FORBIDDEN', '该待办不属于您')
      // 加签 before the handler: the added signer signs (jiaqian.ts), the handler then completes.
      if (task.signer_of) throw fail('TASK_CLOSED', '此待办为加签签署，请签署意见后交回原办理人')
      // 并行加签: the step moves on once the signer added beside the handler has signed.
      if (await trx('added_signers').where({ task_key: taskKey, mode: 'parallel' }).whereNull('signed_at').first())
        throw fail('TASK_CLOSED', '并行加签人尚未签署，请待其签署后再办理')
      const model = await this.models.byKey(task.process_definition_key)
      const step = model?.userTasks.get(task.element_id)
      if (!step || !step.formKey) throw fail('INTERNAL', `流程模型中找不到步骤 ${task.element_id}`)
      const route = step.routes.find((r) => r.name === input.route)
      if (!route) {
        throw fail('ROUTE_INVALID', `此步骤不允许办理方式“${input.route}”，可选：${step.routes.map((r) => r.name).join('、')}`, [
          { field: 'route', message: `可选办理方式：${step.routes.map((r) => r.name).join('、')}` },
        ])
      }
      if (route.opinionRequired && !input.opinion?.trim())
        throw fail('VALIDATION', `办理方式“${route.name}”须填写理由`, [{ field: 'opinion', message: `“${route.name}”须写明理由` }])
      const doc = await trx('documents').where({ id: task.document_id }).forUpdate().first()
      // After 签发 nobody changes what was signed, whatever the step lets them edit.
      assertFieldsUnfrozen(doc, input.data)
      // 联合发文: co-issuing units named at a step that may edit them (拟稿) are checked as at the start.
      if (doc.kind === 'fawen' && input.data && 'coIssuers' in input.data) await checkCoIssuers(trx, p, input.data)
      const merged = this.forms.validateStep(step.formKey, doc.form_version, step.properties, doc.data, input.data ?? {})
      const unit = await trx('units').where({ id: doc.unit_id }).first('allow_blank_signature')
      const { blankSignature } = this.forms.checkOpinion(step.properties, input.opinion, unit.allow_blank_signature)
      const nextHandler = await this.resolveHandler(trx, route, input.nextHandler ?? null, doc)
      // 用印 seals the 正文: a route into the seal step (whatever its id) needs one uploaded.
      if (route.targetTopic === SEAL_TOPIC && !(await latestVersionOf(trx, doc.id, '正文'))) {
        throw fail('CONFLICT', `尚未上传正文，不能${route.name}：请先上传正文（版式文件）再办理`, [{ field: '正文', message: '公文没有正文，不能用印' }])
      }
      // Gateways and multi-instance steps read the 笺 fields the step declares as outputs.
      const variables: Record<string, unknown> = { route: route.name, nextHandler: nextHandler ?? '' }
      for (const field of step.outputs) variables[field] = merged[field] ?? null
      await trx('tasks')
        .where({ task_key: taskKey })
        .update({
          state: 'completing',
          completed_by: p.userId,
          route: route.name,
          next_handler: nextHandler,
          opinion: input.opinion ?? null,
          form_data: JSON.stringify(input.data ?? {}),
          channel: recordedChannel(p),
          idempotency_key: idempotencyKey,
          engine_variables: JSON.stringify(variables),
          blank_signature: blankSignature,
          submitted_at: new Date(),
          // Leased to this request while it calls the engine; the retry loop takes over after that.
          completion_attempts: 0,
          completion_error: null,
          completion_dead_at: null,
          completion_next_at: trx.raw(`now() + ? * interval '1 millisecond'`, [LEASE_MS]),
        })
      return { documentId: task.document_id as string, route: route.name, nextHandler, variables }
    })

    if ('replay' in claimed) {
      const t = claimed.replay
      return { taskKey, documentId: t.document_id, state: t.state === 'completed' ? 'completed' : 'pending', route: t.route, nextHandler: t.next_handler }
    }
    const result: CompletionResult = { taskKey, documentId: claimed.documentId, state: 'completed', route: claimed.route, nextHandler: claimed.nextHandler }
    const attempt = await this.send(p.unitId, taskKey, claimed.variables)
    if (attempt.outcome === 'outage') {
      this.log.warn({ taskKey, err: attempt.error }, 'engine unavailable; the completion is saved and will be retried')
      await this.knex('tasks').where({ task_key: taskKey, state: 'completing' }).update({
        completion_error: attempt.error, completion_next_at: this.knex.raw(`now() + ? * interval '1 millisecond'`, [this.retry.baseMs]),
      })
      return { ...result, state: 'pending' }
    }
    if (attempt.outcome === 'gone') throw fail('TASK_CLOSED', '流程已不在此步骤（可能已被撤销），本次办理未生效')
    if (attempt.outcome === 'refused') {
      // Refused while the handler waits for the answer: reopen the task so they can act again (the
      // form still holds what they entered).
      await this.knex('tasks').where({ task_key: taskKey, state: 'completing' }).update({ state: 'open', completed_by: null, submitted_at: null, idempotency_key: null, completion_next_at: null })
      throw new AppError('ENGINE_UNAVAILABLE', `流程引擎拒绝了本次办理：${attempt.error}`, undefined, { cause: attempt.cause })
    }
    return result
  }

  /** Sends the stored submission to the engine once. */
  private async send(unitId: string, taskKey: string, variables: Record<string, unknown>): Promise<Attempt> {
    try {
      await this.engine.as(unitId).completeTask(taskKey, variables)
      return { outcome: 'done' }
    } catch (err) {
      if (!(err instanceof EngineError)) throw err
      if (err.kind === 'unavailable' || err.kind === 'conflict') return { outcome: 'outage', error: err.message }
      if (err.kind === 'not_found') {
        // Completed by an earlier attempt whose answer was lost, or ended by a move (撤回, 退回).
        const row = await this.knex('tasks').where({ task_key: taskKey }).first('state')
        if (row?.state === 'completed') return { outcome: 'done' }
        await this.knex('tasks').where({ task_key: taskKey, state: 'completing' }).update({ state: 'canceled', closed_at: new Date() })
        return { outcome: 'gone' }
      }
      return { outcome: 'refused', error: err.message, cause: err }
    }
  }

  private async resolveHandler(trx: Knex.Transaction, route: RouteTarget, chosen: string | null, doc: { id: string; unit_id: string }): Promise<string | null> {
    if (!route.targetRole) {
      if (chosen) throw fail('HANDLER_INVALID', `办理方式“${route.name}”无需选择下一步办理人`, [{ field: 'nextHandler', message: '此办理方式无需选择下一步办理人' }])
      return null
    }
    if (chosen) {
      const holder = await trx('users as u')
        .join('user_roles as r', 'r.user_id', 'u.id')
        .where({ 'u.id': chosen, 'u.unit_id': doc.unit_id, 'r.role': route.targetRole })
        .first('u.id')
      if (!holder) {
        throw fail('HANDLER_INVALID', `下一步办理人须为本单位的“${roleLabel(route.targetRole)}”角色人员`, [
          { field: 'nextHandler', message: `“${chosen}”不是本单位具有“${roleLabel(route.targetRole)}”角色的人员` },
        ])
      }
      return chosen
    }
    // A route back to an earlier step goes to whoever handled that step last, if they still hold the role.
    const previous = await trx('tasks as t')
      .join('user_roles as r', (j) => j.on('r.user_id', 't.completed_by').andOnVal('r.role', route.targetRole!))
      .where({ 't.document_id': doc.id, 't.element_id': route.targetId, 't.state': 'completed' })
      .orderBy('t.closed_at', 'desc')
      .first('t.completed_by')
    return previous?.completed_by ?? null
  }

  /** Retries the stored completions the engine did not take (outage, crash, refusal), each on its own backoff. */
  startRetryLoop(): void {
    this.runner.start()
  }

  async stopRetryLoop(): Promise<void> {
    await this.runner.stop()
  }

  /** Leases up to `n` due stored completions, the longest due first (other servers skip them meanwhile). */
  private async claimDue(n: number): Promise<StoredCompletion[]> {
    const { rows } = await this.knex.raw<{ rows: StoredCompletion[] }>(
      `update tasks t set completion_next_at = now() + ? * interval '1 millisecond'
         from (select task_key from tasks
                where state = 'completing' and completion_dead_at is null and (completion_next_at is null or completion_next_at <= now())
                order by completion_next_at nulls first, task_key limit ? for update skip locked) due
        where t.task_key = due.task_key
       returning t.task_key, t.unit_id, t.engine_variables, t.completion_attempts`,
      [LEASE_MS, n],
    )
    return rows
  }

  /** One retry of a stored completion, within its time limit; records the outcome on the row. */
  private async resend(row: StoredCompletion): Promise<void> {
    const log = this.log.child({ taskKey: row.task_key })
    const attempt = await withTimeout(this.send(row.unit_id, row.task_key, row.engine_variables), ATTEMPT_TIMEOUT_MS, 'completing the task in the engine')
      .catch((err): Attempt => ({ outcome: 'outage', error: err instanceof Error ? err.message : String(err) }))
    // Fenced on the attempt this lease was for: a row retried or discarded meanwhile is left alone.
    const stored = () => this.knex('tasks').where({ task_key: row.task_key, state: 'completing', completion_attempts: row.completion_attempts }).whereNull('completion_dead_at')
    const later = (ms: number) => this.knex.raw(`now() + ? * interval '1 millisecond'`, [ms])
    switch (attempt.outcome) {
      case 'done':
        log.info({ attempts: row.completion_attempts + 1 }, 'a saved completion reached the engine')
        return
      case 'gone':
        // The engine ended the task without this completion; its delete listener settled the row.
        log.warn('a saved completion found its task gone from the flow')
        return
      case 'outage':
        // Not the completion's fault: try again soon, without counting towards the dead letter.
        await stored().update({ completion_error: attempt.error, completion_next_at: later(this.retry.baseMs) })
        log.debug({ err: attempt.error }, 'retrying a saved completion failed: the engine is unavailable')
        return
      case 'refused': {
        const attempts = row.completion_attempts + 1
        if (attempts >= this.retry.maxAttempts) {
          await stored().update({ completion_attempts: attempts, completion_error: attempt.error, completion_dead_at: this.knex.fn.now() })
          log.error({ attempts, err: attempt.error }, 'a saved completion given up after the last attempt: a dead letter for the unit admin')
        } else {
          const delay = backoffMs(this.retry, attempts)
          await stored().update({ completion_attempts: attempts, completion_error: attempt.error, completion_next_at: later(delay) })
          log.warn({ attempts, err: attempt.error, retryInMs: delay }, 'the engine refused a saved completion; will retry')
        }
      }
    }
  }
}
