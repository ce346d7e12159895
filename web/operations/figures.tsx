// 运行监控 · 统计图表: volume by department, 办结率 and overdue by month for a period, as SVG charts
// with the table beside them, and the CSV export.
import { useEffect, useState } from 'preact/hooks'
import { BarChart, LineChart } from '../components/charts.tsx'
import { Problem } from '../components/shell.tsx'
import { get, query, saveFrom } from '../lib/api.ts'

interface Measures {
  created: number
  completed: number
  open: number
  overdue: number
  completionRate: number | null
}
type DepartmentRow = Measures & { departmentId: string | null; name: string }
interface Figures {
  from: string
  to: string
  unit: Measures
  departments: DepartmentRow[]
  months: Array<{ month: string; unit: Measures; departments: DepartmentRow[] }>
}

const percent = (v: number) => `${Math.round(v * 1000) / 10}%`
const rate = (v: number | null) => (v === null ? '—' : percent(v))
const thisYear = () => new Date(Date.now() + 8 * 3_600_000).getUTCFullYear()

export function FiguresPanel() {
  const [period, setPeriod] = useState({ from: `${thisYear()}-01-01`, to: `${thisYear()}-12-31` })
  const [data, setData] = useState<Figures | null>(null)
  const [error, setError] = useState<unknown>(null)
  const load = (p = period) => get<Figures>(`/operations/statistics${query(p)}`).then((d) => {
    setError(null)
    setData(d)
  }, setError)
  useEffect(() => void load(), [])
  const field = (name: 'from' | 'to') => (
    <input type="date" name={name} value={period[name]} onInput={(e) => setPeriod({ ...period, [name]: (e.target as HTMLInputElement).value })} />
  )

  return (
    <section class="card ops-figures" aria-label="统计图表">
      <div class="card-head">
        <h2>统计图表</h2>
        <form class="inline" onSubmit={(e) => { e.preventDefault(); void load() }}>
          <label>自 {field('from')}</label>
          <label>至 {field('to')}</label>
          <button type="submit" class="small">查询</button>
          <button type="button" class="small" onClick={() => saveFrom(`/operations/statistics.csv${query(period)}`, `运行统计-${period.from}至${period.to}.csv`).catch(setError)}>导出 CSV</button>
        </form>
      </div>
      <Problem error={error} />
      {!data ? (!error && <p class="muted">正在加载……</p>) : (
        <>
          <p class="summary">
            {data.from} 至 {data.to}：公文 <strong>{data.unit.created}</strong> 件，办结率 <strong>{rate(data.unit.completionRate)}</strong>，
            在办 <strong>{data.unit.open}</strong> 件，其中超期 <strong>{data.unit.overdue}</strong> 件
          </p>
          <div class="charts">
            <BarChart name="volume" title="各科室公文量" measure="公文量（件）" points={data.departments.map((d) => ({ label: d.name, value: d.created }))} />
            <LineChart name="rate" title="各月办结率" measure="办结率" max={1} format={percent} points={data.months.map((m) => ({ label: m.month, value: m.unit.completionRate }))} />
            <BarChart name="overdue" title="各月超期公文" measure="超期（件）" points={data.months.map((m) => ({ label: m.month, value: m.unit.overdue }))} />
            <BarChart name="monthly" title="各月公文量" measure="公文量（件）" points={data.months.map((m) => ({ label: m.month, value: m.unit.created }))} />
          </div>
          <table class="list compact" data-list="departments">
            <thead><tr><th>科室</th><th>公文量</th><th>办结</th><th>办结率</th><th>在办</th><th>超期</th></tr></thead>
            <tbody>
              {data.departments.map((d) => (
                <tr key={d.departmentId ?? ''}>
                  <td data-label="科室">{d.name}</td><td data-label="公文量">{d.created}</td><td data-label="办结">{d.completed}</td>
                  <td data-label="办结率">{rate(d.completionRate)}</td><td data-label="在办">{d.open}</td><td data-label="超期">{d.overdue}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  )
}
