// The ordered list of migrations, given to knex as a migration source (no directory scanning,
// so the same list runs under tsx, in tests and in a bundle).
import type { Knex } from 'knex'
import * as organisation from './001-organisation.ts'
import * as documents from './002-documents.ts'
import * as flows from './003-flows.ts'
import * as files from './004-files.ts'
import * as notifications from './005-notifications.ts'
import * as statistics from './006-statistics.ts'
import * as forms from './007-forms.ts'
import * as unitProcesses from './008-unit-processes.ts'
import * as engineInbox from './009-engine-inbox.ts'
import * as loginSecurity from './010-login-security.ts'
import * as recovery from './011-recovery.ts'
import * as frozenDocuments from './012-frozen-documents.ts'
import * as apiKeyScopes from './013-api-key-scopes.ts'
import * as audit from './014-audit.ts'
import * as orgTree from './017-org-tree.ts'
import * as circulationSupervision from './019-circulation-supervision.ts'
import * as delegation from './020-delegation.ts'
import * as crossUnit from './022-cross-unit.ts'
import * as jointIssuance from './023-joint-issuance.ts'

const migrations: Record<string, Knex.Migration> = {
  '001-organisation': organisation,
  '002-documents': documents,
  '003-flows': flows,
  '004-files': files,
  '005-notifications': notifications,
  '006-statistics': statistics,
  '007-forms': forms,
  '008-unit-processes': unitProcesses,
  '009-engine-inbox': engineInbox,
  '010-login-security': loginSecurity,
  '011-recovery': recovery,
  '012-frozen-documents': frozenDocuments,
  '013-api-key-scopes': apiKeyScopes,
  '014-audit': audit,
  '017-org-tree': orgTree,
  '019-circulation-supervision': circulationSupervision,
  '020-delegation': delegation,
  '022-cross-unit': crossUnit,
  '023-joint-issuance': jointIssuance,
}

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name],
}
