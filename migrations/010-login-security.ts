// Login defences and sessions: each person's consecutive failed logins and lockout, the version
// their login tokens must carry (raised to revoke every token they hold), failed-login counters
// per client address, and a unit's optional password policy.
import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    /** Failed logins since the last successful one (counted before the password is checked). */
    t.integer('failed_logins').notNullable().defaultTo(0)
    /** Set when failed_logins reached the limit: no login, not even with the right password, until then. */
    t.timestamp('locked_until', { useTz: true })
    /** Login tokens carry the version they were issued under; raising it revokes them all. */
    t.integer('token_version').notNullable().defaultTo(0)
  })
  await knex.schema.alterTable('units', (t) => {
    /** {minLength, requireLetter, requireDigit, requireSymbol, requireMixedCase}; null: off. */
    t.jsonb('password_policy')
  })
  await knex.schema.createTable('login_throttle', (t) => {
    /** What is counted, e.g. ip:10.0.0.7. */
    t.text('key').primary()
    t.timestamp('window_start', { useTz: true }).notNullable()
    /** Failed (or still running) login attempts in the window. */
    t.integer('failures').notNullable()
    t.index(['window_start'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('login_throttle')
  await knex.schema.alterTable('units', (t) => t.dropColumn('password_policy'))
  await knex.schema.alterTable('users', (t) => t.dropColumns('failed_logins', 'locked_until', 'token_version'))
}
