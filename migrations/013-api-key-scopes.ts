// Integrator keys carry scopes: what each key may do, chosen by the unit admin. Keys also get a
// display prefix (the secret itself is only ever stored as its sha256), who made them, when they
// were last used, rotated or revoked. Keys that exist already keep every scope, so running
// integrations go on working; from now on they act only on documents they started.
import type { Knex } from 'knex'

const all = `'{documents:start,documents:read,statistics:read,events:receive}'::text[]`

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('api_keys', (t) => {
    t.specificType('scopes', 'text[]').notNullable().defaultTo(knex.raw(`'{}'::text[]`))
    /** The first characters of the secret (gw_ab12cd3), to recognise a key in lists and logs. */
    t.text('prefix')
    t.text('created_by').references('users.id')
    t.timestamp('last_used_at', { useTz: true })
    t.timestamp('rotated_at', { useTz: true })
    t.text('rotated_by').references('users.id')
    t.timestamp('revoked_at', { useTz: true })
    t.text('revoked_by').references('users.id')
    t.index(['unit_id'])
  })
  await knex.raw(`alter table api_keys add constraint api_keys_scopes_known check (scopes <@ ${all})`)
  await knex('api_keys').update({ scopes: knex.raw(all) })
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table api_keys drop constraint api_keys_scopes_known')
  await knex.schema.alterTable('api_keys', (t) => {
    t.dropIndex(['unit_id'])
    for (const c of ['scopes', 'prefix', 'created_by', 'last_used_at', 'rotated_at', 'rotated_by', 'revoked_at', 'revoked_by']) t.dropColumn(c)
  })
}
