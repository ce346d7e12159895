// 失败待处理: the unit admin's view of what the retry loops gave up on in their unit — stored
// completions the engine kept refusing (the task stays stuck in 'completing' with the whole
// submission) and notification deliveries whose receiver kept failing — and what to do with them:
// retry (pending again, attempts reset) or discard (a completion reopens the task for its handler,
// the submission kept as a draft to take over; a delivery is marked discarded).
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import { fail } from '../errors.ts'
import type { Principal } from './principal.ts'

export type DeadLetterKind = 'completion' | 'delivery'

export class DeadLetters {
  constructor(
    private readonly knex: Knex,
    private readonly log: Logger,
  ) {}

  /** The unit's dead letters, the latest first. */
  async list(p: Principal) {
    requireUnitAdmin(p)
    const [completions, deliveries] = await Promise.all([
      this.knex('tasks as t')
        .join('documents as d', 'd.id', 't.document_id')
        .leftJoin('users as u', 'u.id', 't.completed_by')
        .where({ 't.unit_id': p.unitId, 't.state': 'completing' })
        .whereNotNull('t.completion_dead_at')
        .orderBy('t.completion_dead_at', 'desc')
        .limit(200)
        .select(
          't.task_key as id', 't.step_name as stepName', 'd.id as documentId', 'd.title', 't.completed_by as handlerId', 'u.name as handlerName',
          't.route', 't.opinion', 't.form_data as data', 't.submitted_at as submittedAt', 't.completion_attempts as attempts',
          't.completion_error as lastError', 't.completion_dead_at as deadAt',
        ),
      this.knex('notification_outbox as o')
        .join('notifications as n', 'n.id', 'o.notification_id')
        .leftJoin('users as u', 'u.id', 'n.user_id')
        .where({ 'n.unit_id': p.unitId, 'o.state': 'failed' })
        .orderBy('o.dead_at', 'desc')
        .limit(200)
        .select(
          this.knex.raw('o.id::text as id'), 'o.channel', 'o.target', 'n.kind', 'n.task_key as taskKey', 'n.document_id as documentId', 'n.title',
          'n.text', 'n.user_id as recipientId', 'u.name as recipientName', 'o.attempts', 'o.last_error as lastError', 'o.created_at as createdAt', 'o.dead_at as deadAt',
        ),
    ])
    return { completions, deliveries }
  }

  /** Sends the item again from the first attempt. */
  async retry(p: Principal, kind: DeadLetterKind, id: string) {
    requireUnitAdmin(p)
    const changed = kind === 'completion'
      ? await this.deadCompletion(p, id).update({ completion_attempts: 0, completion_dead_at: null, completion_next_at: this.knex.fn.now() })
      : await this.deadDelivery(p, id).update({ state: 'pending', attempts: 0, dead_at: null, next_attempt_at: this.knex.fn.now() })
    if (changed === 0) throw notFound()
    this.log.info({ kind, id, unitId: p.unitId, by: p.userId }, 'dead letter sent for retry')
    return { kind, id, state: 'pending' as const }
  }

  /**
   * Gives the item up. A completion reopens its task for the handler (the engine never took it, so
   * the task is still waiting there); the submission stays on the row and the task page offers it
   * as a draft. A delivery is marked discarded.
   */
  async discard(p: Principal, kind: DeadLetterKind, id: string) {
    requireUnitAdmin(p)
    const changed = kind === 'completion'
      ? await this.deadCompletion(p, id).update({
          state: 'open', completed_by: null, submitted_at: null, idempotency_key: null,
          completion_attempts: 0, completion_next_at: null, completion_dead_at: null,
        })
      : await this.deadDelivery(p, id).update({ state: 'discarded' })
    if (changed === 0) throw notFound()
    this.log.info({ kind, id, unitId: p.unitId, by: p.userId }, 'dead letter discarded')
    return { kind, id, state: kind === 'completion' ? ('open' as const) : ('discarded' as const) }
  }

  private deadCompletion(p: Principal, taskKey: string) {
    return this.knex('tasks').where({ task_key: taskKey, unit_id: p.unitId, state: 'completing' }).whereNotNull('completion_dead_at')
  }

  private deadDelivery(p: Principal, id: string) {
    const outboxId = /^\d{1,18}$/.test(id) ? id : '0'
    return this.knex('notification_outbox')
      .where({ id: outboxId, state: 'failed' })
      .whereIn('notification_id', (q) => q.select('id').from('notifications').where({ unit_id: p.unitId }))
  }
}

function requireUnitAdmin(p: Principal): void {
  if (!p.roles.includes('unit_admin')) throw fail('FORBIDDEN', '只有本单位的单位管理员可以处理失败待处理事项')
}

const notFound = () => fail('NOT_FOUND', '未找到该失败待处理事项（可能已处理，或不属于本单位）')
