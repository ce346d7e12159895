// Runs the automated steps: long-polls the engine's external tasks, hands each to the handler of
// its topic, and completes it with the handler's variables or fails it so the engine retries later.
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'
import { EngineError, type AutomatedStep, type StepHandler } from '../port.ts'
import { Rest, retryOnConflict } from './rest.ts'
import { decodeVariables, encodeVariables, type TypedValue } from './variables.ts'

export interface WorkerOptions {
  workerId: string
  log: Logger
  /**
   * How long one poll waits for work. A waiting poll is woken only by tasks created on its own
   * engine node, so on a cluster a short wait bounds the delay for tasks created elsewhere.
   */
  pollTimeoutMs?: number
  /** Handlers running at once; a poll asks for no more tasks than there are free places. */
  concurrency?: number
  /** How long a fetched task stays ours before the engine offers it again. */
  lockDurationMs?: number
  /** Tries an automated step gets when the engine has not counted yet. */
  retries?: number
}

/** One task as POST /external-task/fetchAndLock returns it (the fields used here). */
interface LockedTask {
  id: string
  topicName: string
  processInstanceId: string
  tenantId: string | null
  retries: number | null
  variables: Record<string, TypedValue> | null
}

export class ExternalTaskWorkers {
  private readonly abort = new AbortController()
  private readonly running = new Set<Promise<void>>()
  private loop: Promise<void> | null = null
  private readonly pollTimeoutMs: number
  private readonly concurrency: number
  private readonly lockDurationMs: number
  private readonly retries: number

  constructor(
    private readonly rest: Rest,
    private readonly handlers: Record<string, StepHandler>,
    private readonly options: WorkerOptions,
  ) {
    this.pollTimeoutMs = options.pollTimeoutMs ?? 5_000
    this.concurrency = options.concurrency ?? 10
    // Short, and renewed while a step runs: a step held by a node that died (or by a long poll the
    // engine still answers after its node went away) is offered again within 10 s.
    this.lockDurationMs = options.lockDurationMs ?? 10_000
    this.retries = options.retries ?? 5
  }

  start(): void {
    if (this.loop || Object.keys(this.handlers).length === 0) return
    this.loop = this.poll()
  }

  /** Ends the poll at once and waits for the handlers already running to finish. */
  async stop(): Promise<void> {
    this.abort.abort()
    await this.loop
    await Promise.all(this.running)
  }

  private async poll(): Promise<void> {
    const { log } = this.options
    const signal = this.abort.signal
    let failures = 0
    while (!signal.aborted) {
      if (this.running.size >= this.concurrency) {
        await Promise.race(this.running)
        continue
      }
      const started = Date.now()
      let tasks: LockedTask[]
      try {
        tasks = await this.rest.call<LockedTask[]>('POST', '/external-task/fetchAndLock', {
          body: {
            workerId: this.options.workerId,
            maxTasks: this.concurrency - this.running.size,
            usePriority: true,
            asyncResponseTimeout: this.pollTimeoutMs,
            // No `variables` list: every variable in scope is fetched.
            topics: Object.keys(this.handlers).map((topicName) => ({ topicName, lockDuration: this.lockDurationMs })),
          },
          signal,
          timeoutMs: this.pollTimeoutMs + 15_000,
        })
      } catch (err) {
        if (signal.aborted) break
        // One warning per outage (the engine restarting, a wrong token), then quiet retries.
        if (failures++ === 0) log.warn({ err }, 'polling the engine for automated steps failed; polling again until it answers')
        await pause(Math.min(1_000 * 2 ** (failures - 1), 10_000), signal)
        continue
      }
      if (failures > 0) log.info({ failures }, 'the engine answers again; automated steps resume')
      failures = 0
      for (const task of tasks) this.track(this.run(task))
      // A poll should wait for work; one that comes back empty at once must not spin.
      if (tasks.length === 0 && Date.now() - started < 200) await pause(200, signal)
    }
  }

  private track(job: Promise<void>): void {
    // run() handles its own failures; this only keeps a surprise from breaking the poll loop.
    const settled: Promise<void> = job
      .catch((err) => this.options.log.error({ err }, 'automated step runner failed'))
      .finally(() => this.running.delete(settled))
    this.running.add(settled)
  }

  private async run(task: LockedTask): Promise<void> {
    const { log, workerId } = this.options
    const step: AutomatedStep = {
      id: task.id,
      topic: task.topicName,
      instanceId: task.processInstanceId,
      tenant: task.tenantId ?? null,
      variables: decodeVariables(task.variables),
      retries: task.retries ?? null,
    }
    const handler = this.handlers[task.topicName]
    let output: Awaited<ReturnType<StepHandler>>
    // A step that runs longer than its lock (分发 to thousands of units) keeps it: the engine
    // would otherwise offer it to another worker while it is still running.
    const keepLock = setInterval(() => {
      this.rest
        .call('POST', `/external-task/${task.id}/extendLock`, { body: { workerId, newDuration: this.lockDurationMs } })
        .catch((err) => log.warn({ err, taskId: task.id, topic: task.topicName }, 'could not extend the lock of a running automated step'))
    }, this.lockDurationMs / 2)
    try {
      if (!handler) throw new Error(`no handler for topic ${task.topicName}`)
      output = await handler(step)
    } catch (err) {
      await this.fail(task, err)
      return
    } finally {
      clearInterval(keepLock)
    }
    try {
      // Encoding may refuse a value the handler returned: that is the handler's fault, retried later.
      const variables = encodeVariables(output ?? {})
      await retryOnConflict(() => this.rest.call('POST', `/external-task/${task.id}/complete`, { body: { workerId, variables } }), {
        onConflict: (err, attempt) => log.debug({ err, taskId: task.id, attempt }, 'engine conflict; completing again'),
      })
    } catch (err) {
      if (err instanceof EngineError && err.kind !== 'rejected') {
        // Gone (instance cancelled) or lost its lock: nothing to retry here; the engine reoffers it if needed.
        log.warn({ err, taskId: task.id, topic: task.topicName }, 'could not complete an automated step')
      } else {
        await this.fail(task, err)
      }
    }
  }

  /** Fails the task with fewer tries left and a growing wait (1 s, 2 s, 4 s … 60 s). */
  private async fail(task: LockedTask, err: unknown): Promise<void> {
    const left = task.retries ?? this.retries
    const retries = Math.max(left - 1, 0)
    const attempt = Math.max(this.retries - left, 0)
    const retryTimeout = Math.min(1_000 * 2 ** attempt, 60_000)
    const errorMessage = String((err as Error)?.message ?? err).slice(0, 3_000)
    this.options.log.warn({ err, taskId: task.id, topic: task.topicName, retries, retryTimeout }, 'automated step failed; the engine will retry it')
    try {
      await this.rest.call('POST', `/external-task/${task.id}/failure`, {
        body: { workerId: this.options.workerId, errorMessage, errorDetails: (err as Error)?.stack, retries, retryTimeout },
      })
    } catch (failErr) {
      // The lock runs out and the engine offers the task again anyway.
      this.options.log.warn({ err: failErr, taskId: task.id }, 'could not report a failed automated step')
    }
  }
}

/** Waits, but returns at once when the workers stop. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal }).catch(() => undefined)
}
