// 传阅 (circulation for reading): a handler or the office sends a document to people of the unit,
// each gets a 待阅 item and marks it 已阅. 督办 (supervision): the office marks a document with a due
// date and a supervisor, whose 催办 and the handlers' 反馈 are recorded. Both are kept beside the
// flow, never as engine tasks, so neither holds the flow up.
import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('circulations', (t) => {
    t.uuid('id').primary()
    t.uuid('document_id').notNullable().references('documents.id')
    t.text('unit_id').notNullable().references('units.id')
    t.text('sent_by').notNullable().references('users.id')
    t.text('note')
    t.text('channel').notNullable()
    t.timestamp('sent_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    /** When the sender last urged the unread readers (催办); the database clock decides. */
    t.timestamp('urged_at', { useTz: true })
    t.integer('urge_count').notNullable().defaultTo(0)
    t.index(['document_id', 'sent_at'])
  })
  await knex.schema.createTable('circulation_readers', (t) => {
    t.bigIncrements('id')
    t.uuid('circulation_id').notNullable().references('circulations.id')
    t.text('unit_id').notNullable().references('units.id')
    t.text('user_id').notNullable().references('users.id')
    /** The department the reader was chosen through (null: named in person). */
    t.text('department_id').references('departments.id')
    t.timestamp('read_at', { useTz: true })
    t.text('comment')
    t.text('channel')
    t.unique(['circulation_id', 'user_id'])
    t.index(['user_id', 'read_at'])
  })
  await knex.schema.createTable('supervisions', (t) => {
    t.uuid('id').primary()
    t.uuid('document_id').notNullable().unique().references('documents.id')
    t.text('unit_id').notNullable().references('units.id')
    t.text('supervisor_id').notNullable().references('users.id')
    /** The last day to finish (inclusive, Asia/Shanghai); overdue from the next day on. */
    t.date('due_date').notNullable()
    t.text('note')
    t.text('created_by').notNullable().references('users.id')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    /** When the overdue item was escalated to the supervisor; set once, by whichever node got there first. */
    t.timestamp('escalated_at', { useTz: true })
    t.index(['unit_id', 'due_date'])
  })
  await knex.raw('create index supervisions_due on supervisions (due_date) where escalated_at is null')
  await knex.schema.createTable('supervision_events', (t) => {
    t.bigIncrements('id')
    t.uuid('supervision_id').notNullable().references('supervisions.id')
    t.text('unit_id').notNullable().references('units.id')
    /** urge 催办 (the supervisor), reply 反馈 (a handler), escalation 超期督办 (the system). */
    t.text('kind').notNullable()
    t.text('actor_id').references('users.id')
    t.text('actor_name').notNullable()
    t.text('text')
    t.text('channel').notNullable()
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.index(['supervision_id', 'at'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('supervision_events')
  await knex.schema.dropTable('supervisions')
  await knex.schema.dropTable('circulation_readers')
  await knex.schema.dropTable('circulations')
}
