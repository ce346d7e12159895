// Test helper: a scratch PostgreSQL database, migrated and seeded with the demo units, for the 笺
// tests that need the database but not the engine.
import knexFactory from 'knex'
import { migrationSource } from '../migrations/index.ts'
import { connect } from '../server/db/database.ts'
import { seedDemo } from '../server/db/seed.ts'

const adminUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export async function scratchDatabase() {
  const name = `gw_forms_${process.pid}_${Date.now()}`
  const admin = knexFactory({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } })
  await admin.raw(`create database ${name}`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  const knex = connect(url.toString(), { min: 0, max: 4 })
  await knex.migrate.latest({ migrationSource })
  await seedDemo(knex)
  return {
    knex,
    async close() {
      await knex.destroy()
      await admin.raw(`drop database if exists ${name} with (force)`)
      await admin.destroy()
    },
  }
}
