// A user task's binding as the inbox reads it — 笺 (camunda:formKey), role (camunda:candidateGroups),
// handler (camunda:assignee), field permissions and opinion box (camunda:properties editable /
// hidden / opinion) — read from and written to the diagram through bpmn-js modeling, so every
// change is undoable and the properties panel shows it at once.

/** The assignee expression of a step whose handler the previous step may choose (else the role's people). */
export const CHOSEN_HANDLER = '${empty nextHandler ? null : nextHandler}'

export type Permission = 'editable' | 'readonly' | 'hidden'

export interface Binding {
  form: string | null
  /** candidateGroups as written (a role, a list, or per department as dept_head@${department}). */
  groups: string | null
  assignee: string | null
  editable: string[]
  hidden: string[]
  opinion: string | null
}

type Bo = { $type: string; get(name: string): any; [k: string]: any }
type Services = { get<T = any>(name: string): T }

const list = (value: string | undefined) => (value ?? '').split(',').map((s) => s.trim()).filter(Boolean)
const values = (bo: Bo): Bo[] => bo.get('extensionElements')?.get('values') ?? []
const find = (bo: Bo, type: string) => values(bo).find((v) => v.$type === type)
const orNull = (v: string | undefined) => (v === undefined || v === '' ? null : v)

export function readBinding(element: { businessObject: Bo }): Binding {
  const bo = element.businessObject
  const props = new Map<string, string>((find(bo, 'camunda:Properties')?.get('values') ?? []).map((p: Bo) => [p.name, p.value]))
  return {
    form: orNull(bo.get('camunda:formKey')),
    groups: orNull(bo.get('camunda:candidateGroups')),
    assignee: orNull(bo.get('camunda:assignee')),
    editable: list(props.get('editable')),
    hidden: list(props.get('hidden')),
    opinion: props.get('opinion') ?? null,
  }
}

export function permissionOf(b: Binding, field: string): Permission {
  return b.hidden.includes(field) ? 'hidden' : b.editable.includes(field) ? 'editable' : 'readonly'
}

/** Writes the binding of one user task; only the keys given change. */
export class BindingWriter {
  private readonly modeling: any
  private readonly factory: any

  constructor(modeler: Services, private readonly element: { businessObject: Bo }) {
    this.modeling = modeler.get('modeling')
    this.factory = modeler.get('bpmnFactory')
  }

  form(key: string) {
    this.modeling.updateProperties(this.element, { 'camunda:formKey': key || undefined })
  }

  role(role: string) {
    this.modeling.updateProperties(this.element, { 'camunda:candidateGroups': role || undefined })
  }

  /** Whether the previous step picks this step's handler (else everyone holding the role gets it). */
  handlerChosen(chosen: boolean) {
    this.modeling.updateProperties(this.element, { 'camunda:assignee': chosen ? CHOSEN_HANDLER : undefined })
  }

  permission(b: Binding, field: string, to: Permission) {
    const editable = b.editable.filter((f) => f !== field)
    const hidden = b.hidden.filter((f) => f !== field)
    if (to === 'editable') editable.push(field)
    if (to === 'hidden') hidden.push(field)
    this.properties({ editable: editable.join(','), hidden: hidden.join(',') })
  }

  opinion(box: string | null) {
    this.properties({ opinion: box })
  }

  /** Sets or (with null or '') removes binding properties, keeping the others in their order. */
  properties(changes: Record<string, string | null>) {
    const ext = this.extensionElements()
    const existing = values(this.element.businessObject).find((v) => v.$type === 'camunda:Properties')
    const map = new Map<string, string>((existing?.get('values') ?? []).map((p: Bo) => [p.name, p.value]))
    for (const [name, value] of Object.entries(changes)) {
      if (value) map.set(name, value)
      else map.delete(name)
    }
    const container = existing ?? this.factory.create('camunda:Properties', { values: [] })
    const props = [...map].map(([name, value]) => Object.assign(this.factory.create('camunda:Property', { name, value }), { $parent: container }))
    if (existing) {
      this.modeling.updateModdleProperties(this.element, existing, { values: props })
    } else {
      container.values = props
      container.$parent = ext
      this.modeling.updateModdleProperties(this.element, ext, { values: [...ext.get('values'), container] })
    }
  }

  private extensionElements(): Bo {
    const bo = this.element.businessObject
    let ext = bo.get('extensionElements')
    if (!ext) {
      ext = this.factory.create('bpmn:ExtensionElements', { values: [] })
      ext.$parent = bo
      this.modeling.updateProperties(this.element, { extensionElements: ext })
    }
    return ext
  }
}
