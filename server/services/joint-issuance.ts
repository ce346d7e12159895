// 联合发文 (joint issuance): a 发文 names co-issuing units (coIssuers). The flow logic is in the
// models — processes/fawen.bpmn asks every co-issuer for its 会签 after 编号 and waits for each
// co-issuer's seal before 分发; processes/lianhe.bpmn is the co-issuer's side (会签 → answer → wait
// for the lead's seal → 用印 → report). This file holds the automated steps between the two, each
// idempotent under the engine's at-least-once delivery, the check of the field, and the reads.
//
// Each co-issuer works on a document row of its own (kind 'lianhe', source_document_id = the lead's
// 发文) in its own tenant, so its inbox, scoping and routing log work as for any document; only its
// handlers may also read the lead's 发文 (readableByCoIssuer).
import { randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import type { StepHandler, WorkflowEngine } from '../../engine/port.ts'
import { fail } from '../errors.ts'
import type { FlowDeployer } from './automation.ts'
import { timeLimitsFor } from './documents.ts'
import type { Principal } from './principal.ts'

/** Starts the co-issuer's 会签 flow (processes/lianhe.bpmn) in its tenant. */
export const COSIGN_START_MESSAGE = 'gongwen.cosign'
/** The co-issuer's answer, caught by the lead's flow (one per co-issuer: local key cosignUnit). */
export const COSIGN_ANSWER_MESSAGE = 'gongwen.cosign.answer'
/** The lead has sealed: the co-issuer may apply its own seal (用印). */
export const COSIGN_RELEASE_MESSAGE = 'gongwen.cosign.release'
/** The co-issuer has sealed, caught by the lead's flow before 分发. */
export const COSIGN_SEALED_MESSAGE = 'gongwen.cosign.sealed'
/** Messages the lead's 发文 waits for: a unit's own version of 发文 may keep these catch events. */
export const COSIGN_CATCH_MESSAGES = [COSIGN_ANSWER_MESSAGE, COSIGN_SEALED_MESSAGE] as const
/** The document kind of a co-issuer's copy (not a kind anyone starts). */
export const LIANHE_KIND = 'lianhe'
/** The route of the co-issuer's 会签 that agrees. */
export const AGREE_ROUTE = '同意'

export const jointIssuanceTopics = ['cosign.request', 'cosign.answer', 'cosign.release', 'cosign.seal'] as const

/**
 * coIssuers of a 发文稿纸: a list of unit ids, each an existing active unit other than the
 * drafter's own (400 naming coIssuers otherwise). The schema checks the type as well; this also
 * runs first so a wrong type is named the same way.
 */
export async function checkCoIssuers(knex: Knex, p: Principal, data: Record<string, unknown> | undefined): Promise<void> {
  if (!data || data.coIssuers === undefined || data.coIssuers === null) return
  const value = data.coIssuers
  if (!Array.isArray(value) || !value.every((x) => typeof x === 'string' && x.length > 0)) {
    throw fail('FORM_INVALID', '联合发文单位应为单位编号的数组', [{ field: 'coIssuers', message: '联合发文单位应为单位编号（字符串）的数组' }])
  }
  if (new Set(value).size !== value.length) throw fail('FORM_INVALID', '联合发文单位有重复', [{ field: 'coIssuers', message: '联合发文单位不能重复' }])
  const rows: Array<{ id: string; name: string; active: boolean }> = value.length ? await knex('units').whereIn('id', value).select('id', 'name', 'active') : []
  const byId = new Map(rows.map((u) => [u.id, u]))
  const problems: Array<{ field: string; message: string }> = []
  for (const id of value as string[]) {
    const unit = byId.get(id)
    if (id === p.unitId) problems.push({ field: 'coIssuers', message: '联合发文单位不能是本单位（本单位为主办单位）' })
    else if (!unit) problems.push({ field: 'coIssuers', message: `没有编号为“${id}”的单位` })
    else if (!unit.active) problems.push({ field: 'coIssuers', message: `${unit.name}已停用，不能联合发文` })
  }
  if (problems.length) throw fail('FORM_INVALID', problems[0].message, problems)
}

/**
 * Lead's 发文 rows a person may read as a co-issuer's handler: there is a co-issuer's copy of it
 * in the person's unit on which the person has, had or is offered a task. Nobody else of that unit.
 */
export function readableByCoIssuer(knex: Knex, p: Principal, alias: string) {
  return (s: Knex.QueryBuilder) =>
    s.select(knex.raw('1')).from('co_issuances as ci').join('tasks as ct', 'ct.document_id', 'ci.id')
      .whereRaw(`ci.lead_document_id = ${alias}.id`).andWhere('ci.unit_id', p.unitId)
      .andWhere((o) => o.where('ct.completed_by', p.userId).orWhere('ct.assignee', p.userId).orWhere((r) => r.where('ct.state', 'open').whereNull('ct.assignee').whereIn('ct.candidate_role', p.roles)))
}

/** The co-issuers of a 发文 (latest round each) and every seal on it, for the document view. */
export async function jointIssuanceOf(knex: Knex, documentId: string) {
  const [coIssuers, seals] = await Promise.all([
    knex('co_issuances as ci').join('units as u', 'u.id', 'ci.unit_id')
      .where('ci.lead_document_id', documentId)
      .distinctOn('ci.unit_id').orderBy([{ column: 'ci.unit_id' }, { column: 'ci.created_at', order: 'desc' }])
      .select('ci.unit_id as unitId', 'u.name as unitName', 'ci.id as coDocumentId', 'ci.agreed', 'ci.opinion', 'ci.answered_at as answeredAt', 'ci.sealed_at as sealedAt'),
    knex('document_seals as s').join('units as u', 'u.id', 's.unit_id').where('s.document_id', documentId)
      .orderBy([{ column: 's.lead', order: 'desc' }, { column: 's.sealed_at' }])
      .select('s.unit_id as unitId', 'u.name as unitName', 's.seal_name as sealName', 's.sealed_by as sealedBy', 's.sealed_at as sealedAt', 's.sealed_sha256 as sealedSha256', 's.lead'),
  ])
  return { coIssuers, seals }
}

/** Records the lead's own seal in document_seals (called by 用印登记 in its transaction). */
export async function recordLeadSeal(trx: Knex.Transaction, documentId: string) {
  const doc = await trx('documents').where({ id: documentId }).first('unit_id', 'seal_name', 'sealed_by', 'sealed_at', 'sealed_sha256')
  if (!doc?.sealed_at) return
  await trx('document_seals')
    .insert({ document_id: documentId, unit_id: doc.unit_id, seal_name: doc.seal_name, sealed_by: doc.sealed_by, sealed_at: doc.sealed_at, sealed_sha256: doc.sealed_sha256, lead: true })
    .onConflict(['document_id', 'unit_id'])
    .ignore()
}

async function leadLog(trx: Knex.Transaction, lead: { id: string; unit_id: string }, entry: { dedupKey: string; step: string; stepName: string; actorId?: string | null; actorName: string; opinion: string; route?: string | null }) {
  await trx('routing_log')
    .insert({
      document_id: lead.id, unit_id: lead.unit_id, dedup_key: entry.dedupKey, step: entry.step, step_name: entry.stepName,
      actor_id: entry.actorId ?? null, actor_name: entry.actorName, route: entry.route ?? null, opinion: entry.opinion, channel: 'system', at: new Date(),
    })
    .onConflict('dedup_key')
    .ignore()
}

/**
 * The lead's 发文 was canceled: each co-issuer's copy still running is canceled too (in its own
 * tenant), so no 会签 or 用印 task is left in a co-issuer's inbox for a 发文 that will not be issued.
 */
export async function cancelCoIssuers(knex: Knex, engine: WorkflowEngine, leadId: string, reason: string): Promise<number> {
  const open: Array<{ id: string; unit_id: string; process_instance_key: string }> = await knex('co_issuances as ci').join('documents as c', 'c.id', 'ci.id')
    .where('ci.lead_document_id', leadId).whereIn('c.status', ['starting', 'running']).whereNotNull('c.process_instance_key')
    .select('c.id', 'c.unit_id', 'c.process_instance_key')
  for (const copy of open) await engine.as(copy.unit_id).cancelInstance(copy.process_instance_key, `主办单位已取消该发文：${reason}`)
  return open.length
}

export function jointIssuanceHandlers(knex: Knex, engine: WorkflowEngine, flows?: FlowDeployer): Record<(typeof jointIssuanceTopics)[number], StepHandler> {
  return {
    /**
     * Lead side, one per co-issuer (multi-instance): creates the co-issuer's copy and starts its 会签
     * flow in its tenant. Keyed by the step's id: a retry finds the copy, and the engine skips a
     * business key that already has an instance; a new round (after 不同意) is a new step, a new copy.
     */
    'cosign.request': async (job) => {
      const leadId = String(job.variables.documentId)
      const unitId = String(job.variables.coIssuer)
      const copy = await knex.transaction(async (trx) => {
        const existing = await trx('co_issuances').where({ request_key: job.id }).first('id')
        const lead = await trx('documents').where({ id: leadId }).forUpdate().first()
        if (!lead) throw new Error(`document ${leadId} not found`)
        const limits = await timeLimitsFor(trx, unitId, lead.urgency)
        if (existing) return { id: existing.id as string, limits }
        const unit = await trx('units').where({ id: unitId }).first('name')
        const id = randomUUID()
        await trx('documents').insert({
          id, unit_id: unitId, kind: LIANHE_KIND, title: lead.title, status: 'starting',
          data: JSON.stringify(lead.data), urgency: lead.urgency, doc_number: null,
          step_limit: limits.stepLimit, remind_before: limits.remindBefore, source_document_id: lead.id, source_unit_id: lead.unit_id,
          form_version: lead.form_version,
        })
        await trx('co_issuances').insert({ id, lead_document_id: lead.id, unit_id: unitId, request_key: job.id })
        await leadLog(trx, lead, { dedupKey: `cosign-request:${job.id}`, step: 'lianhe-huiqian', stepName: '联合会签', actorName: '系统', opinion: `送${unit.name}会签` })
        return { id, limits }
      })
      // The co-issuer's 会签 flow is deployed on demand (process-models.ts ON_DEMAND); an unchanged
      // model keeps its version, a changed shipped one becomes the unit's next version here.
      if (flows) await flows.deployShipped(unitId, ['lianhe'])
      await engine.startByMessage(COSIGN_START_MESSAGE, [
        { tenant: unitId, businessKey: copy.id, variables: { documentId: copy.id, unitId, drafter: null, nextHandler: '', ...copy.limits } },
      ])
      return {}
    },

    /** Co-issuer side: records its 会签 answer, writes it in the lead's routing log and tells the lead's flow. */
    'cosign.answer': async (job) => {
      const copyId = String(job.variables.documentId)
      const agreed = job.variables.route === AGREE_ROUTE
      const co = await knex.transaction(async (trx) => {
        const row = await trx('co_issuances').where({ id: copyId }).forUpdate().first()
        if (!row) throw new Error(`co-issuance ${copyId} not found`)
        if (row.answered_at) return row
        const task = await trx('tasks as t').leftJoin('users as u', 'u.id', 't.completed_by')
          .where({ 't.document_id': copyId, 't.element_id': 'huiqian' }).whereIn('t.state', ['completed', 'completing'])
          .orderBy('t.closed_at', 'desc').first('t.completed_by', 't.opinion', 'u.name')
        const unit = await trx('units').where({ id: row.unit_id }).first('name')
        const lead = await trx('documents').where({ id: row.lead_document_id }).first('id', 'unit_id')
        const now = new Date()
        const opinion: string | null = task?.opinion ?? null
        await trx('co_issuances').where({ id: copyId }).update({ agreed, opinion, answered_by: task?.completed_by ?? null, answered_at: now })
        await leadLog(trx, lead, {
          dedupKey: `cosign-answer:${copyId}`, step: 'lianhe-huiqian', stepName: '联合会签', actorName: task?.name ?? unit.name,
          route: agreed ? '同意' : '不同意', opinion: `${unit.name}会签：${agreed ? '同意' : '不同意'}${opinion ? `（${opinion}）` : ''}`,
        })
        return { ...row, agreed, answered_at: now }
      })
      if (!co.answer_reported_at) {
        // Nothing waits for an answer of a lead that has ended (canceled) or asked again since
        // (a later round for this unit): the answer is recorded and logged, not sent.
        const lead = await knex('documents').where({ id: co.lead_document_id }).first('unit_id', 'status')
        // (compared in the database: a JS Date would drop the microseconds and find the row itself newer)
        const newer = await knex('co_issuances as n').where({ 'n.lead_document_id': co.lead_document_id, 'n.unit_id': co.unit_id }).whereNot('n.id', co.id)
          .whereRaw('n.created_at > (select created_at from co_issuances where id = ?)', [co.id]).first('n.id')
        if (['starting', 'running'].includes(lead.status) && !newer) {
          // The lead waits before it asks (fawen.bpmn), so nothing waiting means a run before a crash
          // delivered it: a retry completes instead of failing into an incident.
          await engine.deliverIfWaiting(lead.unit_id, COSIGN_ANSWER_MESSAGE, co.lead_document_id, co.agreed ? {} : { cosignRejected: true }, { cosignUnit: co.unit_id })
        }
        await knex('co_issuances').where({ id: copyId }).update({ answer_reported_at: new Date() })
      }
      return { cosignAgreed: Boolean(co.agreed) }
    },

    /** Lead side, after its own 用印登记, one per co-issuer: lets the co-issuer's 用印 begin. */
    'cosign.release': async (job) => {
      const leadId = String(job.variables.documentId)
      const unitId = String(job.variables.coIssuer)
      const co = await knex('co_issuances').where({ lead_document_id: leadId, unit_id: unitId, agreed: true }).orderBy('created_at', 'desc').first()
      if (!co) throw new Error(`no agreed co-issuance of ${unitId} for ${leadId}`)
      if (!co.released_at) {
        await engine.correlateMessage(unitId, COSIGN_RELEASE_MESSAGE, co.id, {})
        await knex('co_issuances').where({ id: co.id }).update({ released_at: new Date() })
      }
      return {}
    },

    /** Co-issuer side: records its seal on the lead's 发文 and tells the lead's flow, which waits for every seal before 分发. */
    'cosign.seal': async (job) => {
      const copyId = String(job.variables.documentId)
      const co = await knex.transaction(async (trx) => {
        const row = await trx('co_issuances').where({ id: copyId }).forUpdate().first()
        if (!row) throw new Error(`co-issuance ${copyId} not found`)
        if (row.sealed_at) return row
        const lead = await trx('documents').where({ id: row.lead_document_id }).first('id', 'unit_id', 'sealed_sha256')
        const unit = await trx('units').where({ id: row.unit_id }).first('name', 'seal_name')
        const sealer = await trx('tasks as t').leftJoin('users as u', 'u.id', 't.completed_by')
          .where({ 't.document_id': copyId, 't.element_id': 'yongyin' }).whereIn('t.state', ['completed', 'completing'])
          .orderBy('t.closed_at', 'desc').first('t.completed_by', 'u.name')
        const now = new Date()
        await trx('document_seals')
          .insert({ document_id: lead.id, unit_id: row.unit_id, seal_name: unit.seal_name, sealed_by: sealer?.completed_by ?? null, sealed_at: now, sealed_sha256: lead.sealed_sha256, lead: false })
          .onConflict(['document_id', 'unit_id'])
          .merge()
        await trx('co_issuances').where({ id: copyId }).update({ sealed_at: now })
        await trx('documents').where({ id: copyId }).update({ seal_name: unit.seal_name, sealed_by: sealer?.completed_by ?? null, sealed_at: now, sealed_sha256: lead.sealed_sha256, updated_at: now })
        await leadLog(trx, lead, {
          dedupKey: `cosign-seal:${copyId}`, step: 'lianhe-yongyin', stepName: '联合用印', actorName: sealer?.name ?? unit.name,
          opinion: `${unit.name}用印：加盖“${unit.seal_name}”`,
        })
        return { ...row, sealed_at: now }
      })
      if (!co.seal_reported_at) {
        const lead = await knex('documents').where({ id: co.lead_document_id }).first('unit_id', 'status')
        if (['starting', 'running'].includes(lead.status)) {
          await engine.deliverIfWaiting(lead.unit_id, COSIGN_SEALED_MESSAGE, co.lead_document_id, {}, { cosignUnit: co.unit_id })
        }
        await knex('co_issuances').where({ id: copyId }).update({ seal_reported_at: new Date() })
      }
      return {}
    },
  }
}
