// 传阅 (circulation for reading): a handler or the office sends a document to people of the unit,
// each gets a 待阅 item and marks it 已阅. Kept beside the flow, never as engine tasks, so reading
// never holds the flow up.
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
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('circulation_readers')
  await knex.schema.dropTable('circulations')
}
