// Placeholder: the notification outbox (filled in by the notifications work).
import type { Knex } from 'knex'
import type { Logger } from 'pino'

export type NotificationKind = 'reminder' | 'overdue' | 'urge' | 'arrival'

export class Notifications {
  constructor(
    private readonly knex: Knex,
    private readonly log: Logger,
  ) {}

  /** Queues one notification per task and kind for the people who may act on the task; a repeat queues nothing. */
  async enqueueForTask(_db: Knex | Knex.Transaction, _taskKey: string, _kind: NotificationKind, _text?: string): Promise<boolean> {
    return false
  }

  start(): void {}

  async stop(): Promise<void> {}
}
