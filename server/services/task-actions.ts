// 撤回, 退回 and 转办: the moves a handler may make outside the routes drawn on a step. The
// affected inbox rows are checked and marked 'moving' (so nobody opens or completes them) with
// the routing-log entry in one transaction; then the engine moves the instance, and its inbox
// listener cancels the rows and writes the new task in the engine's own transaction. If the
// engine refuses, the mark and the entry are taken back; if nobody can tell (the engine or the
// server died in between), recoverMoves() asks the engine later and settles it either way.
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import { EngineError, type WorkflowEngine } from '../../engine/port.ts'
import { AppError, fail } from '../errors.ts'
import { recordedChannel, type Principal } from './principal.ts'
import type { ProcessModels } from './process-models.ts'
import { canAct } from './tasks.ts'

type Task = Record<string, any>

/** How long 撤回 waits for the automated steps after a completion to hand the flow to a person. */
const WITHDRAW_SETTLE_MS = 10_000

export class TaskActions {
  constructor(
    private readonly knex: Knex,
    private readonly engine: WorkflowEngine,
    private readonly models: ProcessModels,
    private readonly log: Logger,
  ) {}

  /** Earlier steps of the document this task may be returned to: their last handler, newest first. */
  async returnTargets(task: Task): Promise<Array<{ step: string; stepName: string; handlerId: string; handlerName: string; taskKey: string }>> {
    const model = await this.models.byKey(task.process_definition_key)
    const here = model?.userTasks.get(task.element_id)
    if (!model || !here || here.multiInstance || here.subprocess) return []
    const done = await this.knex('tasks as t')
      .join('users as u', 'u.id', 't.completed_by')
      .where({ 't.document_id': task.document_id, 't.state': 'completed' })
      .whereNot('t.element_id', task.element_id)
      .orderBy('t.closed_at', 'desc')
      .select('t.task_key', 't.element_id', 't.step_name', 't.completed_by', 'u.name')
    const seen = new Set<string>()
    const targets = []
    for (const t of done) {
      const step = model.userTasks.get(t.element_id)
      if (!step || step.multiInstance || step.subprocess || seen.has(t.element_id)) continue
      seen.add(t.element_id)
      targets.push({ step: t.element_id, stepName: t.step_name, handlerId: t.completed_by, handlerName: t.name, taskKey: t.task_key })
    }
    return targets
  }

  /** 退回: my open task goes back to an earlier step and the person who handled it. */
  async returnTo(p: Principal, taskKey: string, input: { toTaskKey: string; opinion?: string | null }) {
    const dedupKey = `return:${taskKey}`
    const { task, target } = await this.knex.transaction(async (trx) => {
      const task = await this.openTaskOf(trx, p, taskKey)
      const target = (await this.returnTargets(task)).find((t) => t.taskKey === input.toTaskKey)
      if (!target) throw fail('VALIDATION', '只能退回到本公文此前办理过的步骤', [{ field: 'toTaskKey', message: '不是可退回的步骤' }])
      const others = await trx('tasks').where({ document_id: task.document_id, state: 'open' }).whereNot({ task_key: taskKey }).first('task_key')
      if (others) throw fail('TASK_CLOSED', '本公文还有其他并行办理中的步骤，不能退回')
      await this.markMoving(trx, [taskKey], dedupKey)
      await this.record(trx, task, dedupKey, p, '退回', `退回至${target.stepName}（${target.handlerName}）${input.opinion ? `：${input.opinion}` : ''}`)
      return { task, target }
    })
    await this.move(task, [taskKey], target.step, target.handlerId, dedupKey)
    return { taskKey, documentId: task.document_id, returnedTo: { step: target.step, stepName: target.stepName, handler: target.handlerId } }
  }

  /** 撤回: the sender takes back a task they completed, while nobody has opened what it produced. */
  async withdraw(p: Principal, taskKey: string, input: { opinion?: string | null }) {
    const dedupKey = `withdraw:${taskKey}:${Date.now()}`
    await this.untilNextStep(p, taskKey)
    const { mine, next } = await this.knex.transaction(async (trx) => {
      const mine = await trx('tasks').where({ task_key: taskKey, unit_id: p.unitId, completed_by: p.userId }).first()
      if (!mine) throw fail('NOT_FOUND', '未找到您办理过的该事项')
      if (mine.state !== 'completed') throw fail('TASK_CLOSED', '该事项尚未办结，无需撤回')
      const model = await this.models.byKey(mine.process_definition_key)
      const step = model?.userTasks.get(mine.element_id)
      if (!step || step.multiInstance || step.subprocess) throw fail('TASK_CLOSED', `“${mine.step_name}”步骤不支持撤回`)
      // What my completion produced: the tasks the engine created in the same transaction that
      // completed mine (the inbox is written there, so they are all here already).
      const later = await trx('tasks').where({ document_id: mine.document_id }).where('created_at', '>=', mine.closed_at).whereNot({ task_key: taskKey }).forUpdate().select()
      const next = later.filter((t) => t.state === 'open')
      if (later.some((t) => t.state === 'completed' || t.state === 'completing')) {
        throw fail('TASK_CLOSED', '公文已由后续步骤办理，不能撤回')
      }
      if (next.length === 0) {
        // Nobody has the document: its flow ended, or an automated step still runs (see untilNextStep).
        const doc = await trx('documents').where({ id: mine.document_id }).first('status')
        if (doc?.status === 'running') throw fail('TASK_CLOSED', '系统正在自动办理后续步骤（如编号、用印），请稍后再撤回')
        throw fail('TASK_CLOSED', '公文已办结，不能撤回')
      }
      const opened = next.find((t) => t.opened_at)
      if (opened) throw fail('TASK_CLOSED', `下一步办理人已打开“${opened.step_name}”，不能撤回`)
      // Marked 'moving', the rows cannot be opened between this check and the engine's move.
      await this.markMoving(trx, next.map((t) => t.task_key), dedupKey)
      await this.record(trx, mine, dedupKey, p, '撤回', input.opinion ?? null)
      return { mine, next }
    })
    await this.move(mine, next.map((t) => t.task_key), mine.element_id, p.userId, dedupKey)
    return { taskKey, documentId: mine.document_id, withdrawnFrom: next.map((t) => t.step_name) }
  }

  /**
   * Waits (briefly) until the flow has come to rest after my completion: what it produced is a
   * user task (in the inbox, written in the engine's own transaction) or the flow ended. Between
   * the two, automated steps (编号, 用印登记, an async continuation) may run for a moment; nobody
   * can have opened anything then, so 撤回 must not be refused for it.
   */
  private async untilNextStep(p: Principal, taskKey: string, timeoutMs = WITHDRAW_SETTLE_MS) {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const mine = await this.knex('tasks').where({ task_key: taskKey, unit_id: p.unitId, completed_by: p.userId, state: 'completed' }).first('document_id', 'closed_at')
      if (!mine) return
      const produced = await this.knex('tasks').where({ document_id: mine.document_id }).where('created_at', '>=', mine.closed_at).whereNot({ task_key: taskKey }).first('task_key')
      if (produced) return
      const doc = await this.knex('documents').where({ id: mine.document_id }).first('status')
      if (doc?.status !== 'running' || Date.now() >= deadline) return
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  /** 转办: my open task goes to a colleague holding the same role (in the same department, if the role is scoped). */
  async transfer(p: Principal, taskKey: string, input: { to: string; opinion?: string | null }) {
    const dedupKey = `transfer:${taskKey}:${Date.now()}`
    const task = await this.knex.transaction(async (trx) => {
      const task = await this.openTaskOf(trx, p, taskKey)
      if (!task.candidate_role) throw fail('VALIDATION', `“${task.step_name}”由指定人员办理，不能转办`, [{ field: 'to', message: '此步骤不能转办' }])
      const [role, department] = String(task.candidate_role).split('@')
      const q = trx('users as u').join('user_roles as r', 'r.user_id', 'u.id').where({ 'u.id': input.to, 'u.unit_id': p.unitId, 'r.role': role })
      if (department) q.where('u.department_id', department)
      const colleague = await q.first('u.id', 'u.name')
      if (!colleague || colleague.id === p.userId) {
        throw fail('HANDLER_INVALID', '只能转办给本单位具有相同角色的其他人员', [{ field: 'to', message: `“${input.to}”不能办理“${task.step_name}”` }])
      }
      await this.record(trx, task, dedupKey, p, '转办', `转办给${colleague.name}${input.opinion ? `：${input.opinion}` : ''}`)
      return task
    })
    try {
      // The engine's assignment listener gives the inbox row to the colleague in its own transaction.
      await this.engine.as(task.unit_id).assignTask(taskKey, input.to)
    } catch (err) {
      if (!(err instanceof EngineError && err.kind === 'unavailable')) await this.knex('routing_log').where({ dedup_key: dedupKey }).del()
      throw engineFailure(err)
    }
    return { taskKey, documentId: task.document_id, assignee: input.to }
  }

  /**
   * Settles moves whose outcome nobody saw (the engine or the server died mid-move): a task the
   * engine still has goes back to the inbox and its routing-log entry is taken back.
   */
  async recoverMoves(olderThanMs = 30_000): Promise<void> {
    const stale = await this.knex('tasks').where({ state: 'moving' }).andWhere('moving_since', '<', new Date(Date.now() - olderThanMs)).limit(50).select('task_key', 'unit_id', 'move_log_key')
    for (const t of stale) {
      if (!(await this.engine.as(t.unit_id).taskExists(t.task_key).catch(() => null))) continue
      await this.reopen([t.task_key], t.move_log_key)
      this.log.warn({ taskKey: t.task_key }, 'a move the engine never made was taken back')
    }
  }

  private async openTaskOf(trx: Knex.Transaction, p: Principal, taskKey: string): Promise<Task> {
    const task = await trx('tasks').where({ task_key: taskKey, unit_id: p.unitId }).forUpdate().first()
    if (!task) throw fail('NOT_FOUND', '未找到该待办')
    if (task.state !== 'open') throw fail('TASK_CLOSED')
    if (!canAct(p, task)) throw fail('FORBIDDEN', '该待办不属于您')
    return task
  }

  private async markMoving(trx: Knex.Transaction, taskKeys: string[], dedupKey: string) {
    await trx('tasks').whereIn('task_key', taskKeys).update({ state: 'moving', moving_since: new Date(), move_log_key: dedupKey })
  }

  private async reopen(taskKeys: string[], dedupKey: string | null) {
    await this.knex.transaction(async (trx) => {
      await trx('tasks').whereIn('task_key', taskKeys).where({ state: 'moving' }).update({ state: 'open', moving_since: null, move_log_key: null })
      if (dedupKey) await trx('routing_log').where({ dedup_key: dedupKey }).del()
    })
  }

  /** Ends the steps holding the tasks and starts `elementId` for a handler; takes the move back if the engine refuses it. */
  private async move(task: Task, cancelTasks: string[], elementId: string, handler: string, dedupKey: string) {
    try {
      await this.engine.as(task.unit_id).moveInstance(task.process_instance_key, { cancelTasks, to: elementId, variables: { nextHandler: handler } })
    } catch (err) {
      // 'unavailable': maybe applied, maybe not; recoverMoves() settles it once the engine answers.
      if (!(err instanceof EngineError && err.kind === 'unavailable')) await this.reopen(cancelTasks, dedupKey)
      this.log.warn({ err, documentId: task.document_id }, 'moving the flow failed')
      throw engineFailure(err)
    }
    this.log.info({ documentId: task.document_id, to: elementId, handler }, 'flow moved')
  }

  private async record(trx: Knex.Transaction, task: Task, dedupKey: string, p: Principal, route: string, opinion: string | null) {
    await trx('routing_log').insert({
      document_id: task.document_id, unit_id: task.unit_id, dedup_key: dedupKey, step: task.element_id, step_name: task.step_name,
      actor_id: p.userId, actor_name: p.name, route, opinion, channel: recordedChannel(p), at: new Date(),
    })
  }
}

function engineFailure(err: unknown): AppError {
  if (err instanceof EngineError && err.kind !== 'unavailable') return new AppError('TASK_CLOSED', `流程引擎拒绝了该操作：${err.message}`, undefined, { cause: err })
  return new AppError('ENGINE_UNAVAILABLE', undefined, undefined, { cause: err })
}
