// The three flows whole: unit settings (time limits, blank signature, 发文字号 prefixes per kind),
// incoming documents linked to what was sent, receipts, deadlines on tasks, structured opinions.
import type { Knex } from 'knex'

/** Default 办理时限 per 紧急程度: how long a step may take, and how long before that to remind. */
export const defaultTimeLimits = {
  特急: { limit: 'PT4H', remindBefore: 'PT1H' },
  加急: { limit: 'PT24H', remindBefore: 'PT4H' },
  平件: { limit: 'PT72H', remindBefore: 'PT12H' },
}

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('units', (t) => {
    t.boolean('allow_blank_signature').notNullable().defaultTo(false)
    t.jsonb('time_limits').notNullable().defaultTo(JSON.stringify(defaultTimeLimits))
  })
  await knex.schema.createTable('doc_number_prefixes', (t) => {
    t.text('unit_id').notNullable().references('units.id')
    /** The 文种 or series the prefix is for, e.g. 通知 → 柳政发, 函 → 柳政函. */
    t.text('doc_kind').notNullable()
    t.text('prefix').notNullable()
    t.primary(['unit_id', 'doc_kind'])
  })
  // Numbers run per unit, prefix and year.
  await knex.schema.alterTable('doc_number_counters', (t) => {
    t.dropPrimary()
    t.text('prefix').notNullable().defaultTo('')
  })
  await knex.schema.alterTable('doc_number_counters', (t) => t.primary(['unit_id', 'prefix', 'year']))

  await knex.schema.alterTable('documents', (t) => {
    t.text('department_id').references('departments.id')
    t.text('urgency')
    /** The unit's time limit per step (ISO 8601 durations), fixed when the document starts. */
    t.text('step_limit')
    t.text('remind_before')
    /** 办理时限 of the whole document (收文: set at 登记). */
    t.timestamp('deadline', { useTz: true })
    /** An incoming document (电子来文) points at the document sent; a 转笺 at the one it came from. */
    t.uuid('source_document_id').references('documents.id')
    t.text('source_unit_id').references('units.id')
    t.timestamp('received_at', { useTz: true })
    t.text('received_by')
    t.timestamp('archived_at', { useTz: true })
    t.text('sealed_by')
    t.text('sealed_sha256')
    t.uuid('merged_into').references('documents.id')
    t.index(['source_document_id'])
  })
  // An incoming document (电子来文) is created by the system, not by a person of its unit.
  await knex.raw('alter table documents alter column created_by drop not null')
  await knex.schema.alterTable('deliveries', (t) => {
    t.uuid('incoming_document_id').unique().references('documents.id')
    t.timestamp('signed_at', { useTz: true })
    t.text('signed_by')
  })
  await knex.schema.alterTable('tasks', (t) => {
    t.timestamp('deadline', { useTz: true })
    t.timestamp('remind_at', { useTz: true })
    /** First time an eligible handler opened the task; 撤回 is allowed only before it. */
    t.timestamp('opened_at', { useTz: true })
    t.text('element_instance_key')
    /** The variables a completion sends to the engine (route, nextHandler, the step's outputs), kept for retries. */
    t.jsonb('engine_variables')
    t.index(['unit_id', 'state', 'deadline'])
  })
  await knex.schema.alterTable('routing_log', (t) => {
    t.text('actor_role')
    /** 空白签名: signed without writing an opinion. */
    t.boolean('blank_signature').notNullable().defaultTo(false)
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('routing_log', (t) => t.dropColumns('actor_role', 'blank_signature'))
  await knex.schema.alterTable('tasks', (t) => t.dropColumns('deadline', 'remind_at', 'opened_at', 'element_instance_key', 'engine_variables'))
  await knex.schema.alterTable('deliveries', (t) => t.dropColumns('incoming_document_id', 'signed_at', 'signed_by'))
  await knex.schema.alterTable('documents', (t) =>
    t.dropColumns('department_id', 'urgency', 'step_limit', 'remind_before', 'deadline', 'source_document_id', 'source_unit_id', 'received_at', 'received_by', 'archived_at', 'sealed_by', 'sealed_sha256', 'merged_into'),
  )
  await knex.schema.alterTable('doc_number_counters', (t) => t.dropPrimary())
  await knex.schema.alterTable('doc_number_counters', (t) => {
    t.dropColumn('prefix')
    t.primary(['unit_id', 'year'])
  })
  await knex.schema.dropTable('doc_number_prefixes')
  await knex.schema.alterTable('units', (t) => t.dropColumns('allow_blank_signature', 'time_limits'))
}
