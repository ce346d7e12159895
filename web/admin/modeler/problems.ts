// Shows the server's problems on the diagram: a red marker and a badge (overlay) on each element a
// problem names; problems without an element (the XML as a whole) are only listed.
import type { FieldProblem } from '../../lib/api.ts'

const OVERLAY = 'gw-problem'
const MARKER = 'gw-invalid'

/** The element a problem names: its field is '<elementId>' or '<elementId>.<field>' (ids may hold dots). */
export function elementOf(registry: any, field: string): string | null {
  const parts = field.split('.')
  for (let n = parts.length; n > 0; n--) {
    const id = parts.slice(0, n).join('.')
    if (registry.get(id)) return id
  }
  return null
}

export function clearProblems(modeler: any): void {
  const canvas = modeler.get('canvas')
  modeler.get('overlays').remove({ type: OVERLAY })
  for (const el of modeler.get('elementRegistry').getAll()) canvas.removeMarker(el, MARKER)
}

export function showProblems(modeler: any, problems: FieldProblem[]): void {
  clearProblems(modeler)
  const registry = modeler.get('elementRegistry')
  const root = modeler.get('canvas').getRootElement()
  const byElement = new Map<string, string[]>()
  for (const p of problems) {
    const id = elementOf(registry, p.field)
    if (!id || id === root.id) continue
    byElement.set(id, [...(byElement.get(id) ?? []), p.message])
  }
  for (const [id, messages] of byElement) {
    modeler.get('canvas').addMarker(id, MARKER)
    const badge = document.createElement('div')
    badge.className = 'gw-problem-badge'
    badge.dataset.element = id
    badge.title = messages.join('\n')
    badge.textContent = `! ${messages.length}`
    modeler.get('overlays').add(id, OVERLAY, { position: { top: -12, right: 12 }, html: badge })
  }
}

/** Selects the element a problem names and centres it at full size. */
export function reveal(modeler: any, field: string): void {
  const id = elementOf(modeler.get('elementRegistry'), field)
  if (!id) return
  const element = modeler.get('elementRegistry').get(id)
  const points: Array<{ x: number; y: number }> = element.waypoints ?? [{ x: element.x, y: element.y }, { x: element.x + element.width, y: element.y + element.height }]
  const cx = (Math.min(...points.map((p) => p.x)) + Math.max(...points.map((p) => p.x))) / 2
  const cy = (Math.min(...points.map((p) => p.y)) + Math.max(...points.map((p) => p.y))) / 2
  const canvas = modeler.get('canvas')
  const { outer } = canvas.viewbox()
  canvas.viewbox({ x: cx - outer.width / 2, y: cy - outer.height / 2, width: outer.width, height: outer.height })
  modeler.get('selection').select(element)
  modeler.get('contextPad').close() // it would cover the problem badge
}
