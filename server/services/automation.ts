// The automated steps of the flows, run by job workers: 盖章 (numbering and seal) and 分发
// (delivery to each recipient unit). Each is idempotent, so Zeebe's at-least-once retries are safe.
import type { Knex } from 'knex'
import type { JobHandler } from '../../engine/client.ts'

export function automationHandlers(knex: Knex): Record<string, JobHandler> {
  return {
    'document.seal': async (job) => ({ docNumber: await seal(knex, String(job.variables.documentId)) }),
    'document.distribute': async (job) => ({ deliveredTo: await distribute(knex, String(job.variables.documentId)) }),
  }
}

/**
 * Allocates the 发文字号 (e.g. 柳政发〔2026〕12号) and applies the unit's seal, once per document.
 * The per-unit, per-year counter row is locked, so numbers are unique and gapless under concurrency.
 */
export async function seal(knex: Knex, documentId: string): Promise<string> {
  return knex.transaction(async (trx) => {
    const doc = await trx('documents').where({ id: documentId }).forUpdate().first()
    if (!doc) throw new Error(`document ${documentId} not found`)
    if (doc.doc_number) return doc.doc_number as string
    const unit = await trx('units').where({ id: doc.unit_id }).first()
    const now = new Date()
    const year = Number(new Intl.DateTimeFormat('en', { year: 'numeric', timeZone: 'Asia/Shanghai' }).format(now))
    const [counter] = await trx('doc_number_counters')
      .insert({ unit_id: doc.unit_id, year, last: 1 })
      .onConflict(['unit_id', 'year'])
      .merge({ last: trx.raw('doc_number_counters.last + 1') })
      .returning('last')
    const docNumber = `${unit.doc_number_prefix}〔${year}〕${counter.last}号`
    await trx('documents').where({ id: documentId }).update({ doc_number: docNumber, seal_name: unit.seal_name, sealed_at: now, updated_at: now })
    await trx('routing_log').insert({
      document_id: documentId,
      unit_id: doc.unit_id,
      dedup_key: `seal:${documentId}`,
      step: 'gaizhang',
      step_name: '盖章',
      actor_name: '系统',
      route: null,
      opinion: `编号 ${docNumber}，加盖“${unit.seal_name}”`,
      channel: 'system',
      at: now,
    })
    return docNumber
  })
}

/** Records delivery to every 主送 and 抄送 unit; a repeat delivers to nobody twice. */
export async function distribute(knex: Knex, documentId: string): Promise<string[]> {
  return knex.transaction(async (trx) => {
    const doc = await trx('documents').where({ id: documentId }).forUpdate().first()
    if (!doc) throw new Error(`document ${documentId} not found`)
    const main: string[] = doc.data.mainRecipients ?? []
    const cc: string[] = (doc.data.ccRecipients ?? []).filter((u: string) => !main.includes(u))
    const now = new Date()
    const rows = [...main.map((u) => ({ u, kind: '主送' })), ...cc.map((u) => ({ u, kind: '抄送' }))]
    if (rows.length) {
      await trx('deliveries')
        .insert(rows.map((r) => ({ document_id: documentId, recipient_unit_id: r.u, kind: r.kind, delivered_at: now })))
        .onConflict(['document_id', 'recipient_unit_id'])
        .ignore()
    }
    const names = (await trx('units').whereIn('id', [...main, ...cc]).select('name')).map((u) => u.name)
    await trx('routing_log')
      .insert({
        document_id: documentId,
        unit_id: doc.unit_id,
        dedup_key: `distribute:${documentId}`,
        step: 'fenfa',
        step_name: '分发',
        actor_name: '系统',
        opinion: `分发至：${names.join('、')}`,
        channel: 'system',
        at: now,
      })
      .onConflict('dedup_key')
      .ignore()
    return [...main, ...cc]
  })
}
