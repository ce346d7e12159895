// 拒收/退文: a recipient registry refuses an 电子来文 at 签收 with a reason (the 拒收 route drawn in
// 分文报批 ends the recipient's instance at 已退文 through the document.refuse step); the sender sees
// 已退文 with the reason on its 分发 list, and its office may re-send a corrected version to that
// unit: a new 电子来文 that names the refused one. What a correction may change: a 更正说明 (required)
// that travels with the new 电子来文; the sealed 正文, 附件, 标题 and 发文字号 of the 发文 stay as signed
// (a change to the signed text is a new 发文 that names the old one, 更正 in documents.ts).
import { randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import { EngineError, type WorkflowEngine } from '../../engine/port.ts'
import { AppError, fail } from '../errors.ts'
import { INCOMING_MESSAGE } from './automation.ts'
import { timeLimitsFor } from './documents.ts'
import type { Principal } from './principal.ts'
import type { ProcessModels } from './process-models.ts'
import type { TaskCompletion } from './task-completion.ts'

/** The route that refuses an 电子来文, as drawn on 签收. */
export const REFUSE_ROUTE = '拒收'
/** Who in the sending unit may re-send: its office. */
const OFFICE_ROLES = ['registry', 'office_head']
const MAX_TEXT = 500

function text(value: unknown, field: string, label: string): string {
  const s = typeof value === 'string' ? value.trim() : ''
  if (!s) throw fail('VALIDATION', `请填写${label}`, [{ field, message: `${label}不能为空` }])
  if (s.length > MAX_TEXT) throw fail('VALIDATION', `${label}过长`, [{ field, message: `${label}不能超过 ${MAX_TEXT} 字` }])
  return s
}

/**
 * document.refuse: records the refusal the 签收 handler chose (the reason is the opinion of that
 * completion), marks the 电子来文 已退文 and tells the sender in its routing log. Idempotent.
 */
export async function recordRefusal(knex: Knex, incomingId: string): Promise<void> {
  await knex.transaction(async (trx) => {
    const doc = await trx('documents').where({ id: incomingId }).forUpdate().first()
    if (!doc) throw new Error(`document ${incomingId} not found`)
    if (await trx('refusals').where({ incoming_document_id: incomingId }).first('reason')) return
    // The job can run before the server has recorded the 签收 task as completed: 'completing' counts.
    const task = await trx('tasks').where({ document_id: incomingId, route: REFUSE_ROUTE }).whereIn('state', ['completing', 'completed'])
      .orderBy('submitted_at', 'desc').first('completed_by', 'opinion', 'submitted_at')
    const reason: string = task?.opinion?.trim() || '（未写明理由）'
    const at: Date = task?.submitted_at ?? new Date()
    const unit = await trx('units').where({ id: doc.unit_id }).first('name')
    const person = task?.completed_by ? await trx('users').where({ id: task.completed_by }).first('name') : null
    if (doc.source_document_id) {
      await trx('refusals').insert({
        incoming_document_id: incomingId, document_id: doc.source_document_id, recipient_unit_id: doc.unit_id, reason, refused_by: task?.completed_by ?? null, refused_at: at,
      })
      const source = await trx('documents').where({ id: doc.source_document_id }).first('id', 'unit_id')
      await log(trx, source, `refuse:${incomingId}`, 'tuiwen', '退文', `${unit.name}${person ? `（${person.name}）` : ''}拒收，理由：${reason}`, at)
    }
    const now = new Date()
    await trx('documents').where({ id: incomingId }).update({
      status: 'refused', completed_at: now, updated_at: now, data: trx.raw('data || ?::jsonb', [JSON.stringify({ refusalReason: reason })]),
    })
  })
}

export class Refusals {
  constructor(
    private readonly knex: Knex,
    private readonly engine: WorkflowEngine,
    private readonly models: ProcessModels,
    private readonly completion: TaskCompletion,
    private readonly log: Logger,
  ) {}

  /** The recipient unit's registry refuses an 电子来文 still waiting at 签收. */
  async refuse(p: Principal, incomingId: string, input: { reason?: unknown }) {
    const doc = await this.knex('documents').where({ id: incomingId, unit_id: p.unitId, kind: 'shouwen' }).whereNotNull('source_document_id').first('id')
    if (!doc) throw fail('NOT_FOUND', '未找到该来文')
    if (!p.roles.includes('registry')) throw fail('FORBIDDEN', '只有本单位收文（机要室）人员可以拒收来文')
    const reason = text(input.reason, 'reason', '拒收理由')
    const open = await this.knex('tasks').where({ document_id: incomingId, state: 'open' }).select('task_key', 'element_id', 'process_definition_key')
    let taskKey: string | null = null
    for (const t of open) {
      const step = (await this.models.byKey(t.process_definition_key))?.userTasks.get(t.element_id)
      if (step?.routes.some((r) => r.name === REFUSE_ROUTE)) taskKey = t.task_key
    }
    if (!taskKey) throw fail('CONFLICT', '该来文已签收或已退文，不能拒收')
    const result = await this.completion.complete(p, taskKey, { route: REFUSE_ROUTE, opinion: reason }, null)
    return { documentId: incomingId, taskKey, state: result.state, reason }
  }

  /** What happened to each recipient's 电子来文 of a 发文: refusals with their reasons and re-sends. */
  async history(p: Principal, documentId: string) {
    const doc = await this.knex('documents').where({ id: documentId, unit_id: p.unitId }).first('id')
    if (!doc) throw fail('NOT_FOUND', '未找到该公文')
    const items = await this.knex('refusals as r').join('units as u', 'u.id', 'r.recipient_unit_id').leftJoin('users as b', 'b.id', 'r.refused_by')
      .where({ 'r.document_id': documentId }).orderBy('r.refused_at')
      .select('r.recipient_unit_id as unitId', 'u.name as unitName', 'r.incoming_document_id as incomingDocumentId', 'r.reason', 'b.name as refusedByName', 'r.refused_at as refusedAt',
        'r.resent_at as resentAt', 'r.resend_note as resendNote', 'r.resent_incoming_id as resentIncomingId')
    return { items }
  }

  /** The sending unit's office re-sends a corrected version to a unit that refused it. */
  async resend(p: Principal, documentId: string, unitId: string, input: { note?: unknown }) {
    const doc = await this.knex('documents').where({ id: documentId, unit_id: p.unitId, kind: 'fawen' }).first('id')
    if (!doc) throw fail('NOT_FOUND', '未找到该公文')
    if (!OFFICE_ROLES.some((r) => p.roles.includes(r))) throw fail('FORBIDDEN', '只有本单位办公室（收发）人员可以重新分发')
    const note = text(input.note, 'note', '更正说明')
    const created = await this.knex.transaction(async (trx) => {
      const source = await trx('documents').where({ id: documentId }).forUpdate().first()
      const refusal = await trx('refusals').where({ document_id: documentId, recipient_unit_id: unitId }).orderBy('refused_at', 'desc').forUpdate().first()
      if (!refusal) throw fail('CONFLICT', '该单位没有退文，无需重新分发', [{ field: 'unitId', message: '该单位未退回此公文' }])
      if (refusal.resent_incoming_id) {
        const again = await trx('documents').where({ id: refusal.resent_incoming_id }).first('process_instance_key')
        // A re-send whose start was lost (engine down) is started again; a started one is done.
        if (again.process_instance_key) throw fail('CONFLICT', '已重新分发，等待对方签收', [{ field: 'unitId', message: '已重新分发' }])
        return { id: refusal.resent_incoming_id as string, unitId, limits: await timeLimitsFor(trx, unitId, source.urgency) }
      }
      const old = await trx('documents').where({ id: refusal.incoming_document_id }).first()
      const limits = await timeLimitsFor(trx, unitId, source.urgency)
      const id = randomUUID()
      const now = new Date()
      const round = Number(old.data?.resendRound ?? 0) + 1
      const sender = await trx('units').where({ id: source.unit_id }).first('name')
      const recipient = await trx('units').where({ id: unitId }).first('name')
      await trx('documents').insert({
        id, unit_id: unitId, kind: 'shouwen', title: source.title, status: 'starting',
        data: JSON.stringify({
          title: source.title, sourceUnit: sender.name, incomingNumber: source.doc_number, urgency: source.urgency ?? '平件',
          correctionNote: note, previousIncomingId: old.id, previousRefusalReason: refusal.reason, resendRound: round,
        }),
        urgency: source.urgency, step_limit: limits.stepLimit, remind_before: limits.remindBefore,
        source_document_id: documentId, source_unit_id: source.unit_id, form_version: old.form_version, previous_incoming_id: old.id,
      })
      await trx('refusals').where({ incoming_document_id: old.id }).update({ resent_by: p.userId, resent_at: now, resend_note: note, resent_incoming_id: id })
      await trx('deliveries').where({ document_id: documentId, recipient_unit_id: unitId })
        .update({ incoming_document_id: id, delivered_at: now, signed_at: null, signed_by: null })
      await log(trx, source, `resend:${id}`, 'tuiwen', '重新分发', `更正后重新分发至${recipient.name}（第 ${round} 次），更正说明：${note}`, now, p)
      return { id, unitId, limits }
    })
    try {
      await this.engine.correlateMessage(unitId, INCOMING_MESSAGE, created.id, { documentId: created.id, unitId, drafter: null, nextHandler: '', ...created.limits })
    } catch (err) {
      if (err instanceof EngineError) throw new AppError('ENGINE_UNAVAILABLE', '流程引擎暂不可用，重新分发已保存，请稍后再试', undefined, { cause: err })
      throw err
    }
    this.log.info({ documentId, unitId, incomingId: created.id }, 'refused document re-sent')
    return { documentId, unitId, incomingDocumentId: created.id, note }
  }
}

async function log(trx: Knex.Transaction, doc: { id: string; unit_id: string }, dedupKey: string, step: string, stepName: string, opinion: string, at: Date, p?: Principal) {
  await trx('routing_log')
    .insert({
      document_id: doc.id, unit_id: doc.unit_id, dedup_key: dedupKey, step, step_name: stepName, opinion, at,
      actor_id: p?.userId ?? null, actor_name: p?.name ?? '系统', channel: p?.channel ?? 'system',
    })
    .onConflict('dedup_key')
    .ignore()
}
