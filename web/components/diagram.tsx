// The process diagram of one document (bpmn-js NavigatedViewer, pan and zoom), with the steps
// done and the steps open now marked.
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer'
import 'bpmn-js/dist/assets/diagram-js.css'
import 'bpmn-js/dist/assets/bpmn-js.css'
import { useEffect, useRef, useState } from 'preact/hooks'

export interface DiagramData {
  xml: string
  current: string[]
  done: string[]
  /** Signers added (加签) at a step: shown as a note under the step. */
  signers?: Array<{ step: string; mode: string; signerName: string; state: string }>
}

export function Diagram({ data }: { data: DiagramData }) {
  const host = useRef<HTMLDivElement>(null)
  const [problem, setProblem] = useState<string | null>(null)

  useEffect(() => {
    const viewer = new NavigatedViewer({ container: host.current! })
    const canvas = viewer.get<any>('canvas')
    const registry = viewer.get<any>('elementRegistry')
    const current = () => data.current.map((id) => registry.get(id)).filter(Boolean)
    let imported = false
    // Fits again whenever the box changes size (styles arriving, a tablet turned), not on every pan.
    const observer = new ResizeObserver(() => imported && focus(canvas, current()))
    observer.observe(host.current!)
    viewer.importXML(data.xml).then(() => {
      imported = true
      const mark = (ids: string[], marker: string) => ids.filter((id) => registry.get(id)).forEach((id) => canvas.addMarker(id, marker))
      mark(data.done, 'gw-done')
      mark(data.current, 'gw-current')
      addSignerNotes(viewer.get<any>('overlays'), registry, data.signers ?? [])
      focus(canvas, current())
      host.current?.setAttribute('data-ready', 'true')
    }, (err: Error) => setProblem(`流程图无法显示：${err.message}`))
    return () => {
      observer.disconnect()
      viewer.destroy()
    }
  }, [data])

  return (
    <div class="diagram-wrap">
      {problem && <p class="alert error">{problem}</p>}
      <div class="diagram" ref={host} aria-label="流程图" />
      <div class="legend">
        <span><i class="swatch done" />已办</span>
        <span><i class="swatch current" />当前步骤</span>
        {data.signers?.length ? <span class="gw-signers-legend">黄色标注为加签人</span> : null}
        <span class="muted">拖动可平移，滚轮或双指可缩放</span>
      </div>
    </div>
  )
}

const signerModes: Record<string, string> = { before: '前加签', after: '后加签', parallel: '并行加签' }
const signerStates: Record<string, string> = { signed: '已签', open: '待签', canceled: '已撤销' }

/** 加签 under each step: who was added, before or after the handler, and whether they have signed. */
function addSignerNotes(overlays: any, registry: any, signers: NonNullable<DiagramData['signers']>) {
  const byStep = new Map<string, typeof signers>()
  for (const s of signers) byStep.set(s.step, [...(byStep.get(s.step) ?? []), s])
  for (const [step, list] of byStep) {
    const element = registry.get(step)
    if (!element) continue
    const note = document.createElement('div')
    note.className = 'gw-signers'
    note.setAttribute('data-step', step)
    note.style.cssText = 'font-size:11px;line-height:1.3;background:#fff8e1;border:1px solid #f0c36d;border-radius:3px;padding:1px 4px;white-space:nowrap'
    for (const s of list) {
      const line = document.createElement('div')
      line.className = `gw-signer gw-signer-${s.state}`
      line.textContent = `加签：${s.signerName}（${signerModes[s.mode] ?? s.mode}，${signerStates[s.state] ?? s.state}）`
      note.appendChild(line)
    }
    overlays.add(step, 'gw-signers', { position: { top: element.height + 2, left: 0 }, html: note })
  }
}

/**
 * Shows the whole diagram when it is legible at this size; otherwise a legible zoom centred on
 * the current steps (a flow with its reminder branches is too wide for a tablet).
 */
function focus(canvas: any, current: Array<{ x: number; y: number; width: number; height: number }>) {
  canvas.resized()
  // A container with no size yet (styles not applied, page hidden) has no zoom to fit.
  const { outer } = canvas.viewbox()
  if (!(outer.width > 0 && outer.height > 0)) return
  canvas.zoom('fit-viewport', 'auto')
  const legible = 0.8
  if (canvas.zoom() >= legible * 0.75 || current.length === 0) return
  const left = Math.min(...current.map((e) => e.x))
  const top = Math.min(...current.map((e) => e.y))
  const right = Math.max(...current.map((e) => e.x + e.width))
  const bottom = Math.max(...current.map((e) => e.y + e.height))
  const width = outer.width / legible
  const height = outer.height / legible
  canvas.viewbox({ x: (left + right) / 2 - width / 2, y: (top + bottom) / 2 - height / 2, width, height })
}
