// Every setting of the system, declared once: name, type, default and meaning.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

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
  /** ENGINE_HEAP_MB — heap of the engine's JVM. Default 512. */
  engineHeapMb: number
  /** ENGINE_JAVA_OPTS — more options for the engine's JVM, space-separated. Default none. */
  engineJavaOpts: string[]
  /** AUTH_SECRET — key that signs login tokens; generated into the data dir when unset. */
  authSecret: string
  /** TOKEN_TTL — lifetime of a login token. Default 12h. */
  tokenTtl: string
  /** BODY_LIMIT — largest accepted request body in bytes. Default 1 MiB. */
  bodyLimit: number
  /** SEED_DEMO — load demo units and people on first start (true/false). Default true. */
  seedDemo: boolean
  /** Chromium used to print 笺 as PDF (Debian's chromium package). */
  chromiumPath: string
  /** LOG_LEVEL — pino level. Default info. */
  logLevel: string
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
    engineHeapMb: Number(env.ENGINE_HEAP_MB ?? 512),
    engineJavaOpts: (env.ENGINE_JAVA_OPTS ?? '').split(/\s+/).filter(Boolean),
    authSecret: env.AUTH_SECRET || persistentSecret(dataDir, 'auth-secret'),
    tokenTtl: env.TOKEN_TTL ?? '12h',
    bodyLimit: Number(env.BODY_LIMIT ?? 1024 * 1024),
    seedDemo: (env.SEED_DEMO ?? 'true') !== 'false',
    chromiumPath: env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    logLevel: env.LOG_LEVEL ?? 'info',
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
