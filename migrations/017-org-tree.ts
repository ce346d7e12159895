// Units as an organisation tree (city → 区县 → 部门/乡镇), kept by the platform administrator:
// each unit's 统一社会信用代码, parent and level, whether it is active or merged into another,
// and the named recipient lists a unit saves for 分发.
import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('units', (t) => {
    /** 统一社会信用代码 (GB 32100, 18 characters); null for units loaded before the tree. */
    t.text('credit_code').unique()
    t.text('parent_id').references('units.id')
    /** city 市 · county 区县 · department 部门 · township 乡镇. */
    t.text('level').notNullable().defaultTo('department')
    t.boolean('active').notNullable().defaultTo(true)
    t.timestamp('deactivated_at', { useTz: true })
    /** Where a merged unit went: new 分发 to it goes there. */
    t.text('merged_into').references('units.id')
    t.index(['parent_id', 'level'])
  })
  await knex.raw(`alter table units add constraint units_level_check check (level in ('city', 'county', 'department', 'township'))`)
  await knex.schema.createTable('recipient_lists', (t) => {
    t.text('id').primary()
    t.text('unit_id').notNullable().references('units.id')
    t.text('name').notNullable()
    t.specificType('unit_ids', 'text[]').notNullable()
    t.text('created_by').references('users.id')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.unique(['unit_id', 'name'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('recipient_lists')
  await knex.raw('alter table units drop constraint units_level_check')
  await knex.schema.alterTable('units', (t) => t.dropColumns('credit_code', 'parent_id', 'level', 'active', 'deactivated_at', 'merged_into'))
}
