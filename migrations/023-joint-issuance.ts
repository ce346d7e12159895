// 联合发文 (joint issuance): a 发文 names co-issuing units. Each co-issuer countersigns (会签) and
// seals (用印) in its own tenant, on a document row of its own (kind 'lianhe') that points at the
// lead's 发文; co_issuances is the link, one row per co-issuer per round of 会签. document_seals
// records every seal on a 发文: the lead's (用印登记) and each co-issuer's.
import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('co_issuances', (t) => {
    /** The co-issuer's own document (kind 'lianhe'): its 会签 and 用印 run on it. */
    t.uuid('id').primary().references('documents.id')
    /** The lead's 发文 and the co-issuing unit. */
    t.uuid('lead_document_id').notNullable().references('documents.id')
    t.text('unit_id').notNullable().references('units.id')
    /** The lead's automated step that asked for this 会签: a retry finds the row, a new round makes a new one. */
    t.text('request_key').notNullable().unique()
    /** null until answered; then 同意 (true) or 不同意 (false) with the opinion. */
    t.boolean('agreed')
    t.text('opinion')
    t.text('answered_by')
    t.timestamp('answered_at', { useTz: true })
    /** When the answer reached the lead's flow (the message was correlated). */
    t.timestamp('answer_reported_at', { useTz: true })
    /** When the lead's flow, sealed itself, asked the co-issuer to seal. */
    t.timestamp('released_at', { useTz: true })
    t.timestamp('sealed_at', { useTz: true })
    t.timestamp('seal_reported_at', { useTz: true })
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.index(['lead_document_id', 'unit_id'])
  })
  await knex.schema.createTable('document_seals', (t) => {
    t.increments('id')
    t.uuid('document_id').notNullable().references('documents.id')
    t.text('unit_id').notNullable().references('units.id')
    t.text('seal_name').notNullable()
    t.text('sealed_by')
    t.timestamp('sealed_at', { useTz: true }).notNullable()
    /** The sha256 of the lead's 正文 version the seal binds. */
    t.text('sealed_sha256')
    /** The lead's own seal (true) or a co-issuer's. */
    t.boolean('lead').notNullable().defaultTo(false)
    t.unique(['document_id', 'unit_id'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('document_seals')
  await knex.schema.dropTable('co_issuances')
}
