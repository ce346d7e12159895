// Per-unit flow versions: a unit admin deploys a changed 发文 or 呈阅笺 under a unit-specific
// process id (fawen--<unitId>, replaced in 009 by one tenant per unit); each deployed version records its unit and the base flow it changes.
import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('process_definitions', (t) => {
    /** The unit a customised version belongs to; null for the shared models of processes/. */
    t.text('unit_id').references('units.id')
    /** The flow the version is of (fawen, chengyue, fenwen), whatever its process id. */
    t.text('base_process')
    /** Who deployed a unit's version. */
    t.text('deployed_by')
  })
  await knex('process_definitions').whereNull('base_process').update({ base_process: knex.ref('bpmn_process_id') })
  await knex.raw('alter table process_definitions alter column base_process set not null')
  await knex.schema.alterTable('process_definitions', (t) => t.index(['base_process', 'unit_id', 'version']))
  // Documents of a unit by the version they run on (the version list counts them).
  await knex.schema.alterTable('documents', (t) => t.index(['unit_id', 'process_definition_key']))
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('documents', (t) => t.dropIndex(['unit_id', 'process_definition_key']))
  await knex.schema.alterTable('process_definitions', (t) => {
    t.dropIndex(['base_process', 'unit_id', 'version'])
    t.dropColumns('unit_id', 'base_process', 'deployed_by')
  })
}
