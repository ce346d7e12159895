// Starts and supervises the local Operaton engine (the jar built from engine/operaton/engine):
// restarts it when it dies, adopts one left running by a killed server, stops it on shutdown.
import { spawn, type ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs'
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises'
import { userInfo } from 'node:os'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { findJava } from '../java.ts'
import { ensureEngineJar } from './build.ts'

export interface EngineProcessOptions {
  /** Holds engine.log and engine.pid. */
  dataDir: string
  /** REST port; the engine listens on 127.0.0.1 only. */
  port: number
  /** Bearer token every REST call must carry. */
  token: string
  /** The server's database: postgres://user:pass@host:port/db */
  database: { url: string }
  /** Schema of the engine's own tables (created if missing). Default operaton. */
  engineSchema?: string
  /** Schema of the gongwen_* inbox functions. Default public. */
  appSchema?: string
  /** The JVM's heap (default 1024 MB); the definition cache is sized from it. */
  heapMb?: number
  /** More JVM options, e.g. quicker start-up for tests (-XX:TieredStopAtLevel=1). */
  javaOptions?: string[]
  log: Logger
  /** Longest idle pause of the job executor, i.e. how late a timer may fire. Default 2000. */
  jobExecutor?: { maxWaitMs: number }
}

/** The JVM's environment: the credential never appears on the command line, where ps shows it. */
export function engineEnvironment(options: EngineProcessOptions, javaHome: string): NodeJS.ProcessEnv {
  const db = jdbcOf(options.database.url)
  // Only what the JVM needs: Spring Boot reads every SPRING_*/SERVER_* variable as a setting, so
  // inheriting the server's environment could reconfigure the engine by accident.
  const inherited = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR']
  const env: NodeJS.ProcessEnv = Object.fromEntries(inherited.filter((k) => process.env[k]).map((k) => [k, process.env[k]]))
  return {
    ...env,
    JAVA_HOME: javaHome,
    GONGWEN_ENGINE_PORT: String(options.port),
    GONGWEN_ENGINE_TOKEN: options.token,
    GONGWEN_DB_URL: db.url,
    GONGWEN_DB_USER: db.user,
    GONGWEN_DB_PASSWORD: db.password,
    GONGWEN_ENGINE_SCHEMA: options.engineSchema ?? 'operaton',
    GONGWEN_APP_SCHEMA: options.appSchema ?? 'public',
    GONGWEN_JOB_MAX_WAIT_MS: String(options.jobExecutor?.maxWaitMs ?? 2000),
    GONGWEN_ENGINE_CACHE_CAPACITY: String(definitionCacheCapacity(options.heapMb ?? DEFAULT_HEAP_MB)),
  }
}

export const DEFAULT_HEAP_MB = 1024

/**
 * How many parsed process definitions the engine keeps (its deployment cache, least recently used
 * out first). Every unit has its own copy of each flow, and one parsed 发文 or 分文报批 takes about
 * 0.8 MB of heap: the engine's default of 1,000 needs 800 MB and ran a 1 GB engine out of memory
 * with 2,000 units. At most half the heap goes to the cache; a miss costs one parse of the model.
 */
export function definitionCacheCapacity(heapMb: number): number {
  return Math.max(100, Math.min(1000, Math.floor((heapMb * 0.5) / 0.8)))
}

/** postgres://user:pass@host:port/db?sslmode=… → a JDBC URL plus user and password. */
export function jdbcOf(postgresUrl: string): { url: string; user: string; password: string } {
  const u = new URL(postgresUrl)
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new Error(`not a postgres:// URL: ${u.protocol}`)
  if (!u.hostname) throw new Error('the engine needs a TCP host in the database URL (the JDBC driver has no Unix sockets)')
  // Like libpq: the user defaults to the OS user, the database to the user.
  const user = decodeURIComponent(u.username) || userInfo().username
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || user
  const query = new URLSearchParams(u.search)
  for (const k of ['user', 'password']) query.delete(k)
  const rest = query.toString()
  return {
    url: `jdbc:postgresql://${u.hostname}:${u.port || '5432'}/${encodeURIComponent(database)}${rest ? `?${rest}` : ''}`,
    user,
    password: decodeURIComponent(u.password),
  }
}

export class EngineProcess extends EventEmitter<{ restarted: [pid: number]; exited: [info: { code: number | null; signal: string | null }] }> {
  private child: ChildProcess | null = null
  /** The supervised pid: our child, or the engine adopted from a previous server. */
  private pid: number | null = null
  private stopping = false
  /** Whether an exit of the engine is unexpected and answered with a restart. */
  private restartOnExit = false
  private failures = 0
  private restartTimer: NodeJS.Timeout | null = null
  private adoptedWatch: NodeJS.Timeout | null = null
  private readonly pidFile: string
  private readonly logFile: string

  constructor(private readonly options: EngineProcessOptions) {
    super()
    this.pidFile = join(options.dataDir, 'engine.pid')
    this.logFile = join(options.dataDir, 'engine.log')
  }

  /** The REST API's base, e.g. http://127.0.0.1:8080/engine-rest */
  get url(): string {
    return `http://127.0.0.1:${this.options.port}/engine-rest`
  }

  /** Starts the engine (or adopts a healthy one on this data directory) and waits until it answers. */
  async start(timeoutMs = 180_000): Promise<void> {
    const { log, dataDir } = this.options
    await mkdir(dataDir, { recursive: true })
    this.stopping = false
    // A first start that fails is reported to the caller, not retried in the background.
    this.restartOnExit = false
    const previous = await this.previousPid()
    if (previous && (await this.ready())) {
      log.info({ pid: previous }, 'adopting the engine already running on this data directory')
      this.adopt(previous)
      this.restartOnExit = true
      return
    }
    if (previous) await killGroup(previous)
    if (await this.ready()) {
      throw new Error(`an engine not started from ${dataDir} already answers on port ${this.options.port}`)
    }
    const child = await this.spawnEngine()
    try {
      await this.readyOrExited(child, timeoutMs)
    } catch (err) {
      await this.stop()
      throw err
    }
    this.restartOnExit = true
    log.info({ pid: child.pid, url: this.url }, 'engine ready')
  }

  /** True when the REST API answers an authenticated request. */
  ready(): Promise<boolean> {
    return answers(this.url, this.options.token)
  }

  /** Resolves once the REST API answers (after a start or a restart); rejects after the timeout. */
  async waitUntilReady(timeoutMs = 180_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (await this.ready()) return
      if (this.stopping || (!this.restartOnExit && this.pid === null)) throw new Error('the engine is stopped')
      await sleep(250)
    }
    throw new Error(`the engine did not answer within ${Math.round(timeoutMs / 1000)} s; see ${this.logFile}`)
  }

  /** Waits for this child to answer; fails as soon as it exits, with the end of its log. */
  private async readyOrExited(child: ChildProcess, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`the engine exited during start-up (${child.signalCode ?? `exit code ${child.exitCode}`}); ` +
          `the end of ${this.logFile}:\n${await tail(this.logFile)}`)
      }
      if (await this.ready()) return
      await sleep(250)
    }
    throw new Error(`the engine did not answer within ${Math.round(timeoutMs / 1000)} s; see ${this.logFile}`)
  }

  /** Stops the engine gracefully (SIGTERM, then SIGKILL after the grace period). */
  async stop(graceMs = 30_000): Promise<void> {
    this.stopping = true
    this.clearTimers()
    if (this.pid) await killGroup(this.pid, 'SIGTERM', graceMs)
    this.child = null
    this.pid = null
    await rm(this.pidFile, { force: true })
  }

  /** Kills the engine as a crash would (SIGKILL). For tests; by default the supervisor restarts it. */
  async crash(options: { restart: boolean } = { restart: true }): Promise<void> {
    this.restartOnExit = options.restart
    if (this.pid) await killGroup(this.pid, 'SIGKILL')
  }

  private async spawnEngine(): Promise<ChildProcess> {
    const { log, heapMb = DEFAULT_HEAP_MB } = this.options
    const jar = await ensureEngineJar({ info: (message) => log.info(message) })
    const java = await findJava()
    const env = engineEnvironment(this.options, java.home)
    // The log file is the child's own stdout/stderr, so it keeps logging after this process dies.
    const out = openSync(this.logFile, 'a')
    let child: ChildProcess
    try {
      child = spawn(join(java.home, 'bin', 'java'), [`-Xmx${heapMb}m`, ...(this.options.javaOptions ?? []), '-jar', jar], {
        env,
        cwd: this.options.dataDir,
        stdio: ['ignore', out, out],
        // Its own process group: a signal to the server's group does not reach it, and stop()
        // signals the whole group.
        detached: true,
      })
    } finally {
      closeSync(out)
    }
    if (!child.pid) throw new Error(`could not start ${java.home}/bin/java`)
    child.unref()
    if (this.stopping) {
      // stop() was called while a restart was getting ready: this engine must not outlive it.
      await killGroup(child.pid, 'SIGKILL')
      throw new Error('the engine is being stopped')
    }
    this.child = child
    this.pid = child.pid
    await writeFile(this.pidFile, String(child.pid))
    log.info({ pid: child.pid, port: this.options.port, javaVersion: java.major, logFile: this.logFile }, 'engine starting')
    child.once('exit', (code, signal) => {
      if (this.child === child) this.onExit(code, signal)
    })
    return child
  }

  private adopt(pid: number): void {
    this.pid = pid
    // Not our child, so no exit event: look every second whether it is still there.
    this.adoptedWatch = setInterval(() => {
      if (this.pid === pid && !alive(pid)) this.onExit(null, null)
    }, 1000)
    this.adoptedWatch.unref()
  }

  private onExit(code: number | null, signal: string | null): void {
    this.clearTimers()
    this.child = null
    this.pid = null
    this.emit('exited', { code, signal })
    if (this.stopping || !this.restartOnExit) return
    this.failures++
    const delay = Math.min(30_000, 1000 * 2 ** (this.failures - 1))
    this.options.log.error({ code, signal, logFile: this.logFile, restartInMs: delay }, 'the engine exited unexpectedly; restarting it')
    this.restartTimer = setTimeout(() => void this.restart(), delay)
    this.restartTimer.unref()
  }

  private async restart(): Promise<void> {
    this.restartTimer = null
    if (this.stopping || !this.restartOnExit) return
    let child: ChildProcess | null = null
    try {
      child = await this.spawnEngine()
      await this.readyOrExited(child, 180_000)
    } catch (err) {
      if (this.stopping || !this.restartOnExit) return
      this.options.log.error({ err }, 'the engine did not come back')
      // An exit already scheduled the next attempt; a hang is killed so that its exit does.
      if (!child) this.onExit(null, null)
      else if (this.child === child && this.pid) await killGroup(this.pid, 'SIGKILL')
      return
    }
    this.failures = 0
    this.options.log.info({ pid: child.pid }, 'engine restarted and ready')
    this.emit('restarted', child.pid!)
  }

  private clearTimers(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer)
    if (this.adoptedWatch) clearInterval(this.adoptedWatch)
    this.restartTimer = null
    this.adoptedWatch = null
  }

  private async previousPid(): Promise<number | null> {
    if (!existsSync(this.pidFile)) return null
    const pid = Number((await readFile(this.pidFile, 'utf8')).trim())
    return pid && alive(pid) ? pid : null
  }
}

/**
 * An engine node someone else runs on this machine (ENGINE_URL: the service manager, or one node
 * for a whole test run): this server uses it and waits for it, but never starts or stops it.
 */
export class RunningEngine {
  constructor(readonly url: string, private readonly token: string) {}

  async start(): Promise<void> {
    await this.waitUntilReady()
  }

  async stop(): Promise<void> {
    /* not ours to stop */
  }

  async crash(): Promise<void> {
    throw new Error(`the engine at ${this.url} is not supervised by this server`)
  }

  async waitUntilReady(timeoutMs = 180_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (await answers(this.url, this.token)) return
      await sleep(250)
    }
    throw new Error(`the engine at ${this.url} (ENGINE_URL) did not answer within ${Math.round(timeoutMs / 1000)} s: start it, or unset ENGINE_URL to let the server start its own`)
  }
}

/** True when the engine's REST API at `url` answers a request with this credential. */
async function answers(url: string, token: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/engine`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(2000) })
    await res.body?.cancel()
    return res.ok
  } catch {
    return false
  }
}

/** Whether the process runs (a zombie left by a killed parent does not count). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  // A dead engine whose parent (a killed server) is gone may stay a zombie where nothing reaps
  // orphans (a container without an init): it still takes signals but is no engine.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return true
  }
}

async function tail(file: string, lines = 20): Promise<string> {
  try {
    const handle = await open(file, 'r')
    try {
      const { size } = await handle.stat()
      const length = Math.min(size, 16_384)
      const { buffer } = await handle.read(Buffer.alloc(length), 0, length, size - length)
      return buffer.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n')
    } finally {
      await handle.close()
    }
  } catch {
    return '(no log)'
  }
}

async function killGroup(pid: number, signal: NodeJS.Signals = 'SIGTERM', graceMs = 30_000): Promise<void> {
  const send = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig)
    } catch {
      try {
        process.kill(pid, sig)
      } catch {
        /* already gone */
      }
    }
  }
  send(signal)
  const deadline = Date.now() + graceMs
  while (alive(pid) && Date.now() < deadline) await sleep(100)
  if (alive(pid)) {
    send('SIGKILL')
    while (alive(pid)) await sleep(100)
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
