// What the retry loops share (stored completions, the notification outbox): each item's own
// exponential backoff with a cap, a dead letter after the last attempt, a time limit per attempt,
// and a runner that keeps a few items in flight so one slow item never holds back the due ones.
import type { Logger } from 'pino'

export interface RetryPolicy {
  /** First retry delay; doubled per failed attempt. */
  baseMs: number
  /** The longest delay between two attempts. */
  maxDelayMs: number
  /** Failed attempts before the item becomes a dead letter. */
  maxAttempts: number
}

export const defaultRetryPolicy: RetryPolicy = { baseMs: 2000, maxDelayMs: 5 * 60 * 1000, maxAttempts: 10 }

/** The wait after the `attempts`-th failure: base, 2×base, 4×base … up to the cap. */
export function backoffMs(policy: RetryPolicy, attempts: number): number {
  return Math.min(policy.baseMs * 2 ** Math.max(0, attempts - 1), policy.maxDelayMs)
}

/** `work`, or a rejection after `ms` (the work itself goes on; callers fence their writes). */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms)
  })
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer))
}

/**
 * Runs due items with at most `concurrency` in flight. `claim(n)` leases up to n due items (ordered
 * by when they are due); as soon as one finishes, its slot claims the next, so an item that hangs
 * until its time limit occupies one slot and the others keep going.
 */
export class SlotRunner<T> {
  private running = false
  private active = 0
  private claiming: Promise<void> | null = null
  private again = false
  private timer: NodeJS.Timeout | null = null
  private readonly inFlight = new Set<Promise<void>>()

  constructor(
    private readonly claim: (n: number) => Promise<T[]>,
    private readonly work: (item: T) => Promise<void>,
    private readonly options: { concurrency: number; pollMs: number; log: Logger; what: string },
  ) {}

  start(): void {
    if (this.running) return
    this.running = true
    this.pump()
  }

  /** Stops claiming and waits for the items in flight (those of a claim under way too). */
  async stop(): Promise<void> {
    this.running = false
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.claiming
    await Promise.all([...this.inFlight])
  }

  /** Claims as many items as there are free slots; polls again later when fewer were due. */
  private pump(): void {
    if (!this.running) return
    if (this.claiming) {
      this.again = true
      return
    }
    const free = Math.max(1, this.options.concurrency) - this.active
    if (free <= 0) return
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.claiming = this.claim(free)
      .then((items) => {
        for (const item of items) this.begin(item)
        return items.length
      }, (err) => {
        this.options.log.warn({ err }, `${this.options.what}: could not read the due items`)
        return 0
      })
      .then((claimed) => {
        this.claiming = null
        if (!this.running) return
        if (this.again || (claimed === free && claimed > 0)) {
          this.again = false
          this.pump()
        } else if (!this.timer) {
          this.timer = setTimeout(() => {
            this.timer = null
            this.pump()
          }, this.options.pollMs)
        }
      })
  }

  private begin(item: T): void {
    this.active++
    const done: Promise<void> = this.work(item)
      .catch((err) => this.options.log.warn({ err }, `${this.options.what}: an item failed unexpectedly`))
      .finally(() => {
        this.active--
        this.inFlight.delete(done)
        this.pump()
      })
    this.inFlight.add(done)
  }
}
