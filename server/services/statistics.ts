// Statistics per unit and department: documents sent, received, open, overdue, 办结 and the 办结率.
import type { Knex } from 'knex'
import { fail } from '../errors.ts'
import type { Principal } from './principal.ts'

/*
 * The measures. The period is [from 00:00, to + 1 day 00:00) in Asia/Shanghai (UTC+8, no DST);
 * "now" is the moment of the request (returned as asOf). A row counts the documents of the
 * caller's unit whose department_id is the row's department (for 发文/呈阅笺 the drafter's
 * department, for 收文 the 主办 department once 分办 chose it); 未分配 holds those without one.
 * The unit row is the sum of the department rows.
 *
 * - sent       发文 created in the period, neither failed nor canceled.
 * - received   收文 created in the period (电子来文 or 收文登记), not failed.
 * - chengyue   呈阅笺 created in the period, not failed.
 * - created    documents of any kind created in the period, neither failed nor canceled.
 * - open       documents created in the period that are still in their flow now (starting or running).
 * - overdue    of the open ones, those whose own 办理时限 (documents.deadline) is before now, or
 *              that have an open task whose deadline is before now.
 * - completed  办结: documents whose flow completed (status completed) with completed_at in the
 *              period, whenever they were created. Canceled documents are not 办结.
 * - createdCompleted  documents counted in `created` that were 办结 before the period's end.
 * - completionRate    办结率 = createdCompleted / created, rounded to 4 places; null when created is 0.
 *              Its numerator is the period's own documents (not `completed`, which also holds
 *              documents from earlier periods), so the rate stays within 0..1.
 * "failed" documents never entered a flow (the engine refused the start), so no measure counts them.
 */

const ALLOWED_ROLES = ['unit_admin', 'registry', 'leader']
const MAX_YEARS = 5
const DAY_MS = 86_400_000
const SHANGHAI_OFFSET_MS = 8 * 3_600_000
export const UNASSIGNED = '未分配'

const measures = ['sent', 'received', 'chengyue', 'created', 'open', 'overdue', 'completed', 'createdCompleted'] as const
type Counts = Record<(typeof measures)[number], number>
export type StatisticsRow = Counts & { completionRate: number | null }

export interface Period {
  from: string
  to: string
  /** Inclusive start and exclusive end, as instants. */
  start: Date
  end: Date
}

/** Reads from/to (YYYY-MM-DD, Asia/Shanghai, inclusive). A missing end is taken from the other's year; neither → the current year. */
export function parsePeriod(input: { from?: string; to?: string }, now = new Date()): Period {
  const from = input.from === undefined ? null : day(input.from, 'from')
  const to = input.to === undefined ? null : day(input.to, 'to')
  const year = (from ?? to)?.getUTCFullYear() ?? new Date(now.getTime() + SHANGHAI_OFFSET_MS).getUTCFullYear()
  const first = from ?? new Date(Date.UTC(year, 0, 1))
  const last = to ?? new Date(Date.UTC(year, 11, 31))
  if (last < first) throw fail('VALIDATION', '结束日期不能早于起始日期', [{ field: 'to', message: 'to 不能早于 from' }])
  const limit = new Date(first)
  limit.setUTCFullYear(first.getUTCFullYear() + MAX_YEARS)
  if (last.getTime() + DAY_MS > limit.getTime()) {
    throw fail('VALIDATION', `统计期间不能超过 ${MAX_YEARS} 年`, [{ field: 'to', message: `from 至 to 不能超过 ${MAX_YEARS} 年` }])
  }
  return {
    from: iso(first),
    to: iso(last),
    start: new Date(first.getTime() - SHANGHAI_OFFSET_MS),
    end: new Date(last.getTime() + DAY_MS - SHANGHAI_OFFSET_MS),
  }
}

/** A calendar day as midnight UTC of that date, or a 400 naming the field. */
function day(text: string, field: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text)
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null
  if (!d || !m || iso(d) !== text || Number(m[1]) < 1900) {
    throw fail('VALIDATION', `日期“${text}”无效，应为 YYYY-MM-DD`, [{ field, message: `${field} 应为有效日期（YYYY-MM-DD）` }])
  }
  return d
}

const iso = (d: Date) => d.toISOString().slice(0, 10)

/**
 * The one aggregate statement, three scans glued by union all: per department ('' = none), the
 * measures over documents created in the period, the overdue ones among those still open, and
 * the documents 办结 in the period. Each scan reads one index of 006-statistics only.
 * Exported so the benchmark can EXPLAIN it.
 */
export function statisticsQuery(knex: Knex, unitId: string, period: Period, asOf: Date) {
  return knex.raw(
    `select coalesce(department_id, '') as department,
       count(*) filter (where kind = 'fawen' and status not in ('failed', 'canceled')) as sent,
       count(*) filter (where kind = 'shouwen' and status <> 'failed') as received,
       count(*) filter (where kind = 'chengyue' and status <> 'failed') as chengyue,
       count(*) filter (where status not in ('failed', 'canceled')) as created,
       count(*) filter (where status in ('starting', 'running')) as open,
       0 as overdue,
       count(*) filter (where status = 'completed' and completed_at < :end) as "createdCompleted",
       0 as completed
     from documents
     where unit_id = :unit and created_at >= :start and created_at < :end
     group by 1
     union all
     select coalesce(department_id, ''), 0, 0, 0, 0, 0, count(*), 0, 0
     from documents
     where unit_id = :unit and created_at >= :start and created_at < :end and status in ('starting', 'running')
       and (deadline < :asOf or id in (select document_id from tasks where unit_id = :unit and state = 'open' and deadline < :asOf))
     group by 1
     union all
     select coalesce(department_id, ''), 0, 0, 0, 0, 0, 0, 0, count(*)
     from documents
     where unit_id = :unit and status = 'completed' and completed_at >= :start and completed_at < :end
     group by 1`,
    { unit: unitId, start: period.start, end: period.end, asOf },
  )
}

export class Statistics {
  constructor(private readonly knex: Knex) {}

  /** The unit's row and one row per department (all of them, plus 未分配), for the period. */
  async forUnit(p: Principal, query: { from?: string; to?: string; departmentId?: string }) {
    if (p.channel !== 'api' && !p.roles.some((r) => ALLOWED_ROLES.includes(r))) {
      throw fail('FORBIDDEN', '仅单位管理员、机要/收发人员、领导和集成方可查看统计')
    }
    const period = parsePeriod(query)
    const departments = await unitDepartments(this.knex, p.unitId)
    if (query.departmentId !== undefined && !departments.some((d) => d.id === query.departmentId)) {
      throw fail('NOT_FOUND', '本单位没有该科室', [{ field: 'departmentId', message: 'departmentId 不是本单位的科室' }])
    }
    const asOf = new Date()
    const { unit, rows } = await measureUnit(this.knex, p.unitId, departments, period, asOf)
    const rowsOut = rows.filter((d) => query.departmentId === undefined || d.departmentId === query.departmentId)
    return { unitId: p.unitId, from: period.from, to: period.to, asOf: asOf.toISOString(), unit, departments: rowsOut }
  }
}

/** The unit's departments by name: the rows every statistic lists. */
export function unitDepartments(knex: Knex, unitId: string): Promise<Array<{ id: string; name: string }>> {
  return knex('departments').where({ unit_id: unitId }).orderBy(['name', 'id']).select('id', 'name')
}

/**
 * The measures of one unit for one period: the unit row and one row per department (every one of
 * `departments`, then 未分配 with departmentId null). Shared by GET /statistics and the operations view.
 */
export async function measureUnit(knex: Knex, unitId: string, departments: Array<{ id: string; name: string }>, period: Period, asOf: Date) {
  const { rows } = await statisticsQuery(knex, unitId, period, asOf)

  // Up to three rows per department, one per scan: sum them.
  const byDepartment = new Map<string, Counts>()
  for (const r of rows) {
    // A department_id outside the unit's list cannot happen through the flows; count it as 未分配.
    const key = departments.some((d) => d.id === r.department) ? r.department : ''
    const counts = byDepartment.get(key) ?? zero()
    for (const m of measures) counts[m] += Number(r[m])
    byDepartment.set(key, counts)
  }
  const unit = zero()
  for (const counts of byDepartment.values()) for (const m of measures) unit[m] += counts[m]
  const out = [...departments, { id: null, name: UNASSIGNED }].map((d) => ({
    departmentId: d.id as string | null, name: d.name, ...withRate(byDepartment.get(d.id ?? '') ?? zero()),
  }))
  return { unit: withRate(unit), rows: out }
}

function zero(): Counts {
  return Object.fromEntries(measures.map((m) => [m, 0])) as Counts
}

function withRate(c: Counts): StatisticsRow {
  return { ...c, completionRate: c.created === 0 ? null : Math.round((c.createdCompleted / c.created) * 10_000) / 10_000 }
}
