// 行为审计: an append-only log of who did what, when and from where. Entries form one hash chain
// per unit (each carries the hash of the one before it), so a deleted or edited entry shows; a
// trigger refuses updates and deletes, and no route edits the log.
import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id')
    /** The chain: a unit id, or '_platform' for what belongs to no unit (a login with an unknown name). */
    t.text('chain').notNullable()
    t.timestamp('at', { useTz: true }).notNullable()
    t.text('actor_id')
    t.text('actor_name')
    /** web (a person's login), api (an integrator key), or null before login. */
    t.text('channel')
    t.text('ip')
    /** What was done: the route, e.g. "POST /tasks/:key/complete". */
    t.text('action').notNullable()
    /** The document, task, person … the action named (its route parameters). */
    t.text('target')
    t.integer('status').notNullable()
    t.jsonb('detail')
    t.text('prev_hash').notNullable()
    t.text('hash').notNullable()
    t.index(['chain', 'id'])
  })
  await knex.schema.createTable('audit_heads', (t) => {
    t.text('chain').primary()
    t.bigInteger('last_id')
    t.text('hash').notNullable()
  })
  await knex.raw(`
    create function audit_log_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_log is append-only';
    end $$;
    create trigger audit_log_append_only before update or delete or truncate on audit_log
      for each statement execute function audit_log_append_only();
  `)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger if exists audit_log_append_only on audit_log; drop function if exists audit_log_append_only()')
  await knex.schema.dropTable('audit_heads')
  await knex.schema.dropTable('audit_log')
}
