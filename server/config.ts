// Every setting of the system, declared once: name, type, default and meaning.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

export interface Config {
  /** PORT — HTTP port of the server. Default 3000. */
  port: number
  /** HOST — interface to listen on. Default 127.0.0.1. */
  host: string
  /** GONGWEN_DATA_DIR — broker data, embedded PostgreSQL, generated secrets. Default ./data. */
  dataDir: string
  /** DATABASE_URL — PostgreSQL to use; when unset an embedded PostgreSQL runs in the data dir. */
  databaseUrl: string | null
  /** EMBEDDED_PG_PORT — port of the embedded PostgreSQL. Default 54329. */
  embeddedPgPort: number
  /**
   * ZEEBE_ADDRESS — host:port of an existing Zeebe gRPC gateway; when unset a local broker is
   * started and supervised. ZEEBE_REST_ADDRESS (default http://<host>:8080) goes with it.
   */
  zeebeAddress: string | null
  zeebeRestAddress: string | null
  /** ZEEBE_PORT_BASE — first of the five ports of the local broker (gRPC, REST, management, command, internal). Default 26500. */
  zeebePortBase: number
  /** AUTH_SECRET — key that signs login tokens; generated into the data dir when unset. */
  authSecret: string
  /** EXPORTER_TOKEN — shared secret the broker's exporter presents; generated when unset. */
  exporterToken: string
  /** EXPORTER_URL — where the broker's exporter posts engine events. Default http://127.0.0.1:PORT/internal/engine-events. */
  exporterUrl: string
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
  const zeebeAddress = env.ZEEBE_ADDRESS || null
  return {
    port,
    host: env.HOST ?? '127.0.0.1',
    dataDir,
    databaseUrl: env.DATABASE_URL || null,
    embeddedPgPort: Number(env.EMBEDDED_PG_PORT ?? 54329),
    zeebeAddress,
    zeebeRestAddress: env.ZEEBE_REST_ADDRESS || (zeebeAddress ? `http://${zeebeAddress.split(':')[0]}:8080` : null),
    zeebePortBase: Number(env.ZEEBE_PORT_BASE ?? 26500),
    authSecret: env.AUTH_SECRET || persistentSecret(dataDir, 'auth-secret'),
    exporterToken: env.EXPORTER_TOKEN || persistentSecret(dataDir, 'exporter-token'),
    exporterUrl: env.EXPORTER_URL || `http://127.0.0.1:${port}/internal/engine-events`,
    tokenTtl: env.TOKEN_TTL ?? '12h',
    bodyLimit: Number(env.BODY_LIMIT ?? 1024 * 1024),
    seedDemo: (env.SEED_DEMO ?? 'true') !== 'false',
    chromiumPath: env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    logLevel: env.LOG_LEVEL ?? 'info',
  }
}

/** The five local broker ports, derived from one base so a second stack can sit beside the first. */
export function brokerPorts(base: number) {
  return { grpc: base, rest: base + 1, management: base + 2, command: base + 3, internal: base + 4 }
}
