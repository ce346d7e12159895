// Documents: start a flow, read one with its routing log, list the ones the caller may read.
import { randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import { EngineError, type WorkflowEngine } from '../../engine/port.ts'
import { AppError, fail } from '../errors.ts'
import { channelLabel, roleLabel } from '../labels.ts'
import type { Forms } from '../forms/forms.ts'
import { frozenFields, isFrozen } from './frozen.ts'
import { assertUnitActive, resolveRecipientFields } from '../org-tree/recipients.ts'
import type { Principal } from './principal.ts'
import type { ProcessModels } from './process-models.ts'
import { applyListFilters, type TaskListQuery } from './tasks.ts'
import { checkCoIssuers, jointIssuanceOf, readableByCoIssuer } from './joint-issuance.ts'

/** Each kind of document: its flow (the BPMN process id) and the 笺 its first step uses. */
export const documentKinds: Record<string, { process: string; form: string; label: string; startRole: string }> = {
  fawen: { process: 'fawen', form: 'fawen-gaozhi', label: '发文', startRole: 'drafter' },
  /** A paper document registered by hand (收文登记); 电子来文 arrive through 分发. */
  shouwen: { process: 'fenwen', form: 'shouwen-chuli', label: '收文', startRole: 'registry' },
  chengyue: { process: 'chengyue', form: 'chengyue-jian', label: '呈阅笺', startRole: 'drafter' },
}

export type TimeLimits = Record<string, { limit: string; remindBefore: string }>

/** The unit's time limit per step for a 紧急程度, as flow variables for the BPMN timers. */
export async function timeLimitsFor(db: Knex, unitId: string, urgency: unknown) {
  const unit = await db('units').where({ id: unitId }).first('time_limits')
  const limits = unit.time_limits as TimeLimits
  const chosen = limits[String(urgency)] ?? limits['平件']
  // The reminder timer fires remindBefore ahead of the limit: the models read it as one duration.
  const { rows } = await db.raw(`select greatest(0, extract(epoch from (?::interval - ?::interval)))::bigint as seconds`, [chosen.limit, chosen.remindBefore])
  return { stepLimit: chosen.limit, remindBefore: chosen.remindBefore, remindAfter: `PT${rows[0].seconds}S` }
}

export async function routingLog(knex: Knex, documentId: string) {
  const rows = await knex('routing_log')
    .where({ document_id: documentId })
    .orderBy([{ column: 'at' }, { column: 'id' }])
    .select('step', 'step_name as stepName', 'actor_id as actorId', 'actor_name as actorName', 'actor_role as actorRole', 'route', 'opinion', 'blank_signature as blankSignature', 'channel', 'at')
  // The codes stay for integrators; a person reads the labels.
  return rows.map((r) => ({ ...r, actorRoleName: r.actorRole ? roleLabel(r.actorRole) : null, channelName: channelLabel(r.channel) }))
}

export class Documents {
  constructor(
    private readonly knex: Knex,
    private readonly engine: WorkflowEngine,
    private readonly models: ProcessModels,
    private readonly forms: Forms,
    private readonly log: Logger,
  ) {}

  /**
   * Saves the document first, then starts its flow with the document id as a variable; the
   * engine's inbox listener links the instance back in the engine's own transaction, even if this
   * process dies between the two steps.
   */
  async start(p: Principal, input: { kind: string; data: Record<string, unknown>; corrects?: string | null }, idempotencyKey: string | null) {
    const kind = documentKinds[input.kind]
    if (!kind) throw fail('VALIDATION', `未知的公文类型“${input.kind}”`, [{ field: 'kind', message: `可选：${Object.keys(documentKinds).join('、')}` }])
    if (!p.roles.includes(kind.startRole)) throw fail('FORBIDDEN', `起草${kind.label}须具有“${roleLabel(kind.startRole)}”角色`)
    if (idempotencyKey) {
      const existing = await this.knex('documents').where({ created_by: p.userId, idempotency_key: idempotencyKey }).first('id')
      if (existing) return this.summary(existing.id)
    }
    await assertUnitActive(this.knex, p)
    input = { ...input, data: (await resolveRecipientFields(this.knex, p, input.data))! }
    // 联合发文: named before the schema so that a wrong type is refused naming coIssuers as well.
    if (input.kind === 'fawen') await checkCoIssuers(this.knex, p, input.data)
    const corrects = await this.checkCorrects(p, input)
    this.forms.validateDraft(kind.form, input.data)
    await this.checkRecipients(input.data)
    const definitionId = await this.models.startIdFor(kind.process, p.unitId)
    if (!definitionId) throw fail('ENGINE_UNAVAILABLE', `流程“${kind.label}”尚未部署`)

    const id = randomUUID()
    const limits = await timeLimitsFor(this.knex, p.unitId, input.data.urgency)
    // A 收文 entered by hand is received now, by its registrar: the server's time, set once (the
    // client cannot send 收文时间, see validateDraft; the 签收登记 step keeps a time already set).
    const receipt = input.kind === 'shouwen' ? { received_at: new Date(), received_by: p.userId } : {}
    const data = receipt.received_at ? { ...input.data, receivedAt: receipt.received_at.toISOString() } : input.data
    const inserted = await this.knex('documents')
      .insert({
        id,
        unit_id: p.unitId,
        kind: input.kind,
        title: String(input.data.title),
        status: 'starting',
        data: JSON.stringify(data),
        created_by: p.userId,
        ...receipt,
        // A 收文 counts for its 主办 department, chosen at 分办; other kinds for the drafter's.
        department_id: input.kind === 'shouwen' ? null : p.departmentId,
        form_version: this.forms.current(kind.form).version,
        urgency: typeof input.data.urgency === 'string' ? input.data.urgency : '平件',
        step_limit: limits.stepLimit,
        remind_before: limits.remindBefore,
        idempotency_key: idempotencyKey,
        corrects_document_id: corrects,
      })
      .onConflict(['created_by', 'idempotency_key'])
      .ignore()
      .returning('id')
    if (inserted.length === 0) {
      const existing = await this.knex('documents').where({ created_by: p.userId, idempotency_key: idempotencyKey }).first('id')
      return this.summary(existing.id)
    }
    try {
      // A registrar who enters a paper document by hand goes on to register it (登记).
      const nextHandler = input.kind === 'shouwen' ? p.userId : ''
      const started = await this.engine.as(p.unitId).start(definitionId, { documentId: id, unitId: p.unitId, drafter: p.userId, nextHandler, ...limits }, id)
      await this.knex('documents')
        .where({ id })
        .update({
          process_instance_key: started.instanceId,
          process_definition_key: started.definitionId,
          status: this.knex.raw(`case when status = 'starting' then 'running' else status end`),
          updated_at: new Date(),
        })
    } catch (err) {
      if (err instanceof EngineError) {
        // The draft stays saved (status failed) so nothing typed is lost; the caller may retry.
        await this.knex('documents').where({ id, status: 'starting' }).whereNull('process_instance_key').update({ status: 'failed' })
        throw new AppError('ENGINE_UNAVAILABLE', undefined, undefined, { cause: err })
      }
      throw err
    }
    this.log.info({ documentId: id, kind: input.kind, unit: p.unitId }, 'document started')
    return this.summary(id)
  }

  private async checkRecipients(data: Record<string, unknown>): Promise<void> {
    const ids = [...((data.mainRecipients as string[]) ?? []), ...((data.ccRecipients as string[]) ?? [])]
    if (!ids.length) return
    const found = new Set((await this.knex('units').whereIn('id', ids).select('id')).map((r) => r.id))
    const missing = ids.filter((u) => !found.has(u))
    if (missing.length) throw fail('FORM_INVALID', undefined, missing.map((u) => ({ field: 'mainRecipients', message: `没有编号为“${u}”的单位` })))
  }

  /** 更正: a 发文 may name the 发文 of its own unit that it corrects (a signed one is frozen). */
  private async checkCorrects(p: Principal, input: { kind: string; corrects?: string | null }): Promise<string | null> {
    if (input.corrects === undefined || input.corrects === null) return null
    if (input.kind !== 'fawen') throw fail('VALIDATION', '只有发文可以更正原文', [{ field: 'corrects', message: '只有发文（kind 为 fawen）可以引用被更正的公文' }])
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
    const old = uuid.test(input.corrects) && (await this.knex('documents').where({ id: input.corrects, unit_id: p.unitId, kind: 'fawen' }).first('id'))
    if (!old) throw fail('VALIDATION', '被更正的公文不存在或不是本单位的发文', [{ field: 'corrects', message: '须为本单位一份发文的编号' }])
    return old.id
  }

  private async summary(id: string) {
    const d = await this.knex('documents').where({ id }).first()
    return { id: d.id, kind: d.kind, title: d.title, status: d.status, processInstanceKey: d.process_instance_key, createdAt: d.created_at }
  }

  /** A person may read a document of their unit they created or had a task on; an integrator reads the unit's. */
  async one(p: Principal, id: string) {
    const doc = await this.readable(p).where('d.id', id).first('d.*')
    if (!doc) throw fail('NOT_FOUND', '未找到该公文')
    for (const field of await this.hiddenFields(p, id)) delete doc.data[field]
    const [log, openTasks, deliveries, corrects, corrections, joint] = await Promise.all([
      routingLog(this.knex, id),
      this.knex('tasks').where({ document_id: id, state: 'open' }).select('task_key as taskKey', 'element_id as step', 'step_name as stepName', 'assignee', 'candidate_role as candidateRole', 'created_at as createdAt'),
      this.knex('deliveries as v')
        .join('units as u', 'u.id', 'v.recipient_unit_id')
        .where({ 'v.document_id': id })
        .orderBy('u.id')
        // 拒收/退文 (refusal.ts): the current 电子来文 refused shows 已退文 with its reason.
        .leftJoin('refusals as r', 'r.incoming_document_id', 'v.incoming_document_id')
        .select('u.id as unitId', 'u.name as unitName', 'v.kind', 'v.delivered_at as deliveredAt', 'v.signed_at as signedAt',
          this.knex.raw(`case when r.refused_at is not null then '已退文' when v.signed_at is null then '未签收' else '已签收' end as "receiptStatus"`),
          'r.reason as refusalReason', 'r.refused_at as refusedAt',
          this.knex.raw(`(select count(*)::int from refusals x where x.document_id = v.document_id and x.recipient_unit_id = v.recipient_unit_id and x.resent_at is not null) as "resendCount"`)),
      // 更正: the document this one corrects (its title only for those who may read it), and its corrections.
      doc.corrects_document_id
        ? this.readable(p).where('d.id', doc.corrects_document_id).first('d.id', 'd.title', 'd.doc_number as docNumber')
          .then((row) => row ?? { id: doc.corrects_document_id, title: null, docNumber: null })
        : null,
      this.readable(p).where('d.corrects_document_id', id).orderBy('d.created_at')
        .select('d.id', 'd.title', 'd.doc_number as docNumber', 'd.status', 'd.created_at as createdAt'),
      jointIssuanceOf(this.knex, id),
    ])
    return {
      id: doc.id,
      kind: doc.kind,
      title: doc.title,
      status: doc.status,
      unitId: doc.unit_id,
      docNumber: doc.doc_number,
      sealName: doc.seal_name,
      sealedAt: doc.sealed_at,
      sealedBy: doc.sealed_by,
      sealedSha256: doc.sealed_sha256,
      sealedVersionId: doc.sealed_version_id,
      issuedAt: doc.issued_at,
      issuedBy: doc.issued_by,
      // 签发 froze the 正文, the 附件 and these 笺 fields.
      frozen: isFrozen(doc),
      frozenFields: isFrozen(doc) ? [...frozenFields] : [],
      corrects,
      corrections,
      urgency: doc.urgency,
      departmentId: doc.department_id,
      sourceDocumentId: doc.source_document_id,
      sourceUnitId: doc.source_unit_id,
      receivedAt: doc.received_at,
      receivedBy: doc.received_by,
      deadline: doc.deadline,
      archivedAt: doc.archived_at,
      mergedInto: doc.merged_into,
      previousIncomingId: doc.previous_incoming_id ?? null,
      data: doc.data,
      incident: doc.incident,
      createdBy: doc.created_by,
      createdAt: doc.created_at,
      completedAt: doc.completed_at,
      currentSteps: openTasks,
      log,
      deliveries,
      // 联合发文: each co-issuer's 会签 answer and seal, and every seal on the document (the lead's first).
      coIssuers: joint.coIssuers,
      seals: joint.seals,
    }
  }

  /** Documents I may read, newest first; filters as the task lists, `mine` for those I drafted (我的发文). */
  async list(p: Principal, page: TaskListQuery & { mine?: boolean }) {
    const base = this.readable(p)
    applyListFilters(base, page, 'd.created_at')
    if (page.mine) base.where('d.created_by', p.userId)
    const [items, [{ count }]] = await Promise.all([
      base.clone().orderBy('d.created_at', 'desc').limit(page.limit).offset(page.offset)
        .select(
          'd.id', 'd.kind', 'd.title', 'd.status', 'd.doc_number as docNumber', 'd.urgency', 'd.created_at as createdAt', 'd.completed_at as completedAt',
          this.knex.raw(`d.data->>'incomingNumber' as "incomingNumber"`),
          this.knex.raw(`(select u.name from units u where u.id = d.source_unit_id) as "sourceUnitName"`),
          this.knex.raw(`(select string_agg(distinct t.step_name, '、') from tasks t where t.document_id = d.id and t.state = 'open') as "currentSteps"`),
        ),
      base.clone().count<{ count: string }[]>('* as count'),
    ])
    return { items, total: Number(count) }
  }

  /**
   * 笺 fields the caller never sees on this document: those hidden (task header `hidden`) at every
   * step of it they hold or held. Its creator and integrators see the whole 笺.
   */
  async hiddenFields(p: Principal, id: string): Promise<string[]> {
    const doc = await this.knex('documents').where({ id }).first('created_by', 'process_definition_key')
    if (!doc || p.channel === 'api' || doc.created_by === p.userId || !doc.process_definition_key) return []
    const steps = await this.knex('tasks')
      .where({ document_id: id })
      .andWhere((q) => q.where('completed_by', p.userId).orWhere('assignee', p.userId).orWhere((r) => r.where('state', 'open').whereNull('assignee').whereIn('candidate_role', p.roles)))
      .distinct('element_id')
    const model = await this.models.byKey(doc.process_definition_key)
    const hidden = steps.map((s) => new Set((model?.userTasks.get(s.element_id)?.properties.hidden ?? '').split(',').map((f) => f.trim()).filter(Boolean)))
    if (!hidden.length) return []
    return [...hidden[0]].filter((f) => hidden.every((set) => set.has(f)))
  }

  /** Whether the caller may read the document (see readableQuery); `readers` false: not as a 传阅 reader only. */
  async canRead(p: Principal, id: string, readers = true): Promise<boolean> {
    return Boolean(await this.readableQuery(p, 'd', readers).where('d.id', id).first('d.id'))
  }

  /**
   * Documents of the caller's unit they may read: people those they created, had a task on,
   * acted on, were sent for reading (传阅) or supervise (督办); integrators all of the unit's. Other units' documents never match.
   */
  readableQuery(p: Principal, alias = 'd', readers = true) {
    const q = this.knex(`documents as ${alias}`)
    if (p.channel === 'api') return q.where(`${alias}.unit_id`, p.unitId)
    // 联合发文: a co-issuer's handlers read the lead's 发文 (read-only, like a reader); nobody else of their unit.
    if (readers) return q.where((outer) => this.ownReadable(outer, p, alias, readers).orWhereExists(readableByCoIssuer(this.knex, p, alias)))
    return this.ownReadable(q, p, alias, readers)
  }

  private ownReadable(q: Knex.QueryBuilder, p: Principal, alias: string, readers: boolean) {
    return q.where((unit) => unit.where(`${alias}.unit_id`, p.unitId).andWhere((w) =>
      w.where(`${alias}.created_by`, p.userId).orWhereExists((s) =>
        s.select(this.knex.raw('1')).from('tasks as t').whereRaw(`t.document_id = ${alias}.id`).andWhere((o) =>
          o.where('t.completed_by', p.userId).orWhere('t.assignee', p.userId).orWhere((r) => r.where('t.state', 'open').whereNull('t.assignee').whereIn('t.candidate_role', p.roles)),
        ).orWhereExists((s) =>
          // Whoever acted on it (撤回, 转笺, 合并) keeps reading it.
          s.select(this.knex.raw('1')).from('routing_log as l').whereRaw(`l.document_id = ${alias}.id`).andWhere('l.actor_id', p.userId),
        ),
      ).orWhereExists((s) =>
        // 传阅: a reader reads it (read-only: reading holds no task). The clause matches nothing when `readers` is false.
        s.select(this.knex.raw('1')).whereRaw(readers ? 'true' : 'false').from('circulation_readers as cr').join('circulations as c', 'c.id', 'cr.circulation_id')
          .whereRaw(`c.document_id = ${alias}.id`).andWhere('cr.user_id', p.userId),
      ).orWhereExists((s) =>
        // 督办: its supervisor reads it (read-only, like a reader).
        s.select(this.knex.raw('1')).whereRaw(readers ? 'true' : 'false').from('supervisions as sv')
          .whereRaw(`sv.document_id = ${alias}.id`).andWhere('sv.supervisor_id', p.userId),
      ),
    ))
  }

  private readable(p: Principal) {
    return this.readableQuery(p)
  }
}
