// Recovery that never blocks: each stored completion (tasks in state 'completing') and each outbox
// delivery retries on its own backoff, and after the last attempt becomes a dead letter that the
// unit admin retries or discards (失败待处理). A dead completion keeps the whole submission.
import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tasks', (t) => {
    /** Attempts of the retry loop the engine refused (an outage does not count). */
    t.integer('completion_attempts').notNullable().defaultTo(0)
    /** When the retry loop sends the stored completion next (also its lease while it is being sent). */
    t.timestamp('completion_next_at', { useTz: true })
    /** Why the last attempt failed. */
    t.text('completion_error')
    /** Set when the completion became a dead letter: the loop leaves it; the row stays 'completing' (stuck). */
    t.timestamp('completion_dead_at', { useTz: true })
  })
  await knex('tasks').where({ state: 'completing' }).update({ completion_next_at: knex.raw('coalesce(submitted_at, now())') })
  await knex.raw(`create index tasks_completion_due on tasks (completion_next_at) where state = 'completing' and completion_dead_at is null`)
  await knex.raw(`create index tasks_completion_dead on tasks (unit_id) where state = 'completing' and completion_dead_at is not null`)
  await knex.schema.alterTable('notification_outbox', (t) => {
    /** When the row was given up ('failed', a dead letter) or discarded by the unit admin. */
    t.timestamp('dead_at', { useTz: true })
  })
  await knex('notification_outbox').where({ state: 'failed' }).update({ dead_at: knex.fn.now() })
  await knex.raw(`create index notification_outbox_dead on notification_outbox (dead_at) where state = 'failed'`)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists notification_outbox_dead')
  await knex.schema.alterTable('notification_outbox', (t) => t.dropColumn('dead_at'))
  await knex.raw('drop index if exists tasks_completion_dead')
  await knex.raw('drop index if exists tasks_completion_due')
  await knex.schema.alterTable('tasks', (t) => t.dropColumns('completion_attempts', 'completion_next_at', 'completion_error', 'completion_dead_at'))
}
