// Test helper: a scratch PostgreSQL database, migrated and seeded with the demo units, for the 笺
// tests that need the database but not the engine.
import { migrationSource } from '../migrations/index.ts'
import { connect } from '../server/db/database.ts'
import { seedDemo } from '../server/db/seed.ts'
import { createScratchDatabase } from './helpers/database.ts'

export async function scratchDatabase() {
  const db = await createScratchDatabase('gw_forms')
  const knex = connect(db.url, { min: 0, max: 4 })
  await knex.migrate.latest({ migrationSource })
  await seedDemo(knex)
  return {
    knex,
    async close() {
      await knex.destroy()
      await db.drop()
    },
  }
}
