// Every setting of the system, declared once: name, type, default and meaning.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseAllowList } from './notify/outbound.ts'

export interface Config {
  /** PORT — HTTP port of the server. Default 3000. */
  port: number
  /** HOST — interface to listen on. Default 127.0.0.1. */
  host: string
  /** GONGWEN_DATA_DIR — engine log, embedded PostgreSQL, generated secrets. Default ./data. */
  dataDir: string
  /** DATABASE_URL — PostgreSQL to use; when unset an embedded PostgreSQL runs in the data dir. */
  databaseUrl: string | null
  /** EMBEDDED_PG_PORT — port of the embedded PostgreSQL. Default 54329. */
  embeddedPgPort: number
  /** ENGINE_PORT — loopback port of the engine node this server starts and supervises. Default 8090. */
  enginePort: number
  /**
   * ENGINE_URL — an engine node already running on this machine (started by the service manager, or
   * once for a whole test run) that this server uses instead of starting its own; it is neither
   * started nor stopped here. Loopback only: the engine's credential is sent to it. Default none.
   */
  engineUrl: string | null
  /** ENGINE_TOKEN — credential the engine's REST API requires; generated into the data dir when unset. */
  engineToken: string
  /** ENGINE_HEAP_MB — heap of the engine's JVM. Default 1024. */
  engineHeapMb: number
  /** ENGINE_JAVA_OPTS — more options for the engine's JVM, space-separated. Default none. */
  engineJavaOpts: string[]
  /** AUTH_SECRET — key that signs login tokens; generated into the data dir when unset. */
  authSecret: string
  /** TOKEN_TTL — lifetime of a login token. Default 12h. */
  tokenTtl: string
  /** Login defences (see LoginSettings). */
  login: LoginSettings
  /** BODY_LIMIT — largest accepted request body in bytes. Default 1 MiB. */
  bodyLimit: number
  /** SEED_DEMO — load demo units and people on first start (true/false). Default true. */
  seedDemo: boolean
  /** Chromium used to print 笺 as PDF (Debian's chromium package). */
  chromiumPath: string
  /** LOG_LEVEL — pino level. Default info. */
  logLevel: string
  /**
   * OUTBOUND_ALLOW_HTTP — calls to addresses people type in (a unit's webhook and SMS gateway) may use
   * plain http:// (true/false). Default false: https:// only.
   */
  outboundAllowHttp: boolean
  /**
   * OUTBOUND_ALLOW — comma-separated IP addresses, CIDR ranges and host names that those calls may
   * reach although they are loopback, private, link-local, unique-local, CGNAT or otherwise not public,
   * e.g. 10.20.0.0/16,sms.intranet.example. Default none: public addresses only.
   */
  outboundAllow: string[]
  /** RETRY_BASE_MS — first retry delay of a stored completion or an outbox delivery; doubled per failure. Default 2000. */
  retryBaseMs: number
  /** RETRY_MAX_DELAY_MS — the longest delay between two retries of one item. Default 300000 (5 min). */
  retryMaxDelayMs: number
  /** RETRY_MAX_ATTEMPTS — failed attempts before an item becomes a dead letter (失败待处理). Default 10. */
  retryMaxAttempts: number
  /** PDF_CONCURRENCY — 笺 printed to PDF at once. Default 2. */
  pdfConcurrency: number
  /** PDF_QUEUE — prints that may wait for a free slot; beyond that the answer is 503 with Retry-After. Default 8. */
  pdfQueue: number
  /** PDF_TIMEOUT_MS — longest time one print may take. Default 30000. */
  pdfTimeoutMs: number
  /** STEP_RETRIES — tries an automated step gets before it becomes an engine incident (运行监控). Default 5. */
  stepRetries: number
  /** SUPERVISION_CHECK_MS — how often overdue 督办 items are looked for (each escalates once). Default 60000. */
  supervisionCheckMs: number
}

export interface LoginSettings {
  /** LOGIN_MAX_FAILURES — consecutive failed logins that lock a person's account. Default 5. */
  maxFailures: number
  /** LOGIN_LOCK_SECONDS — how long a locked account stays locked (a unit admin may unlock it earlier). Default 900. */
  lockSeconds: number
  /** LOGIN_ADDRESS_MAX_FAILURES — failed logins from one client address per window before it gets 429. Default 30. */
  addressMaxFailures: number
  /** LOGIN_ADDRESS_WINDOW_SECONDS — the window of LOGIN_ADDRESS_MAX_FAILURES. Default 900. */
  addressWindowSeconds: number
}

/** A whole number ≥ `min` (default 1) from the environment, or a start-up error naming the setting. */
function positive(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min) throw new Error(`${name}: "${raw}" is not a whole number of at least ${min}`)
  return n
}

function persistentSecret(dataDir: string, name: string): string {
  mkdirSync(dataDir, { recursive: true })
  const file = join(dataDir, name)
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  const secret = randomBytes(32).toString('hex')
  writeFileSync(file, secret, { mode: 0o600 })
  return secret
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT ?? 3000)
  const dataDir = resolve(env.GONGWEN_DATA_DIR ?? 'data')
  return {
    port,
    host: env.HOST ?? '127.0.0.1',
    dataDir,
    databaseUrl: env.DATABASE_URL || null,
    embeddedPgPort: Number(env.EMBEDDED_PG_PORT ?? 54329),
    enginePort: Number(env.ENGINE_PORT ?? 8090),
    engineUrl: env.ENGINE_URL ? loopbackUrl('ENGINE_URL', env.ENGINE_URL) : null,
    engineToken: env.ENGINE_TOKEN || persistentSecret(dataDir, 'engine-token'),
    engineHeapMb: Number(env.ENGINE_HEAP_MB ?? 1024),
    engineJavaOpts: (env.ENGINE_JAVA_OPTS ?? '').split(/\s+/).filter(Boolean),
    authSecret: env.AUTH_SECRET || persistentSecret(dataDir, 'auth-secret'),
    tokenTtl: env.TOKEN_TTL ?? '12h',
    login: {
      maxFailures: positive(env, 'LOGIN_MAX_FAILURES', 5),
      lockSeconds: positive(env, 'LOGIN_LOCK_SECONDS', 15 * 60),
      addressMaxFailures: positive(env, 'LOGIN_ADDRESS_MAX_FAILURES', 30),
      addressWindowSeconds: positive(env, 'LOGIN_ADDRESS_WINDOW_SECONDS', 15 * 60),
    },
    bodyLimit: Number(env.BODY_LIMIT ?? 1024 * 1024),
    seedDemo: (env.SEED_DEMO ?? 'true') !== 'false',
    chromiumPath: env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    logLevel: env.LOG_LEVEL ?? 'info',
    outboundAllowHttp: (env.OUTBOUND_ALLOW_HTTP ?? 'false') === 'true',
    outboundAllow: allowList('OUTBOUND_ALLOW', env.OUTBOUND_ALLOW ?? ''),
    retryBaseMs: positive(env, 'RETRY_BASE_MS', 2000),
    retryMaxDelayMs: positive(env, 'RETRY_MAX_DELAY_MS', 5 * 60 * 1000),
    retryMaxAttempts: positive(env, 'RETRY_MAX_ATTEMPTS', 10),
    pdfConcurrency: positive(env, 'PDF_CONCURRENCY', 2),
    pdfQueue: positive(env, 'PDF_QUEUE', 8, 0),
    pdfTimeoutMs: positive(env, 'PDF_TIMEOUT_MS', 30_000),
    stepRetries: positive(env, 'STEP_RETRIES', 5),
    supervisionCheckMs: positive(env, 'SUPERVISION_CHECK_MS', 60_000),
  }
}

/** A URL on this machine's loopback interface, or a start-up error naming the setting. */
function loopbackUrl(name: string, value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new Error(`${name}: "${value}" is not a URL; give e.g. http://127.0.0.1:8090/engine-rest`)
  }
  if (url.protocol !== 'http:' || !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
    throw new Error(`${name}: ${value} is not on this machine's loopback (http://127.0.0.1:…); the engine's credential is only ever sent there`)
  }
  return value.replace(/\/+$/, '')
}

/** A comma-separated allow-list of addresses, ranges and host names, or a start-up error naming the setting. */
function allowList(name: string, value: string): string[] {
  const entries = value.split(',').map((e) => e.trim()).filter(Boolean)
  try {
    parseAllowList(entries)
  } catch (err) {
    throw new Error(`${name}: ${(err as Error).message}; give e.g. 10.20.0.0/16,192.168.1.5,sms.intranet.example`)
  }
  return entries
}
