// The ordered list of migrations, given to knex as a migration source (no directory scanning,
// so the same list runs under tsx, in tests and in a bundle).
import type { Knex } from 'knex'
import * as organisation from './001-organisation.ts'
import * as documents from './002-documents.ts'

const migrations: Record<string, Knex.Migration> = {
  '001-organisation': organisation,
  '002-documents': documents,
}

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name],
}
