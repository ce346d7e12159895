// Units (单位), their departments, people and the roles they hold; API keys for integrators.
import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('units', (t) => {
    t.text('id').primary()
    t.text('name').notNullable()
    /** Prefix of this unit's 发文字号, e.g. 柳政发. */
    t.text('doc_number_prefix').notNullable()
    t.text('seal_name').notNullable()
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })
  await knex.schema.createTable('departments', (t) => {
    t.text('id').primary()
    t.text('unit_id').notNullable().references('units.id')
    t.text('name').notNullable()
    t.unique(['unit_id', 'name'])
  })
  await knex.schema.createTable('users', (t) => {
    t.text('id').primary()
    t.text('unit_id').notNullable().references('units.id')
    t.text('department_id').references('departments.id')
    t.text('username').notNullable().unique()
    t.text('name').notNullable()
    t.text('password_hash').notNullable()
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.index(['unit_id'])
  })
  await knex.schema.createTable('user_roles', (t) => {
    t.text('user_id').notNullable().references('users.id').onDelete('CASCADE')
    t.text('role').notNullable()
    t.primary(['user_id', 'role'])
    t.index(['role'])
  })
  await knex.schema.createTable('api_keys', (t) => {
    t.text('id').primary()
    t.text('unit_id').notNullable().references('units.id')
    /** The account the integrator acts as; it belongs to the same unit. */
    t.text('user_id').notNullable().references('users.id')
    t.text('name').notNullable()
    t.text('key_hash').notNullable().unique()
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['api_keys', 'user_roles', 'users', 'departments', 'units']) await knex.schema.dropTable(table)
}
