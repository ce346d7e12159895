// The operations view's figures: volume, 办结率 and overdue by department and by month, and the
// same as CSV. The measures are those of GET /statistics (statistics.ts), counted month by month.
import type { Knex } from 'knex'
import { fail } from '../errors.ts'
import { OPERATORS } from './operations.ts'
import type { Principal } from './principal.ts'
import { measureUnit, parsePeriod, unitDepartments, type StatisticsRow } from './statistics.ts'

type Row = StatisticsRow & { departmentId: string | null; name: string }

export class OperationsStatistics {
  constructor(private readonly knex: Knex) {}

  /** The period as a whole and each calendar month in it (Beijing time), per department and for the unit. */
  async figures(p: Principal, query: { from?: string; to?: string }) {
    // Integrator keys reach here only with statistics:read (api-scopes.ts).
    if (p.channel !== 'api' && !OPERATORS.some((r) => p.roles.includes(r))) {
      throw fail('FORBIDDEN', '仅办公室主任和单位管理员可使用运行监控')
    }
    const period = parsePeriod(query)
    const departments = await unitDepartments(this.knex, p.unitId)
    const asOf = new Date()
    const whole = await measureUnit(this.knex, p.unitId, departments, period, asOf)
    const months = []
    for (const slice of monthsOf(period.from, period.to)) {
      const m = await measureUnit(this.knex, p.unitId, departments, parsePeriod(slice), asOf)
      months.push({ month: slice.from.slice(0, 7), from: slice.from, to: slice.to, unit: m.unit, departments: m.rows })
    }
    return { unitId: p.unitId, from: period.from, to: period.to, asOf: asOf.toISOString(), unit: whole.unit, departments: whole.rows, months }
  }

  /** The figures as CSV: UTF-8 with a byte-order mark, so Excel reads the Chinese as it is. */
  async csv(p: Principal, query: { from?: string; to?: string }): Promise<string> {
    const f = await this.figures(p, query)
    const lines = [['月份', '科室', '公文量', '发文', '收文', '呈阅笺', '在办', '超期', '办结', '办结率']]
    const line = (month: string, r: Row | (StatisticsRow & { name: string })) => [
      month, r.name, r.created, r.sent, r.received, r.chengyue, r.open, r.overdue, r.completed,
      r.completionRate === null ? '' : `${(r.completionRate * 100).toFixed(2)}%`,
    ].map(String)
    for (const m of f.months) {
      for (const r of m.departments) lines.push(line(m.month, r))
      lines.push(line(m.month, { ...m.unit, name: '合计' }))
    }
    const whole = `${f.from}至${f.to}`
    for (const r of f.departments) lines.push(line(whole, r))
    lines.push(line(whole, { ...f.unit, name: '合计' }))
    return '\uFEFF' + lines.map((l) => l.map(cell).join(',')).join('\r\n') + '\r\n'
  }
}

/** The calendar months from..to (YYYY-MM-DD), each clipped to the period. */
export function monthsOf(from: string, to: string): Array<{ from: string; to: string }> {
  const out: Array<{ from: string; to: string }> = []
  let [y, m] = from.split('-').map(Number)
  for (;;) {
    const first = `${y}-${String(m).padStart(2, '0')}-01`
    const lastDay = new Date(Date.UTC(y, m, 0)).getUTCDate()
    const last = `${y}-${String(m).padStart(2, '0')}-${String(lastDay).padStart(2, '0')}`
    if (first > to) break
    out.push({ from: first < from ? from : first, to: last > to ? to : last })
    m += 1
    if (m === 13) {
      m = 1
      y += 1
    }
  }
  return out
}

/** A CSV cell: quoted when it holds a comma, quote or line break; a leading =+-@ is defused for spreadsheets. */
function cell(v: string): string {
  const safe = /^[=+\-@]/.test(v) ? `'${v}` : v
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe
}
