// Starts and supervises a local single-node Zeebe broker (with its embedded gateway) when no
// ZEEBE_ADDRESS is configured. Its data directory survives restarts; a broker left running by a
// killed server is adopted, not started twice.
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, existsSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { ensureDistribution } from './distribution.ts'
import { findJava } from './java.ts'

export interface BrokerOptions {
  dataDir: string
  ports: { grpc: number; rest: number; management: number; command: number; internal: number }
  exporter: { url: string; token: string }
  heapMb?: number
  log: Logger
}

export class LocalBroker {
  private child: ChildProcess | null = null
  private adoptedPid: number | null = null
  private stopping = false
  private readonly pidFile: string

  constructor(private readonly options: BrokerOptions) {
    this.pidFile = join(options.dataDir, 'broker.pid')
  }

  get grpcAddress(): string {
    return `127.0.0.1:${this.options.ports.grpc}`
  }

  get restAddress(): string {
    return `http://127.0.0.1:${this.options.ports.rest}`
  }

  /** Starts the broker (or adopts a healthy one left by an earlier process) and waits until ready. */
  async start(timeoutMs = 120_000): Promise<void> {
    const { log, dataDir, ports } = this.options
    await mkdir(dataDir, { recursive: true })
    const previous = await this.previousPid()
    if (previous && (await this.ready())) {
      log.info({ pid: previous }, 'adopting the Zeebe broker already running on this data directory')
      this.adoptedPid = previous
      return
    }
    if (previous) await killAndWait(previous)

    const dist = await ensureDistribution(log)
    const java = await findJava()
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      JAVA_HOME: java.home,
      JAVA_OPTS: `-Xms256m -Xmx${this.options.heapMb ?? 1024}m -XX:+UseParallelGC ${process.env.ZEEBE_JAVA_OPTS ?? ''}`,
      ZEEBE_BROKER_DATA_DIRECTORY: join(dataDir, 'data'),
      ZEEBE_BROKER_NETWORK_HOST: '127.0.0.1',
      ZEEBE_BROKER_GATEWAY_NETWORK_HOST: '127.0.0.1',
      ZEEBE_BROKER_GATEWAY_NETWORK_PORT: String(ports.grpc),
      ZEEBE_BROKER_NETWORK_COMMANDAPI_PORT: String(ports.command),
      ZEEBE_BROKER_NETWORK_INTERNALAPI_PORT: String(ports.internal),
      SERVER_ADDRESS: '127.0.0.1',
      SERVER_PORT: String(ports.rest),
      MANAGEMENT_SERVER_PORT: String(ports.management),
      // A single machine: keep the disk watermarks from stopping a busy developer laptop.
      ZEEBE_BROKER_DATA_DISK_FREESPACE_PROCESSING: '512MB',
      ZEEBE_BROKER_DATA_DISK_FREESPACE_REPLICATION: '256MB',
      ZEEBE_BROKER_EXPORTERS_GONGWEN_CLASSNAME: 'io.gongwen.exporter.GongwenExporter',
      ZEEBE_BROKER_EXPORTERS_GONGWEN_JARPATH: dist.exporterJar,
      ZEEBE_BROKER_EXPORTERS_GONGWEN_ARGS_URL: this.options.exporter.url,
      ZEEBE_BROKER_EXPORTERS_GONGWEN_ARGS_TOKEN: this.options.exporter.token,
    }
    const logFile = join(dataDir, 'broker.log')
    log.info({ javaHome: java.home, javaVersion: java.major, logFile, ports }, 'starting the local Zeebe broker')
    const out = createWriteStream(logFile, { flags: 'a' })
    const child = spawn(join(dist.home, 'bin', 'broker'), [], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    child.stdout!.pipe(out)
    child.stderr!.pipe(out)
    this.child = child
    this.stopping = false
    await writeFile(this.pidFile, String(child.pid))
    let exited = false
    child.once('exit', (code, signal) => {
      exited = true
      if (!this.stopping) log.error({ code, signal, logFile }, 'the Zeebe broker exited unexpectedly; see its log')
    })

    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (exited) throw new Error(`the Zeebe broker exited during start-up; see ${logFile}`)
      if (await this.ready()) {
        log.info({ pid: child.pid }, 'Zeebe broker ready')
        return
      }
      await sleep(500)
    }
    throw new Error(`the Zeebe broker was not ready after ${timeoutMs / 1000}s; see ${logFile}`)
  }

  /** The broker's own readiness probe on its management port. */
  async ready(): Promise<boolean> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.options.ports.management}/actuator/health/readiness`, {
        signal: AbortSignal.timeout(1000),
      })
      return res.ok
    } catch {
      return false
    }
  }

  /** Stops the broker gracefully (SIGTERM, then SIGKILL after a grace period). */
  async stop(): Promise<void> {
    this.stopping = true
    const pid = this.child?.pid ?? this.adoptedPid
    if (pid) await killAndWait(pid)
    this.child = null
    this.adoptedPid = null
    await rm(this.pidFile, { force: true })
  }

  /** Kills the broker without a chance to shut down, as a crash would. For tests of recovery. */
  async crash(): Promise<void> {
    this.stopping = true
    const pid = this.child?.pid ?? this.adoptedPid
    if (pid) await killAndWait(pid, 'SIGKILL')
    this.child = null
    this.adoptedPid = null
  }

  private async previousPid(): Promise<number | null> {
    if (!existsSync(this.pidFile)) return null
    const pid = Number((await readFile(this.pidFile, 'utf8')).trim())
    return pid && alive(pid) ? pid : null
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function killAndWait(pid: number, signal: NodeJS.Signals = 'SIGTERM', graceMs = 30_000): Promise<void> {
  // The broker script runs java as a child; signal the whole process group.
  const signalGroup = (sig: NodeJS.Signals) => {
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
  signalGroup(signal)
  const deadline = Date.now() + graceMs
  while (alive(pid) && Date.now() < deadline) await sleep(100)
  if (alive(pid)) {
    signalGroup('SIGKILL')
    while (alive(pid)) await sleep(100)
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
