// Benchmark: GET /statistics's query over a unit with a million documents, against a plain count(*) of the same rows.
import { performance } from 'node:perf_hooks'
import knexFactory, { type Knex } from 'knex'
import pino from 'pino'
import { migrationSource } from '../migrations/index.ts'
import { seedDemo } from '../server/db/seed.ts'
import { Statistics, parsePeriod, statisticsQuery } from '../server/services/statistics.ts'
import type { Principal } from '../server/services/principal.ts'

const adminUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const DOCUMENTS = positiveInt(process.env.BENCH_DOCUMENTS, 1_000_000, 'BENCH_DOCUMENTS')
const OTHER_UNIT_DOCUMENTS = Math.round(DOCUMENTS / 10)
const BATCH = 100_000
const RUNS = 7
const UNIT = 'liuzhou-gov'
const log = pino({ level: process.env.LOG_LEVEL ?? 'info' })

function positiveInt(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`)
  return n
}

/**
 * Documents numbered lo..hi of `total`, in the order they were created, evenly over the last three
 * years; other attributes spread by deterministic hashes of the number: 30% 发文, 60% 收文, 10%
 * 呈阅笺; 85% completed (办结 0–40 days later), 10% running, 4% canceled, 1% failed; 10% without a
 * department; 收文 with a 15-day 办理时限.
 */
async function insertDocuments(knex: Knex, unit: string, departments: string[], lo: number, hi: number, total: number): Promise<void> {
  await knex.raw(
    `insert into documents (id, unit_id, kind, title, status, created_by, department_id, created_at, completed_at, deadline)
     select gen_random_uuid(), :unit, kind, '统计基准', status, case when kind = 'shouwen' then :registry else :drafter end,
       case when g % 10 = 0 then null else (string_to_array(:departments, ','))[1 + (g / 10) % :departmentCount] end,
       created, case when status in ('completed', 'canceled') then least(now(), created + ((g * 13) % (40 * 24)) * interval '1 hour') end,
       case when kind = 'shouwen' then created + interval '15 days' end
     from (
       select g, now() - interval '3 years' + (g::float8 / :total) * interval '3 years' as created,
         case when (g * 7) % 10 < 3 then 'fawen' when (g * 7) % 10 < 9 then 'shouwen' else 'chengyue' end as kind,
         case when (g * 31) % 100 < 85 then 'completed' when (g * 31) % 100 < 95 then 'running'
              when (g * 31) % 100 < 99 then 'canceled' else 'failed' end as status
       from generate_series(:lo::int, :hi::int) g
     ) s`,
    { unit, registry: unit === UNIT ? 'chenjing' : 'fengxue', drafter: unit === UNIT ? 'zhangwei' : 'huangmei', departments: departments.join(','), departmentCount: departments.length, lo, hi, total },
  )
}

/**
 * Two open tasks per running document, due 0–1,200 days after it started (some overdue, some
 * not), and one closed task per other document: closed tasks are most of a real tasks table.
 */
async function insertTasks(knex: Knex): Promise<{ open: number; closed: number }> {
  const open = await knex.raw(
    `insert into tasks (task_key, process_instance_key, process_definition_key, document_id, unit_id, element_id, step_name, state, created_at, deadline)
     select d.id || '-' || n, d.id, 'bench', d.id, d.unit_id, 'step' || n, '办理', 'open', d.created_at,
       d.created_at + ((abs(hashtext(d.id::text)) + n * 600) % 1200) * interval '1 day'
     from documents d cross join generate_series(1, 2) n where d.status = 'running'`,
  )
  const closed = await knex.raw(
    `insert into tasks (task_key, process_instance_key, process_definition_key, document_id, unit_id, element_id, step_name, state, created_at, deadline, closed_at)
     select d.id || '-0', d.id, 'bench', d.id, d.unit_id, 'step0', '办理', case d.status when 'completed' then 'completed' else 'canceled' end,
       d.created_at, d.created_at + interval '3 days', coalesce(d.completed_at, d.created_at)
     from documents d where d.status <> 'running'`,
  )
  return { open: open.rowCount, closed: closed.rowCount }
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now()
  await fn()
  return performance.now() - t0
}

async function median(fn: () => Promise<unknown>): Promise<number> {
  await fn() // warm-up
  const times: number[] = []
  for (let i = 0; i < RUNS; i++) times.push(await timed(fn))
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)]
}

async function main(): Promise<void> {
  const dbName = `gw_bench_statistics_${process.pid}_${Date.now()}`
  const admin = knexFactory({ client: 'pg', connection: adminUrl, pool: { min: 0, max: 1 } })
  await admin.raw(`create database ${dbName}`)
  const url = new URL(adminUrl)
  url.pathname = `/${dbName}`
  const knex = knexFactory({ client: 'pg', connection: url.toString(), pool: { min: 0, max: 2 } })
  try {
    await knex.migrate.latest({ migrationSource })
    await seedDemo(knex)
    const departments = async (unit: string) => (await knex('departments').where({ unit_id: unit }).orderBy('id').pluck('id')) as string[]

    const t0 = performance.now()
    const own = await departments(UNIT)
    for (let lo = 1; lo <= DOCUMENTS; lo += BATCH) {
      const hi = Math.min(DOCUMENTS, lo + BATCH - 1)
      await insertDocuments(knex, UNIT, own, lo, hi, DOCUMENTS)
      log.info({ unit: UNIT, inserted: hi, of: DOCUMENTS, elapsedS: Math.round((performance.now() - t0) / 1000) }, 'inserting documents')
    }
    await insertDocuments(knex, 'liuzhou-edu', await departments('liuzhou-edu'), 1, OTHER_UNIT_DOCUMENTS, OTHER_UNIT_DOCUMENTS)
    log.info({ unit: 'liuzhou-edu', inserted: OTHER_UNIT_DOCUMENTS }, 'another unit’s documents, which the query must skip')
    const tasks = await insertTasks(knex)
    log.info({ ...tasks, elapsedS: Math.round((performance.now() - t0) / 1000) }, 'inserted tasks; vacuum analyze')
    // VACUUM as well as ANALYZE: it sets the visibility map that index-only scans rely on, as
    // autovacuum does after bulk inserts on a live database.
    await knex.raw('vacuum (analyze) documents, tasks')

    const year = new Date().getFullYear() - 1
    const period = parsePeriod({ from: `${year}-01-01`, to: `${year}-12-31` })
    const principal: Principal = { userId: 'zhouadmin', unitId: UNIT, departmentId: null, name: '周敏', roles: ['unit_admin'], channel: 'web' }
    const statistics = new Statistics(knex)
    const result = await statistics.forUnit(principal, { from: period.from, to: period.to })

    const countPeriod = () => knex.raw('select count(*) from documents where unit_id = ? and created_at >= ? and created_at < ?', [UNIT, period.start, period.end])
    const countUnit = () => knex.raw('select count(*) from documents where unit_id = ?', [UNIT])
    const baseline = await median(countPeriod)
    const unitCount = await median(countUnit)
    const stats = await median(() => statistics.forUnit(principal, { from: period.from, to: period.to }))

    const { sql, bindings } = statisticsQuery(knex, UNIT, period, new Date()).toSQL()
    const plan = (await knex.raw(`explain (analyze, buffers) ${sql}`, bindings)).rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']) as string[]
    const summary = plan.filter((l) => /actual time|Heap Fetches|SubPlan|Execution Time|Planning Time/.test(l) || l === plan[1])
    const periodRows = Number((await countPeriod()).rows[0].count)

    console.log(
      [
        '',
        `statistics benchmark — ${DOCUMENTS.toLocaleString('en')} documents in ${UNIT} over 3 years (+${OTHER_UNIT_DOCUMENTS.toLocaleString('en')} in liuzhou-edu), ${tasks.open.toLocaleString('en')} open and ${tasks.closed.toLocaleString('en')} closed tasks`,
        `period ${period.from} … ${period.to}: ${periodRows.toLocaleString('en')} documents created; unit row ${JSON.stringify(result.unit)}`,
        `median of ${RUNS} runs:`,
        `  GET /statistics service call          ${stats.toFixed(1).padStart(8)} ms`,
        `  baseline: count(*) of the period rows  ${baseline.toFixed(1).padStart(8)} ms   ratio ${(stats / baseline).toFixed(2)}`,
        `  count(*) of the whole unit             ${unitCount.toFixed(1).padStart(8)} ms   ratio ${(stats / unitCount).toFixed(2)}`,
        '',
        'EXPLAIN (ANALYZE, BUFFERS) of the statistics query, nodes only:',
        ...summary.map((l) => `  ${l}`),
      ].join('\n'),
    )
  } finally {
    await knex.destroy()
    await admin.raw(`drop database if exists ${dbName} with (force)`)
    await admin.destroy()
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error('bench failed:', err)
    process.exit(1)
  },
)
