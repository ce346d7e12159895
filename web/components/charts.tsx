// Plain SVG charts (no chart library): a bar chart and a line chart, each an accessible image with
// a title and a description that reads out every value, for screen readers and for tests.
import { useId } from 'preact/hooks'

export interface Point {
  label: string
  /** null: no value (e.g. no 办结率 in a month without documents); drawn as a gap. */
  value: number | null
}

interface ChartProps {
  title: string
  points: Point[]
  /** How a value reads (axis, tooltips, description). */
  format?: (v: number) => string
  /** The top of the scale; defaults to the largest value (at least 1). */
  max?: number
  /** Chinese name of what is measured, e.g. 公文量. */
  measure: string
  name?: string
}

const W = 440
const H = 230
const PAD = { top: 20, right: 12, bottom: 40, left: 52 }
const plotW = W - PAD.left - PAD.right
const plotH = H - PAD.top - PAD.bottom

const plain = (v: number) => String(v)

function scale(points: Point[], max?: number) {
  let top: number
  let ticks: number[]
  if (max !== undefined) {
    top = max
    ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * top)
  } else {
    // Counts: whole-number ticks, at most five of them.
    const highest = Math.max(1, ...points.map((p) => p.value ?? 0))
    const step = Math.max(1, Math.ceil(highest / 4))
    top = step * Math.ceil(highest / step)
    ticks = Array.from({ length: top / step + 1 }, (_, i) => i * step)
  }
  return { top, ticks, y: (v: number) => PAD.top + plotH - (v / top) * plotH }
}

function describe(points: Point[], measure: string, format: (v: number) => string) {
  return points.map((p) => `${p.label}：${p.value === null ? '无' : format(p.value)}`).join('；') + `（${measure}）`
}

/** Horizontal grid lines with their values on the left axis. */
function Grid({ ticks, y, format }: { ticks: number[]; y: (v: number) => number; format: (v: number) => string }) {
  return (
    <g class="grid" aria-hidden="true">
      {ticks.map((t) => (
        <g key={t}>
          <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} />
          <text x={PAD.left - 6} y={y(t) + 4} text-anchor="end">{format(t)}</text>
        </g>
      ))}
    </g>
  )
}

/** What fits under a bar: a month as 1月 when there are many, a long name cut (the tooltip has it whole). */
function short(label: string, count: number): string {
  const month = /^\d{4}-(\d{2})$/.exec(label)
  if (month) return count > 6 ? `${Number(month[1])}月` : label
  return label.length > 6 ? `${label.slice(0, 5)}…` : label
}

function Labels({ points, x }: { points: Point[]; x: (i: number) => number }) {
  return (
    <g class="axis-labels" aria-hidden="true">
      {points.map((p, i) => (
        <text key={p.label} x={x(i)} y={H - PAD.bottom + 20} text-anchor="middle">{short(p.label, points.length)}</text>
      ))}
    </g>
  )
}

export function BarChart({ title, points, format = plain, max, measure, name }: ChartProps) {
  const id = useId()
  const { ticks, y } = scale(points, max)
  const step = plotW / Math.max(points.length, 1)
  const barW = Math.min(48, step * 0.6)
  const x = (i: number) => PAD.left + step * i + step / 2
  return (
    <figure class="chart" data-chart={name}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-t ${id}-d`}>
        <title id={`${id}-t`}>{title}</title>
        <desc id={`${id}-d`}>{describe(points, measure, format)}</desc>
        <Grid ticks={ticks} y={y} format={format} />
        {points.map((p, i) => (
          <rect
            key={p.label} class="bar" x={x(i) - barW / 2} y={y(p.value ?? 0)} width={barW} height={Math.max(0, y(0) - y(p.value ?? 0))}
            data-label={p.label} data-value={p.value ?? ''}
          >
            <title>{`${p.label}：${p.value === null ? '无' : format(p.value)}`}</title>
          </rect>
        ))}
        {points.map((p, i) => p.value ? (
          <text key={`v-${p.label}`} class="value" x={x(i)} y={y(p.value) - 4} text-anchor="middle" aria-hidden="true">{format(p.value)}</text>
        ) : null)}
        <Labels points={points} x={x} />
      </svg>
      <figcaption>{title}</figcaption>
    </figure>
  )
}

export function LineChart({ title, points, format = plain, max, measure, name }: ChartProps) {
  const id = useId()
  const { ticks, y } = scale(points, max)
  const step = plotW / Math.max(points.length, 1)
  const x = (i: number) => PAD.left + step * i + step / 2
  // Runs of consecutive values: a month without a value breaks the line.
  const runs: string[] = []
  let run: string[] = []
  points.forEach((p, i) => {
    if (p.value === null) {
      if (run.length) runs.push(run.join(' '))
      run = []
    } else run.push(`${x(i)},${y(p.value)}`)
  })
  if (run.length) runs.push(run.join(' '))
  return (
    <figure class="chart" data-chart={name}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-t ${id}-d`}>
        <title id={`${id}-t`}>{title}</title>
        <desc id={`${id}-d`}>{describe(points, measure, format)}</desc>
        <Grid ticks={ticks} y={y} format={format} />
        {runs.map((r) => <polyline key={r} class="line" points={r} />)}
        {points.map((p, i) => p.value === null ? null : (
          <circle key={p.label} class="dot" cx={x(i)} cy={y(p.value)} r={4} data-label={p.label} data-value={p.value}>
            <title>{`${p.label}：${format(p.value)}`}</title>
          </circle>
        ))}
        <Labels points={points} x={x} />
      </svg>
      <figcaption>{title}</figcaption>
    </figure>
  )
}
