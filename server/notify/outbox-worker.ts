// Delivers the notification outbox: polls due rows, sends each over its channel, records the outcome.
//
// Exactly once, across retries, restarts and several server instances sharing the database:
// - A batch is claimed with SELECT … FOR UPDATE SKIP LOCKED inside one transaction, so a row being
//   sent by one instance is invisible to the others until that transaction ends.
// - A row is marked sent in that same transaction, after the receiver's 2xx. If the sender dies
//   before the commit, the lock goes with its connection and the row is due again.
// - That leaves one gap: the receiver answered 2xx but our commit never happened (crash, lost
//   connection). The row is then sent a second time. Every request therefore carries an
//   Idempotency-Key header (the outbox row's dedup_key, stable across attempts), and a receiver
//   that remembers the keys it accepted drops that one repeat.
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import type { Channel } from './channel.ts'

export interface OutboxOptions {
  /** How often to look for due rows when idle. */
  pollMs: number
  /** Rows claimed (and sent in parallel) per transaction. */
  batch: number
  /** How long a receiver may take to answer. */
  timeoutMs: number
  /** First retry delay; doubled per failed attempt, up to an hour. */
  retryBaseMs: number
  /** Attempts before a row is given up as failed. */
  maxAttempts: number
}

const MAX_DELAY_MS = 60 * 60 * 1000

interface OutboxRow {
  id: string
  dedup_key: string
  channel: string
  target: string
  payload: unknown
  attempts: number
}

export class OutboxWorker {
  private running = false
  private timer: NodeJS.Timeout | null = null
  private current: Promise<void> | null = null

  constructor(
    private readonly knex: Knex,
    private readonly log: Logger,
    private readonly channels: readonly Channel[],
    private readonly options: OutboxOptions,
  ) {}

  start(): void {
    if (this.running) return
    this.running = true
    this.schedule(0)
  }

  async stop(): Promise<void> {
    this.running = false
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.current
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.current = this.loop()
    }, ms)
  }

  private async loop(): Promise<void> {
    let claimed = 0
    try {
      claimed = await this.deliverDue()
    } catch (err) {
      this.log.error({ err }, 'notification outbox: delivery round failed')
    }
    // A full round may have left more due rows: go again at once; otherwise wait for the next poll.
    if (this.running) this.schedule(claimed >= this.options.batch ? 0 : this.options.pollMs)
  }

  /** One round: claims up to `batch` due rows, sends them, records each outcome; returns how many it claimed. */
  async deliverDue(): Promise<number> {
    return this.knex.transaction(async (trx) => {
      const rows = await trx('notification_outbox')
        .where('state', 'pending')
        .andWhere('next_attempt_at', '<=', trx.fn.now())
        .orderBy('next_attempt_at')
        .limit(this.options.batch)
        .forUpdate()
        .skipLocked()
        .select<OutboxRow[]>('id', 'dedup_key', 'channel', 'target', 'payload', 'attempts')
      // Sent in parallel; outcomes recorded one after another (one connection runs one query at a time).
      const outcomes = await Promise.all(rows.map((row) => this.send(row)))
      for (const [i, row] of rows.entries()) await this.record(trx, row, outcomes[i])
      return rows.length
    })
  }

  /** Sends one row; resolves to null on success, else the error text. */
  private async send(row: OutboxRow): Promise<string | null> {
    try {
      const channel = this.channels.find((c) => c.name === row.channel)
      if (!channel) throw new Error(`unknown channel ${row.channel}`)
      await channel.send({ target: row.target, payload: row.payload }, { idempotencyKey: row.dedup_key, timeoutMs: this.options.timeoutMs })
      return null
    } catch (err) {
      return err instanceof Error ? `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}` : String(err)
    }
  }

  /** Marks the row sent, or schedules its retry with backoff, or gives it up after the last attempt. */
  private async record(trx: Knex.Transaction, row: OutboxRow, error: string | null): Promise<void> {
    const attempts = row.attempts + 1
    const log = this.log.child({ outboxId: row.id, channel: row.channel, key: row.dedup_key, attempts })
    const outbox = trx('notification_outbox').where({ id: row.id })
    if (error === null) {
      await outbox.update({ state: 'sent', attempts, sent_at: trx.fn.now(), last_error: null })
      log.info('notification delivered')
    } else if (attempts >= this.options.maxAttempts) {
      await outbox.update({ state: 'failed', attempts, last_error: error })
      log.error({ error }, 'notification given up after the last attempt')
    } else {
      const delay = Math.min(this.options.retryBaseMs * 2 ** (attempts - 1), MAX_DELAY_MS)
      await outbox.update({ attempts, last_error: error, next_attempt_at: trx.raw(`now() + ? * interval '1 millisecond'`, [delay]) })
      log.warn({ error, retryInMs: delay }, 'notification not delivered; will retry')
    }
  }
}
