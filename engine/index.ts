// The one file that picks the engine: Operaton (engine/operaton), started and supervised beside
// the server on loopback, sharing the server's PostgreSQL. Everything else imports engine/port.ts
// and what this file re-exports.
import type { Logger } from 'pino'
import { OperatonEngine } from './operaton/client.ts'
import { EngineProcess, RunningEngine } from './operaton/process.ts'
import type { WorkflowEngine } from './port.ts'

export { parseModel, moddleExtensions } from './operaton/model.ts'
export { checkUnitModel } from './operaton/unit-model-rules.ts'
export * from './port.ts'

/** The engine node run beside this server: tests stop and crash it. */
export interface EngineNode {
  readonly url: string
  start(): Promise<void>
  stop(): Promise<void>
  crash(options?: { restart: boolean }): Promise<void>
  waitUntilReady(timeoutMs?: number): Promise<void>
}

export interface EngineSettings {
  /** An engine node run by someone else on this machine: used as it is, never started or stopped. */
  url?: string | null
  /** Where the engine writes its log and pid file. */
  dataDir: string
  port: number
  token: string
  /** postgres://… of the server's database; the engine keeps its tables in its own schema there. */
  databaseUrl: string
  heapMb: number
  javaOptions: string[]
  log: Logger
  /** Tries an automated step gets before it becomes an incident (default 5). */
  stepRetries?: number
}

/** Starts (or adopts) the local engine node, or waits for the one at `url`, and returns a client for it. */
export async function startEngine(settings: EngineSettings): Promise<{ engine: WorkflowEngine; node: EngineNode }> {
  const node = settings.url ? new RunningEngine(settings.url, settings.token) : new EngineProcess({
    dataDir: settings.dataDir,
    port: settings.port,
    token: settings.token,
    database: { url: settings.databaseUrl },
    heapMb: settings.heapMb,
    javaOptions: settings.javaOptions,
    log: settings.log,
  })
  await node.start()
  const engine = new OperatonEngine({ url: node.url, token: settings.token, log: settings.log, stepRetries: settings.stepRetries })
  return { engine, node }
}
