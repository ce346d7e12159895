// Indexes for GET /statistics: each of its scans over a unit's documents and open tasks is
// answered from one index alone (index-only scans), so a year of a million-document unit costs
// range reads of narrow index tuples instead of heap pages.
import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  // Documents created in the period: every column the aggregate reads rides along.
  await knex.raw(`create index documents_statistics_created on documents (unit_id, created_at)
    include (department_id, kind, status, completed_at)`)
  // The few of those still in their flow, for the overdue check.
  await knex.raw(`create index documents_statistics_open on documents (unit_id, created_at)
    include (department_id, deadline, id) where status in ('starting', 'running')`)
  // Documents 办结 in the period. Canceled documents get a completed_at too, hence the predicate.
  await knex.raw(`create index documents_statistics_completed on documents (unit_id, completed_at)
    include (department_id) where status = 'completed'`)
  // Open tasks past their deadline; closed tasks, most of the table, stay out of the index.
  await knex.raw(`create index tasks_statistics_open on tasks (unit_id, deadline)
    include (document_id) where state = 'open'`)
}

export async function down(knex: Knex): Promise<void> {
  for (const index of ['tasks_statistics_open', 'documents_statistics_completed', 'documents_statistics_open', 'documents_statistics_created'])
    await knex.raw(`drop index ${index}`)
}
