// 加签: at a step whose model allows it (binding property addSigner, e.g. "before,after"), the
// handler adds a person of the unit before or after themselves.
// - before: the signer gets the task first (the engine's task delegation: it cannot be completed
//   meanwhile), signs it with an opinion, and the task returns to the handler, who sends it on.
// - after: the handler's opinion is recorded now, the task goes to the signer, and the signer
//   completes the step (chooses the route) as its handler.
// - parallel: the signer gets a task of their own at the same step (the engine starts the step a
//   second time beside the handler's); they sign with an opinion, which ends their task without
//   moving the flow. The handler cannot send the step on until they have signed.
// Each is a routing-log entry; the added signers are listed for the tracking diagram.
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import { EngineError, type WorkflowEngine } from '../../engine/port.ts'
import { AppError, fail } from '../errors.ts'
import type { Principal } from './principal.ts'
import type { ProcessModels } from './process-models.ts'
import { canAct } from './tasks.ts'

export type AddSignerMode = 'before' | 'after' | 'parallel'
export const addSignerModes: Record<AddSignerMode, string> = { before: '前加签', after: '后加签', parallel: '并行加签' }

type Task = Record<string, any>

export class Jiaqian {
  constructor(
    private readonly knex: Knex,
    private readonly engine: WorkflowEngine,
    private readonly models: ProcessModels,
    private readonly log: Logger,
  ) {}

  /** What the task page needs: the modes the step allows, and whether a signer added before is pending. */
  async options(p: Principal, taskKey: string) {
    const task = await this.knex('tasks').where({ task_key: taskKey, unit_id: p.unitId }).first()
    if (!task || !canAct(p, task)) throw fail('NOT_FOUND', '未找到该待办')
    const pending = await this.knex('added_signers as a')
      .join('users as u', 'u.id', 'a.signer_id')
      .join('users as b', 'b.id', 'a.added_by')
      .where({ 'a.task_key': taskKey })
      .whereIn('a.mode', ['before', 'parallel'])
      .whereNull('a.signed_at')
      .first('a.signer_id as signerId', 'u.name as signerName', 'a.added_by as addedBy', 'b.name as addedByName', 'a.mode as mode')
    const modes = task.state === 'open' && !task.signer_of && !pending ? await this.modes(task) : []
    return { modes, pending: task.signer_of || pending?.mode === 'parallel' ? pending ?? null : null, mustSign: !!task.signer_of && task.assignee === p.userId }
  }

  /** Adds a signer to my open task. */
  async add(p: Principal, taskKey: string, input: { signer: string; mode: AddSignerMode; opinion?: string | null }) {
    const dedupKey = `jiaqian:${taskKey}:${Date.now()}`
    const { task, signer } = await this.knex.transaction(async (trx) => {
      const task = await this.openTaskOf(trx, p, taskKey)
      if (task.signer_of) throw fail('TASK_CLOSED', '已有加签人尚未签署')
      if (await trx('added_signers').where({ task_key: taskKey, mode: 'parallel' }).whereNull('signed_at').first()) throw fail('TASK_CLOSED', '已有加签人尚未签署')
      const modes = await this.modes(task)
      if (!modes.includes(input.mode)) {
        throw fail('VALIDATION', `“${task.step_name}”步骤不能${addSignerModes[input.mode] ?? '加签'}`, [
          { field: 'mode', message: modes.length ? `可选：${modes.map((m) => addSignerModes[m]).join('、')}` : '此步骤不能加签' },
        ])
      }
      const signer = await trx('users').where({ id: input.signer, unit_id: p.unitId }).whereNot('password_hash', '!').first('id', 'name')
      if (!signer) throw fail('VALIDATION', '加签人须为本单位人员', [{ field: 'signer', message: `“${input.signer}”不是本单位人员` }])
      if (signer.id === p.userId || signer.id === task.assignee) throw fail('VALIDATION', '不能给自己加签', [{ field: 'signer', message: '加签人不能是本步骤的办理人' }])
      if (input.mode === 'after' && !input.opinion?.trim()) throw fail('VALIDATION', '后加签须先填写本人意见', [{ field: 'opinion', message: '请填写意见' }])
      await trx('added_signers').insert({
        document_id: task.document_id, unit_id: task.unit_id, task_key: taskKey, step: task.element_id, step_name: task.step_name,
        mode: input.mode, added_by: p.userId, signer_id: signer.id,
      })
      if (input.mode === 'before') await trx('tasks').where({ task_key: taskKey }).update({ signer_of: task.assignee ?? p.userId })
      const note = input.mode === 'before' ? `请${signer.name}先行审核` : input.mode === 'after' ? `请${signer.name}审核后办理` : `请${signer.name}同时审核`
      await this.record(trx, task, dedupKey, p, addSignerModes[input.mode], `${input.opinion?.trim() ? `${input.opinion.trim()}（${note}）` : note}`)
      return { task, signer }
    })
    try {
      if (input.mode === 'before') await this.engine.as(task.unit_id).addSignerBefore(taskKey, p.userId, signer.id)
      else if (input.mode === 'after') await this.engine.as(task.unit_id).assignTask(taskKey, signer.id)
      else await this.markParallelTask(await this.engine.as(task.unit_id).addSignerParallel(taskKey, signer.id), task.assignee ?? p.userId)
    } catch (err) {
      await this.takeBack(taskKey, dedupKey, signer.id, input.mode, err)
      throw engineFailure(err)
    }
    await this.acted(taskKey)
    return { taskKey, documentId: task.document_id, signer: signer.id, mode: input.mode }
  }

  /** The signer added before the handler signs: their opinion is logged and the task returns to the handler. */
  async sign(p: Principal, taskKey: string, input: { opinion: string }) {
    const dedupKey = `jiaqian:${taskKey}:${Date.now()}`
    const task = await this.knex.transaction(async (trx) => {
      const task = await this.openTaskOf(trx, p, taskKey)
      if (!task.signer_of) throw fail('TASK_CLOSED', '此待办无需加签签署')
      const before = await trx('added_signers').where({ task_key: taskKey, mode: 'before' }).whereNull('signed_at').first('id')
      // A parallel signer's own task: the row is the handler's task's, at this step of this document.
      const row = before ?? await trx('added_signers').where({ document_id: task.document_id, step: task.element_id, mode: 'parallel', signer_id: task.assignee }).whereNull('signed_at').orderBy('id', 'desc').first('id')
      if (!row) throw fail('TASK_CLOSED', '此待办无需加签签署')
      await trx('added_signers').where({ id: row.id }).update({ signed_at: trx.fn.now() })
      if (before) await trx('tasks').where({ task_key: taskKey }).update({ signer_of: null })
      await this.record(trx, task, dedupKey, p, '加签签署', input.opinion.trim())
      return { ...task, rowId: row.id, parallel: !before } as Task
    })
    try {
      if (task.parallel) await this.engine.as(task.unit_id).endAddedTask(taskKey)
      else await this.engine.as(task.unit_id).returnToHandler(taskKey)
    } catch (err) {
      if (!(err instanceof EngineError && err.kind === 'unavailable')) {
        await this.knex.transaction(async (trx) => {
          await trx('added_signers').where({ id: task.rowId }).update({ signed_at: null })
          if (!task.parallel) await trx('tasks').where({ task_key: taskKey }).update({ signer_of: task.signer_of })
          await trx('routing_log').where({ dedup_key: dedupKey }).del()
        })
      }
      throw engineFailure(err)
    }
    if (!task.parallel) await this.acted(taskKey)
    return { taskKey, documentId: task.document_id, returnedTo: task.parallel ? null : task.signer_of }
  }

  /** The signers added on a document, with where each stands, for the tracking diagram. */
  async ofDocument(p: Principal, documentId: string) {
    return this.knex('added_signers as a')
      .join('users as u', 'u.id', 'a.signer_id')
      .join('users as b', 'b.id', 'a.added_by')
      .leftJoin('tasks as t', 't.task_key', 'a.task_key')
      .where({ 'a.document_id': documentId, 'a.unit_id': p.unitId })
      .orderBy('a.id')
      .select(
        'a.step', 'a.step_name as stepName', 'a.mode', 'a.signer_id as signerId', 'u.name as signerName', 'b.name as addedByName', 'a.created_at as createdAt',
        this.knex.raw(`coalesce(a.signed_at, case when a.mode = 'after' and t.state = 'completed' and t.completed_by = a.signer_id then t.closed_at end) as "signedAt"`),
        this.knex.raw(`case when a.signed_at is not null or (a.mode = 'after' and t.state = 'completed' and t.completed_by = a.signer_id) then 'signed'
                            when t.state in ('open', 'completing', 'moving') then 'open' else 'canceled' end as state`),
      )
  }

  /**
   * The engine's assignment (to the signer, or back) cleared the opened mark; the step was acted
   * on, so the sender of the previous step can no longer withdraw it (撤回).
   */
  private async acted(taskKey: string) {
    await this.knex('tasks').where({ task_key: taskKey }).whereNull('opened_at').update({ opened_at: this.knex.fn.now() })
  }

  /**
   * The parallel signer's task, written by the engine's inbox listener, is marked as a signer's:
   * it is signed (sign), never completed; `signer_of` names the handler beside whom it was added.
   */
  private async markParallelTask(signerTaskKey: string, handler: string) {
    for (let i = 0; i < 50; i++) {
      if (await this.knex('tasks').where({ task_key: signerTaskKey }).update({ signer_of: handler })) return
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new EngineError('invalid_state', `the inbox has no row for the added task ${signerTaskKey}`)
  }

  private async modes(task: Task): Promise<AddSignerMode[]> {
    const model = await this.models.byKey(task.process_definition_key)
    const step = model?.userTasks.get(task.element_id)
    const allowed = (step?.properties.addSigner ?? '').split(',').map((s) => s.trim())
    return (Object.keys(addSignerModes) as AddSignerMode[]).filter((m) => allowed.includes(m))
  }

  private async openTaskOf(trx: Knex.Transaction, p: Principal, taskKey: string): Promise<Task> {
    const task = await trx('tasks').where({ task_key: taskKey, unit_id: p.unitId }).forUpdate().first()
    if (!task) throw fail('NOT_FOUND', '未找到该待办')
    if (task.state !== 'open') throw fail('TASK_CLOSED')
    if (!canAct(p, task)) throw fail('FORBIDDEN', '该待办不属于您')
    return task
  }

  private async takeBack(taskKey: string, dedupKey: string, signer: string, mode: AddSignerMode, err: unknown) {
    this.log.warn({ err, taskKey }, 'adding a signer failed in the engine')
    // 'unavailable': maybe applied; the row and entry stay, as for the other moves.
    if (err instanceof EngineError && err.kind === 'unavailable') return
    await this.knex.transaction(async (trx) => {
      await trx('added_signers').where({ task_key: taskKey, signer_id: signer, mode }).whereNull('signed_at').del()
      if (mode === 'before') await trx('tasks').where({ task_key: taskKey }).update({ signer_of: null })
      await trx('routing_log').where({ dedup_key: dedupKey }).del()
    })
  }

  private async record(trx: Knex.Transaction, task: Task, dedupKey: string, p: Principal, route: string, opinion: string | null) {
    await trx('routing_log').insert({
      document_id: task.document_id, unit_id: task.unit_id, dedup_key: dedupKey, step: task.element_id, step_name: task.step_name,
      actor_id: p.userId, actor_name: p.name, route, opinion, channel: p.channel, at: new Date(),
    })
  }
}

function engineFailure(err: unknown): AppError {
  if (err instanceof EngineError && err.kind !== 'unavailable') return new AppError('TASK_CLOSED', `流程引擎拒绝了该操作：${err.message}`, undefined, { cause: err })
  return new AppError('ENGINE_UNAVAILABLE', undefined, undefined, { cause: err })
}
