// Completing a user task: validate and claim it in PostgreSQL (state 'completing', with the
// submission), then complete it in the engine. The engine's inbox listener applies the stored
// submission — the task's state, the 笺 changes and the routing-log entry — inside the engine's
// own transaction, so the step move and our record commit together, once. Nothing entered is
// lost when the engine or the server fails in between: a retry loop sends what is still stored.
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import { EngineError, type RouteTarget, type WorkflowEngine } from '../../engine/port.ts'
import { AppError, fail } from '../errors.ts'
import type { Forms } from '../forms/forms.ts'
import type { Principal } from './principal.ts'
import type { ProcessModels } from './process-models.ts'
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

export class TaskCompletion {
  private retryTimer: NodeJS.Timeout | null = null

  constructor(
    private readonly knex: Knex,
    private readonly engine: WorkflowEngine,
    private readonly models: ProcessModels,
    private readonly forms: Forms,
    private readonly log: Logger,
  ) {}

  async complete(p: Principal, taskKey: string, input: CompletionInput, idempotencyKey: string | null): Promise<CompletionResult> {
    const claimed = await this.knex.transaction(async (trx) => {
      const task = await trx('tasks').where({ task_key: taskKey, unit_id: p.unitId }).forUpdate().first()
      if (!task) throw fail('NOT_FOUND', '未找到该待办')
      if (task.state !== 'open') {
        if (idempotencyKey && task.idempotency_key === idempotencyKey && task.completed_by === p.userId) return { replay: task }
        throw fail('TASK_CLOSED')
      }
      if (!canAct(p, task)) throw fail('FORBIDDEN', '该待办不属于您')
      const model = await this.models.byKey(task.process_definition_key)
      const step = model?.userTasks.get(task.element_id)
      if (!step || !step.formKey) throw fail('INTERNAL', `流程模型中找不到步骤 ${task.element_id}`)
      const route = step.routes.find((r) => r.name === input.route)
      if (!route) {
        throw fail('ROUTE_INVALID', `此步骤不允许办理方式“${input.route}”，可选：${step.routes.map((r) => r.name).join('、')}`, [
          { field: 'route', message: `可选办理方式：${step.routes.map((r) => r.name).join('、')}` },
        ])
      }
      const doc = await trx('documents').where({ id: task.document_id }).forUpdate().first()
      const merged = this.forms.validateStep(step.formKey, doc.form_version, step.properties, doc.data, input.data ?? {})
      const unit = await trx('units').where({ id: doc.unit_id }).first('allow_blank_signature')
      const { blankSignature } = this.forms.checkOpinion(step.properties, input.opinion, unit.allow_blank_signature)
      const nextHandler = await this.resolveHandler(trx, route, input.nextHandler ?? null, doc)
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
          channel: p.channel,
          idempotency_key: idempotencyKey,
          engine_variables: JSON.stringify(variables),
          blank_signature: blankSignature,
          submitted_at: new Date(),
        })
      return { documentId: task.document_id as string, route: route.name, nextHandler, variables }
    })

    if ('replay' in claimed) {
      const t = claimed.replay
      return { taskKey, documentId: t.document_id, state: t.state === 'completed' ? 'completed' : 'pending', route: t.route, nextHandler: t.next_handler }
    }
    const result: CompletionResult = { taskKey, documentId: claimed.documentId, state: 'completed', route: claimed.route, nextHandler: claimed.nextHandler }
    const outcome = await this.submit(taskKey, claimed.variables)
    if (outcome === 'pending') return { ...result, state: 'pending' }
    if (outcome === 'gone') throw fail('TASK_CLOSED', '流程已不在此步骤（可能已被撤销），本次办理未生效')
    return result
  }

  /** Sends the stored submission to the engine; 'pending' leaves it for the retry loop. */
  private async submit(taskKey: string, variables: Record<string, unknown>): Promise<'done' | 'pending' | 'gone'> {
    try {
      await this.engine.completeTask(taskKey, variables)
      return 'done'
    } catch (err) {
      if (!(err instanceof EngineError)) throw err
      if (err.kind === 'unavailable' || err.kind === 'conflict') {
        this.log.warn({ taskKey, err: err.message }, 'engine unavailable; the completion is saved and will be retried')
        return 'pending'
      }
      if (err.kind === 'not_found') {
        // Completed by an earlier attempt whose answer was lost, or ended by a move (撤回, 退回).
        const row = await this.knex('tasks').where({ task_key: taskKey }).first('state')
        if (row?.state === 'completed') return 'done'
        await this.knex('tasks').where({ task_key: taskKey, state: 'completing' }).update({ state: 'canceled', closed_at: new Date() })
        return 'gone'
      }
      // Refused outright: reopen the task so the handler can act again.
      await this.knex('tasks').where({ task_key: taskKey, state: 'completing' }).update({ state: 'open', completed_by: null, submitted_at: null, idempotency_key: null })
      throw new AppError('ENGINE_UNAVAILABLE', `流程引擎拒绝了本次办理：${err.message}`, undefined, { cause: err })
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
        throw fail('HANDLER_INVALID', `下一步办理人须为本单位的“${route.targetRole}”角色人员`, [
          { field: 'nextHandler', message: `“${chosen}”不是本单位具有“${route.targetRole}”角色的人员` },
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

  /** Retries completions the engine did not take (outage, crash) until the engine settles them. */
  startRetryLoop(intervalMs = 2000): void {
    const tick = async () => {
      try {
        const stuck = await this.knex('tasks')
          .where({ state: 'completing' })
          .andWhere('submitted_at', '<', new Date(Date.now() - intervalMs))
          .orderBy('submitted_at')
          .limit(50)
          .select('task_key', 'engine_variables')
        for (const t of stuck) {
          const outcome = await this.submit(t.task_key, t.engine_variables).catch((err) => {
            this.log.warn({ err, taskKey: t.task_key }, 'retrying a saved completion failed')
            return 'pending' as const
          })
          if (outcome === 'gone') {
            // The engine ended the task without this completion; its delete listener settled the row.
            this.log.warn({ taskKey: t.task_key }, 'a saved completion found its task gone from the flow')
          }
        }
      } catch (err) {
        this.log.warn({ err }, 'completion retry loop could not read the inbox')
      } finally {
        if (this.retryTimer) this.retryTimer = setTimeout(tick, intervalMs)
      }
    }
    this.retryTimer = setTimeout(tick, intervalMs)
  }

  stopRetryLoop(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = null
  }
}
