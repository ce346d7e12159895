// The automated steps of the flows, run by the engine's workers: 编号, 用印登记, 分发 to each
// recipient unit (which starts its 分文报批), 签收登记, 归档, and deadline notifications. Each
// handler is idempotent, so the engine's at-least-once delivery never numbers, delivers or
// notifies twice.
import { randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import type { StepHandler, WorkflowEngine } from '../../engine/port.ts'
import { timeLimitsFor } from './documents.ts'
import { latestVersionOf } from './files.ts'
import type { Notifications, NotificationKind } from './notifications.ts'
import { redirectInactive } from '../org-tree/recipients.ts'
import { recordRefusal } from './refusal.ts'
import { jointIssuanceHandlers, jointIssuanceTopics, recordLeadSeal } from './joint-issuance.ts'

export const INCOMING_MESSAGE = 'gongwen.incoming'

/** The topics of the automated steps, each handled by exactly one handler below. */
export const automationTopics = ['document.number', 'document.seal', 'document.deliver', 'document.receive', 'document.archive', 'task.notify', 'document.refuse', ...jointIssuanceTopics] as const

/** What 分发 needs of the deployed flows: a recipient unit that has none yet gets the shipped ones. */
export interface FlowDeployer {
  deployShipped(unitId: string, only?: string[]): Promise<void>
}

export function automationHandlers(
  knex: Knex,
  engine: WorkflowEngine,
  notifications: Notifications,
  flows?: FlowDeployer,
): Record<(typeof automationTopics)[number], StepHandler> {
  const documentId = (job: { variables: Record<string, unknown> }) => String(job.variables.documentId)
  return {
    // 联合发文: the steps between the lead's 发文 and each co-issuer's 会签 flow (joint-issuance.ts).
    ...jointIssuanceHandlers(knex, engine, flows),
    'document.number': async (job) => ({ docNumber: await allocateNumber(knex, documentId(job)) }),
    'document.seal': async (job) => {
      const recipients = await seal(knex, documentId(job))
      // 分发 reads the recipients from the document. The list is still handed to instances on
      // versions deployed before 分发 became one step (one 分发 per recipient), when it fits the
      // engine's limit for a text variable (4,000 characters).
      return JSON.stringify(recipients).length <= LEGACY_RECIPIENTS_LIMIT ? { recipients } : {}
    },
    'document.deliver': async (job) => {
      if (!job.variables.recipient) {
        await deliverAll(knex, engine, documentId(job), flows)
        return {}
      }
      // A version deployed before 分发 became one step: one job per recipient.
      const recipient = job.variables.recipient as { unitId: string; kind: string }
      const incoming = await deliver(knex, documentId(job), recipient)
      // The engine's inbox listener links the incoming document to its 分文报批 in the same
      // transaction that starts it, so a retry after a crash finds it started and starts no second.
      if (!incoming.started) await engine.correlateMessage(recipient.unitId, INCOMING_MESSAGE, incoming.id, incoming.variables)
      return {}
    },
    'document.receive': async (job) => ({ nextHandler: await receive(knex, documentId(job)) }),
    'document.archive': async (job) => {
      await archive(knex, documentId(job))
      return {}
    },
    'document.refuse': async (job) => {
      await recordRefusal(knex, documentId(job))
      return {}
    },
    'task.notify': async (job) => {
      await knex.transaction(async (trx) => {
        const open = await trx('tasks').where({ document_id: documentId(job), element_id: String(job.variables.step), state: 'open' }).select('task_key')
        for (const t of open) await notifications.enqueueForTask(trx, t.task_key, job.variables.notifyKind as NotificationKind)
      })
      return {}
    },
  }
}

const LEGACY_RECIPIENTS_LIMIT = 3_900

/**
 * 分发 to every recipient of the document at once. Step one, one transaction: the deliveries, the
 * recipients' 电子来文 and the routing log, one statement per table, for the recipients not
 * delivered yet. Step two: every 电子来文 whose 分文报批 has not started yet is started by one
 * batched engine call; the engine skips a business key (the 电子来文's id) that already has an
 * instance. So the step may run again after a crash at any point and each recipient still gets
 * one 电子来文 and one 签收.
 */
export async function deliverAll(knex: Knex, engine: WorkflowEngine, documentId: string, flows?: FlowDeployer): Promise<{ delivered: number; started: number }> {
  const delivered = await recordDeliveries(knex, documentId)
  const pending: Array<{ id: string; unit_id: string; step_limit: string; remind_before: string; remind_after: string }> = await knex('deliveries as v')
    .join('documents as i', 'i.id', 'v.incoming_document_id')
    .where('v.document_id', documentId)
    .whereNull('i.process_instance_key')
    .whereIn('i.status', ['starting', 'failed'])
    .select('i.id', 'i.unit_id', 'i.step_limit', 'i.remind_before', knex.raw(`'PT' || greatest(0, extract(epoch from (i.step_limit::interval - coalesce(i.remind_before, 'PT0S')::interval)))::bigint || 'S' as remind_after`))
  if (pending.length === 0) return { delivered, started: 0 }
  if (flows) {
    // A unit added after the server started has no flows deployed yet: it gets 分文报批 now, the
    // others when one of its people first starts a document.
    const units = [...new Set(pending.map((p) => p.unit_id))]
    const have = new Set<string>(
      (await knex('process_definitions').whereIn('unit_id', units).where({ bpmn_process_id: 'fenwen' }).distinct('unit_id')).map((r: { unit_id: string }) => r.unit_id),
    )
    const missing = units.filter((u) => !have.has(u))
    for (let i = 0; i < missing.length; i += 4) await Promise.all(missing.slice(i, i + 4).map((u) => flows.deployShipped(u, ['fenwen'])))
  }
  const { started } = await engine.startByMessage(
    INCOMING_MESSAGE,
    pending.map((p) => ({
      tenant: p.unit_id,
      businessKey: p.id,
      variables: { documentId: p.id, unitId: p.unit_id, drafter: null, nextHandler: '', stepLimit: p.step_limit, remindBefore: p.remind_before, remindAfter: p.remind_after },
    })),
  )
  return { delivered, started }
}

/** The deliveries, 电子来文 and routing-log rows of the recipients not delivered yet, in one transaction. */
async function recordDeliveries(knex: Knex, documentId: string): Promise<number> {
  return knex.transaction(async (trx) => {
    const doc = await trx('documents').where({ id: documentId }).forUpdate().first()
    if (!doc) throw new Error(`document ${documentId} not found`)
    // Recipients chosen before a unit was deactivated or merged: skipped, or sent to its successor.
    const recipients = await redirectInactive(trx, doc, recipientsOf(doc))
    const kinds = new Map<string, string>(recipients.map((r) => [r.unitId, r.kind]))
    if (kinds.size === 0) return 0
    // Each recipient's name and time limits for the document's urgency (as timeLimitsFor), in one query.
    const { rows: todo } = (await trx.raw(
      `select u.id, u.name, coalesce(u.time_limits -> ?, u.time_limits -> '平件') as limits
         from units u
        where u.id = any(?::text[])
          and not exists (select 1 from deliveries v where v.document_id = ? and v.recipient_unit_id = u.id)
        order by u.id`,
      [String(doc.urgency), [...kinds.keys()], documentId],
    )) as { rows: Array<{ id: string; name: string; limits: { limit: string; remindBefore: string } }> }
    if (todo.length === 0) return 0
    const sender = await trx('units').where({ id: doc.unit_id }).first('name')
    const form = await trx('form_versions').where({ key: 'shouwen-chuli' }).max('version as version').first()
    const now = new Date()
    const data = JSON.stringify({ title: doc.title, sourceUnit: sender.name, incomingNumber: doc.doc_number, urgency: doc.urgency ?? '平件' })
    const rows = todo.map((u) => ({ ...u, incomingId: randomUUID(), kind: kinds.get(u.id)! }))
    await trx('documents').insert(
      rows.map((r) => ({
        id: r.incomingId, unit_id: r.id, kind: 'shouwen', title: doc.title, status: 'starting', data, urgency: doc.urgency,
        step_limit: r.limits.limit, remind_before: r.limits.remindBefore, source_document_id: documentId, source_unit_id: doc.unit_id,
        form_version: form?.version ?? null,
      })),
    )
    await trx('deliveries').insert(
      rows.map((r) => ({ document_id: documentId, recipient_unit_id: r.id, kind: r.kind, delivered_at: now, incoming_document_id: r.incomingId })),
    )
    await trx('routing_log')
      .insert(
        rows.map((r) => ({
          document_id: doc.id, unit_id: doc.unit_id, dedup_key: `deliver:${documentId}:${r.id}`, step: 'fenfa', step_name: '分发',
          actor_name: '系统', opinion: `分发至${r.name}（${r.kind}）`, channel: 'system', at: now,
        })),
      )
      .onConflict('dedup_key')
      .ignore()
    return rows.length
  })
}

function yearInChina(now: Date): number {
  return Number(new Intl.DateTimeFormat('en', { year: 'numeric', timeZone: 'Asia/Shanghai' }).format(now))
}

/**
 * 编号: allocates the 发文字号 (e.g. 柳政发〔2026〕12号) once per document. The prefix is the unit's
 * for the document's 文种 (doc_number_prefixes) or the unit's default; numbers run per unit,
 * prefix and year. The counter row is locked, so numbers are unique and gapless under concurrency.
 */
export async function allocateNumber(knex: Knex, documentId: string): Promise<string> {
  return knex.transaction(async (trx) => {
    const doc = await trx('documents').where({ id: documentId }).forUpdate().first()
    if (!doc) throw new Error(`document ${documentId} not found`)
    if (doc.doc_number) return doc.doc_number as string
    const unit = await trx('units').where({ id: doc.unit_id }).first()
    const special = await trx('doc_number_prefixes').where({ unit_id: doc.unit_id, doc_kind: doc.data.docKind ?? '' }).first('prefix')
    const prefix: string = special?.prefix ?? unit.doc_number_prefix
    const now = new Date()
    const year = yearInChina(now)
    const [counter] = await trx('doc_number_counters')
      .insert({ unit_id: doc.unit_id, prefix, year, last: 1 })
      .onConflict(['unit_id', 'prefix', 'year'])
      .merge({ last: trx.raw('doc_number_counters.last + 1') })
      .returning('last')
    const docNumber = `${prefix}〔${year}〕${counter.last}号`
    // Numbered only once signed: a flow whose 签发 route is named otherwise freezes here at the latest.
    await trx('documents').where({ id: documentId }).update({ doc_number: docNumber, issued_at: trx.raw('coalesce(issued_at, ?)', [now]), updated_at: now })
    await systemLog(trx, doc, `number:${documentId}`, 'bianhao', '编号', `发文字号 ${docNumber}`, now)
    return docNumber
  })
}

/**
 * 用印登记: records the unit's seal on the fixed-layout 正文 — which seal, who applied it (the
 * 盖章 handler), when, and the sha256 of the 正文 version sealed. Returns the recipients for 分发.
 */
export async function seal(knex: Knex, documentId: string): Promise<Array<{ unitId: string; kind: string }>> {
  return knex.transaction(async (trx) => {
    const doc = await trx('documents').where({ id: documentId }).forUpdate().first()
    if (!doc) throw new Error(`document ${documentId} not found`)
    if (!doc.sealed_at) {
      const unit = await trx('units').where({ id: doc.unit_id }).first('seal_name')
      // The job can run before the server has recorded the 盖章 task as completed: 'completing' counts.
      // The sealer is whoever completed the step that led here (the 盖章 step, whatever its id).
      const sealer = await trx('tasks').where({ document_id: documentId, state: 'completed' }).orderBy('closed_at', 'desc').first('completed_by')
      const main = await latestVersionOf(trx, documentId, '正文')
      const now = new Date()
      await trx('documents').where({ id: documentId }).update({
        seal_name: unit.seal_name, sealed_by: sealer?.completed_by ?? null, sealed_at: now, sealed_sha256: main?.sha256 ?? null,
        sealed_version_id: main?.versionId ?? null, issued_at: trx.raw('coalesce(issued_at, ?)', [now]), updated_at: now,
      })
      const what = main ? `正文“${main.name}”（sha256 ${main.sha256.slice(0, 12)}…）` : '（无正文文件）'
      await systemLog(trx, doc, `seal:${documentId}`, 'yongyin', '用印登记', `加盖“${unit.seal_name}”于${what}`, now)
    }
    // Every seal on the 发文 (the lead's and, 联合发文, each co-issuer's) is listed in document_seals.
    await recordLeadSeal(trx, documentId)
    return redirectInactive(trx, doc, recipientsOf(doc))
  })
}

/** The document's 主送 and 抄送 units as chosen; a unit in both is 主送. */
function recipientsOf(doc: { data: { mainRecipients?: string[]; ccRecipients?: string[] } }): Array<{ unitId: string; kind: string }> {
  const mainUnits = doc.data.mainRecipients ?? []
  const cc = (doc.data.ccRecipients ?? []).filter((u) => !mainUnits.includes(u))
  return [...mainUnits.map((unitId) => ({ unitId, kind: '主送' })), ...cc.map((unitId) => ({ unitId, kind: '抄送' }))]
}

/**
 * 分发 to one recipient unit: records the delivery and creates the unit's incoming document
 * (电子来文) in one transaction; a repeat finds both and creates nothing.
 */
export async function deliver(knex: Knex, documentId: string, recipient: { unitId: string; kind: string }) {
  return knex.transaction(async (trx) => {
    const doc = await trx('documents').where({ id: documentId }).forUpdate().first()
    if (!doc) throw new Error(`document ${documentId} not found`)
    const limits = await timeLimitsFor(trx, recipient.unitId, doc.urgency)
    const existing = await trx('deliveries as v')
      .join('documents as i', 'i.id', 'v.incoming_document_id')
      .where({ 'v.document_id': documentId, 'v.recipient_unit_id': recipient.unitId })
      .first('v.incoming_document_id', 'i.process_instance_key')
    let incomingId: string = existing?.incoming_document_id
    if (!incomingId) {
      incomingId = randomUUID()
      const sender = await trx('units').where({ id: doc.unit_id }).first('name')
      const recipientUnit = await trx('units').where({ id: recipient.unitId }).first('name')
      const form = await trx('form_versions').where({ key: 'shouwen-chuli' }).max('version as version').first()
      const now = new Date()
      await trx('documents').insert({
        id: incomingId,
        unit_id: recipient.unitId,
        kind: 'shouwen',
        title: doc.title,
        status: 'starting',
        data: JSON.stringify({ title: doc.title, sourceUnit: sender.name, incomingNumber: doc.doc_number, urgency: doc.urgency ?? '平件' }),
        urgency: doc.urgency,
        step_limit: limits.stepLimit,
        remind_before: limits.remindBefore,
        source_document_id: documentId,
        source_unit_id: doc.unit_id,
        form_version: form?.version ?? null,
      })
      await trx('deliveries').insert({ document_id: documentId, recipient_unit_id: recipient.unitId, kind: recipient.kind, delivered_at: now, incoming_document_id: incomingId })
      await systemLog(trx, doc, `deliver:${documentId}:${recipient.unitId}`, 'fenfa', '分发', `分发至${recipientUnit.name}（${recipient.kind}）`, now)
    }
    return { id: incomingId, started: Boolean(existing?.process_instance_key), variables: { documentId: incomingId, unitId: recipient.unitId, drafter: null, nextHandler: '', ...limits } }
  })
}

/** 签收登记: the receipt time is recorded once and never changed; the sender sees it on the delivery. */
export async function receive(knex: Knex, documentId: string): Promise<string> {
  return knex.transaction(async (trx) => {
    const doc = await trx('documents').where({ id: documentId }).forUpdate().first()
    // The signer is whoever completed the step that led here (签收, whatever its id).
    const signer = await trx('tasks').where({ document_id: documentId, state: 'completed' }).orderBy('closed_at', 'desc').first('completed_by', 'submitted_at')
    const by: string = doc.received_by ?? signer?.completed_by ?? null
    if (!doc.received_at) {
      const at: Date = signer?.submitted_at ?? new Date()
      await trx('documents')
        .where({ id: documentId })
        .update({ received_at: at, received_by: by, data: trx.raw('data || ?::jsonb', [JSON.stringify({ receivedAt: at.toISOString() })]), updated_at: new Date() })
      await trx('deliveries').where({ incoming_document_id: documentId }).whereNull('signed_at').update({ signed_at: at, signed_by: by })
    }
    return by ?? ''
  })
}

/** 归档: the document is filed; the flow ends right after (办结). */
export async function archive(knex: Knex, documentId: string): Promise<void> {
  await knex.transaction(async (trx) => {
    const doc = await trx('documents').where({ id: documentId }).forUpdate().first()
    if (doc.archived_at) return
    const now = new Date()
    await trx('documents').where({ id: documentId }).update({ archived_at: now, updated_at: now })
    await systemLog(trx, doc, `archive:${documentId}`, 'guidang', '归档', '已归档', now)
  })
}

async function systemLog(trx: Knex.Transaction, doc: { id: string; unit_id: string }, dedupKey: string, step: string, stepName: string, opinion: string, at: Date) {
  await trx('routing_log')
    .insert({ document_id: doc.id, unit_id: doc.unit_id, dedup_key: dedupKey, step, step_name: stepName, actor_name: '系统', opinion, channel: 'system', at })
    .onConflict('dedup_key')
    .ignore()
}
