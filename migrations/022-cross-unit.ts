// 拒收/退文: a recipient registry's refusal of an 电子来文 (with its reason, and the
// sender's re-send of a corrected version linked to the refused one).
import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('refusals', (t) => {
    /** The refused 电子来文 (one refusal each). */
    t.uuid('incoming_document_id').primary().references('documents.id')
    /** The sender's 发文 and the refusing unit. */
    t.uuid('document_id').notNullable().references('documents.id')
    t.text('recipient_unit_id').notNullable().references('units.id')
    t.text('reason').notNullable()
    t.text('refused_by')
    t.timestamp('refused_at', { useTz: true }).notNullable()
    /** The sender's re-send: who, when, its 更正说明 and the new 电子来文. */
    t.text('resent_by')
    t.timestamp('resent_at', { useTz: true })
    t.text('resend_note')
    t.uuid('resent_incoming_id').unique().references('documents.id')
    t.index(['document_id', 'recipient_unit_id'])
  })
  await knex.schema.alterTable('documents', (t) => {
    /** A re-sent 电子来文: the refused one it replaces. */
    t.uuid('previous_incoming_id').references('documents.id')
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('documents', (t) => t.dropColumn('previous_incoming_id'))
  await knex.schema.dropTable('refusals')
}
