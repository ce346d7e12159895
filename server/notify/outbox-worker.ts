// Delivers the notification outbox: leases due rows, sends each over its channel, records the outcome.
//
// Exactly once, across retries, restarts and several server instances sharing the database:
// - A row is leased before it is sent: one UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)
//   moves its next_attempt_at past the send's time limit, so no other instance sees it due while it
//   is being sent. If the sender dies, the lease runs out and the row is due again.
// - A row is marked sent after the receiver's 2xx, fenced on the attempt it was leased for.
// - That leaves one gap: the receiver answered 2xx but our write never happened (crash, lost
//   connection). The row is then sent a second time. Every request therefore carries an
//   Idempotency-Key header (the outbox row's dedup_key, stable across attempts), and a receiver
//   that remembers the keys it accepted drops that one repeat.
//
// Never blocking: each row retries on its own backoff (RetryPolicy), the due rows go first in the
// order they fell due, a few are in flight at once, each within its time limit, so a receiver that
// hangs or keeps failing occupies one slot and delays nobody else's notifications. After the last
// attempt a row is a dead letter (state 'failed') for the unit admin to retry or discard.
//
// Every request leaves through the outbound guard (outbound.ts), which checks the address on each
// attempt; a refused address or a redirect makes the row a dead letter at once, with the reason,
// instead of retrying it as if it were transient.
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import { backoffMs, SlotRunner, withTimeout, type RetryPolicy } from '../services/recovery.ts'
import type { Channel } from './channel.ts'
import { OutboundRefused, type Outbound } from './outbound.ts'

export interface OutboxOptions {
  /** How often to look for due rows when idle. */
  pollMs: number
  /** Rows sent at once by this instance. */
  batch: number
  /** How long a receiver may take to answer. */
  timeoutMs: number
  /** First retry delay; doubled per failed attempt, up to maxDelayMs. */
  retryBaseMs: number
  /** Attempts before a row is given up as a dead letter ('failed'). */
  maxAttempts: number
  /** The longest delay between two attempts. Default 5 minutes. */
  maxDelayMs?: number
}

interface OutboxRow {
  id: string
  dedup_key: string
  channel: string
  target: string
  payload: unknown
  attempts: number
}

export class OutboxWorker {
  private readonly runner: SlotRunner<OutboxRow>
  private readonly policy: RetryPolicy

  constructor(
    private readonly knex: Knex,
    private readonly log: Logger,
    private readonly channels: readonly Channel[],
    private readonly options: OutboxOptions,
    private readonly outbound: Outbound,
  ) {
    this.policy = { baseMs: options.retryBaseMs, maxDelayMs: options.maxDelayMs ?? 5 * 60 * 1000, maxAttempts: options.maxAttempts }
    this.runner = new SlotRunner((n) => this.claim(n), (row) => this.deliver(row), {
      concurrency: options.batch, pollMs: options.pollMs, log, what: 'notification outbox',
    })
  }

  start(): void {
    this.runner.start()
  }

  async stop(): Promise<void> {
    await this.runner.stop()
  }

  /** Leases up to `n` due rows, the longest due first, for longer than a send may take. */
  private async claim(n: number): Promise<OutboxRow[]> {
    const leaseMs = this.options.timeoutMs * 2 + 30_000
    const { rows } = await this.knex.raw<{ rows: OutboxRow[] }>(
      `update notification_outbox o set next_attempt_at = now() + ? * interval '1 millisecond'
         from (select id from notification_outbox where state = 'pending' and next_attempt_at <= now()
                order by next_attempt_at, id limit ? for update skip locked) due
        where o.id = due.id
       returning o.id, o.dedup_key, o.channel, o.target, o.payload, o.attempts`,
      [leaseMs, n],
    )
    return rows
  }

  private async deliver(row: OutboxRow): Promise<void> {
    const { error, permanent } = await this.send(row)
    await this.record(row, error, permanent)
  }

  /** Sends one row within its time limit; error is null on success, else its text; permanent when retrying cannot help. */
  private async send(row: OutboxRow): Promise<{ error: string | null; permanent: boolean }> {
    try {
      const channel = this.channels.find((c) => c.name === row.channel)
      if (!channel) throw new Error(`unknown channel ${row.channel}`)
      const sending = channel.send({ target: row.target, payload: row.payload }, { idempotencyKey: row.dedup_key, timeoutMs: this.options.timeoutMs, outbound: this.outbound })
      await withTimeout(sending, this.options.timeoutMs + 1000, `${row.channel} delivery`)
      return { error: null, permanent: false }
    } catch (err) {
      const permanent = (err as { permanent?: unknown } | null)?.permanent === true
      const text = err instanceof Error ? `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}` : String(err)
      return { error: err instanceof OutboundRefused ? `已拒绝：${text}` : text, permanent }
    }
  }

  /** Marks the row sent, or schedules its retry with backoff, or gives it up (refused for good, or after the last attempt). */
  private async record(row: OutboxRow, error: string | null, permanent = false): Promise<void> {
    const attempts = row.attempts + 1
    const log = this.log.child({ outboxId: row.id, channel: row.channel, key: row.dedup_key, attempts })
    // Fenced on the attempt this lease was for: a row retried or discarded meanwhile is left alone.
    const outbox = this.knex('notification_outbox').where({ id: row.id, state: 'pending', attempts: row.attempts })
    if (error === null) {
      await outbox.update({ state: 'sent', attempts, sent_at: this.knex.fn.now(), last_error: null })
      log.info('notification delivered')
    } else if (permanent) {
      await outbox.update({ state: 'failed', attempts, last_error: error, dead_at: this.knex.fn.now() })
      log.error({ error, target: row.target }, 'notification refused for good (not retried): a dead letter for the unit admin')
    } else if (attempts >= this.policy.maxAttempts) {
      await outbox.update({ state: 'failed', attempts, last_error: error, dead_at: this.knex.fn.now() })
      log.error({ error }, 'notification given up after the last attempt: a dead letter for the unit admin')
    } else {
      const delay = backoffMs(this.policy, attempts)
      await outbox.update({ attempts, last_error: error, next_attempt_at: this.knex.raw(`now() + ? * interval '1 millisecond'`, [delay]) })
      log.warn({ error, retryInMs: delay }, 'notification not delivered; will retry')
    }
  }
}
