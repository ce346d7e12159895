// The 笺 forms: every version of each 笺 ever served, the version a document keeps, whether a
// submission was a blank signature, and each person's 常用意见 (saved opinion phrases).
import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('form_versions', (t) => {
    /** The 笺 key, the folder name under forms/ (e.g. fawen-gaozhi). */
    t.text('key').notNullable()
    t.integer('version').notNullable()
    /** sha256 of schema.json, template.hbs and common.schema.json as they were on disk. */
    t.text('hash').notNullable()
    // json, not jsonb: keeps the properties in their written order (the order of the form).
    t.json('schema').notNullable()
    t.json('common').notNullable()
    t.text('template').notNullable()
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.primary(['key', 'version'])
  })
  await knex.schema.alterTable('documents', (t) => {
    /** Version of the document's 笺, fixed when it starts; it validates and renders with it to the end. */
    t.integer('form_version')
  })
  await knex.schema.alterTable('tasks', (t) => {
    /** The submission was a 空白签名 (checked by Forms.checkOpinion); copied to routing_log. */
    t.boolean('blank_signature').notNullable().defaultTo(false)
  })
  await knex.schema.createTable('phrases', (t) => {
    t.bigIncrements('id')
    t.text('user_id').notNullable().references('users.id').onDelete('CASCADE')
    t.text('text').notNullable()
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.unique(['user_id', 'text'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('phrases')
  await knex.schema.alterTable('tasks', (t) => t.dropColumn('blank_signature'))
  await knex.schema.alterTable('documents', (t) => t.dropColumn('form_version'))
  await knex.schema.dropTable('form_versions')
}
