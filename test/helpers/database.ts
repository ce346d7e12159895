// Test helper: a scratch PostgreSQL database of its own, created from the machine's `test`
// database (or TEST_DATABASE_URL / DATABASE_URL) and dropped after the test.
import knexFactory from 'knex'

export const adminUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** Creates `<prefix>_<pid>_<time>` and gives its URL; drop() removes it even while connections are open. */
export async function createScratchDatabase(prefix: string): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${process.pid}_${Date.now()}`
  const admin = knexFactory({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } })
  await admin.raw(`create database ${name}`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    name,
    url: url.toString(),
    async drop() {
      await admin.destroy()
      await dropDatabase(name)
    },
  }
}

/** Drops a scratch database even while connections are open. */
export async function dropDatabase(name: string): Promise<void> {
  const admin = knexFactory({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } })
  try {
    await admin.raw(`drop database if exists ${name} with (force)`)
  } finally {
    await admin.destroy()
  }
}
