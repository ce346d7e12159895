// Notifications: the in-app list, the outbox of external deliveries (webhook, SMS), 催办 records,
// and the per-unit channel settings and people's phone numbers they need.
import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('units', (t) => {
    /** Where the unit's webhook receives every notification as JSON; null: no webhook. */
    t.text('webhook_url')
    /** The unit's SMS gateway, given {phone, text} as JSON; null: no SMS. */
    t.text('sms_gateway_url')
  })
  await knex.schema.alterTable('users', (t) => {
    /** Mainland mobile number (11 digits) for SMS notifications. */
    t.text('phone')
  })
  await knex.schema.createTable('notifications', (t) => {
    t.bigIncrements('id')
    /** kind:task[#round]:user — one notification per person, task and kind (per 催办 round). */
    t.text('dedup_key').notNullable().unique()
    t.text('unit_id').notNullable().references('units.id')
    t.text('user_id').notNullable().references('users.id')
    t.text('kind').notNullable()
    t.text('task_key').notNullable()
    t.uuid('document_id').references('documents.id')
    t.text('title').notNullable()
    t.text('step_name').notNullable()
    t.text('text').notNullable()
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('read_at', { useTz: true })
    t.index(['user_id', 'created_at'])
  })
  await knex.raw('create index notifications_unread on notifications (user_id) where read_at is null')
  await knex.schema.createTable('notification_outbox', (t) => {
    t.bigIncrements('id')
    /** The notification's key plus the channel; sent to the receiver as Idempotency-Key. */
    t.text('dedup_key').notNullable().unique()
    t.bigInteger('notification_id').notNullable().references('notifications.id').onDelete('CASCADE')
    t.text('channel').notNullable()
    /** The address resolved when queued (the unit's webhook or SMS gateway). */
    t.text('target').notNullable()
    t.jsonb('payload').notNullable()
    /** pending → sent; pending → failed after the last attempt. */
    t.text('state').notNullable().defaultTo('pending')
    t.integer('attempts').notNullable().defaultTo(0)
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.text('last_error')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('sent_at', { useTz: true })
  })
  await knex.raw(`create index notification_outbox_due on notification_outbox (next_attempt_at) where state = 'pending'`)
  await knex.schema.createTable('task_urges', (t) => {
    t.bigIncrements('id')
    t.text('task_key').notNullable().references('tasks.task_key')
    t.text('unit_id').notNullable().references('units.id')
    t.text('urged_by').notNullable().references('users.id')
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.index(['task_key', 'at'])
  })
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['task_urges', 'notification_outbox', 'notifications']) await knex.schema.dropTable(table)
  await knex.schema.alterTable('users', (t) => t.dropColumn('phone'))
  await knex.schema.alterTable('units', (t) => t.dropColumns('webhook_url', 'sms_gateway_url'))
}
