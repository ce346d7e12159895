// A user task's binding as the inbox reads it — 笺 (zeebe:formDefinition externalReference), role
// (zeebe:assignmentDefinition candidateGroups), field permissions and opinion box (task headers
// editable / hidden / opinion) — read from and written to the diagram through bpmn-js modeling,
// so every change is undoable and the properties panel shows it at once.

/** The assignee expression of a step whose handler the previous step may choose. */
export const CHOSEN_HANDLER = '=if nextHandler != null then nextHandler else ""'

export type Permission = 'editable' | 'readonly' | 'hidden'

export interface Binding {
  form: string | null
  /** candidateGroups as written (a role, a list, or a FEEL expression). */
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

export function readBinding(element: { businessObject: Bo }): Binding {
  const bo = element.businessObject
  const headers = new Map<string, string>((find(bo, 'zeebe:TaskHeaders')?.get('values') ?? []).map((h: Bo) => [h.key, h.value]))
  const assignment = find(bo, 'zeebe:AssignmentDefinition')
  return {
    form: find(bo, 'zeebe:FormDefinition')?.externalReference ?? null,
    groups: assignment?.candidateGroups ?? null,
    assignee: assignment?.assignee ?? null,
    editable: list(headers.get('editable')),
    hidden: list(headers.get('hidden')),
    opinion: headers.get('opinion') ?? null,
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
    this.upsert('zeebe:FormDefinition', { externalReference: key, formKey: undefined, formId: undefined })
  }

  role(role: string) {
    this.upsert('zeebe:AssignmentDefinition', { candidateGroups: role })
  }

  /** Whether the previous step picks this step's handler (else everyone holding the role gets it). */
  handlerChosen(chosen: boolean) {
    this.upsert('zeebe:AssignmentDefinition', { assignee: chosen ? CHOSEN_HANDLER : undefined })
  }

  permission(b: Binding, field: string, to: Permission) {
    const editable = b.editable.filter((f) => f !== field)
    const hidden = b.hidden.filter((f) => f !== field)
    if (to === 'editable') editable.push(field)
    if (to === 'hidden') hidden.push(field)
    this.headers({ editable: editable.join(','), hidden: hidden.join(',') })
  }

  opinion(box: string | null) {
    this.headers({ opinion: box })
  }

  /** Sets or (with null or '') removes task headers, keeping the others in their order. */
  headers(changes: Record<string, string | null>) {
    const ext = this.extensionElements()
    const existing = values(this.element.businessObject).find((v) => v.$type === 'zeebe:TaskHeaders')
    const map = new Map<string, string>((existing?.get('values') ?? []).map((h: Bo) => [h.key, h.value]))
    for (const [key, value] of Object.entries(changes)) {
      if (value) map.set(key, value)
      else map.delete(key)
    }
    const container = existing ?? this.factory.create('zeebe:TaskHeaders', { values: [] })
    const headers = [...map].map(([key, value]) => Object.assign(this.factory.create('zeebe:Header', { key, value }), { $parent: container }))
    if (existing) {
      this.modeling.updateModdleProperties(this.element, existing, { values: headers })
    } else {
      container.values = headers
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

  private upsert(type: string, attrs: Record<string, unknown>) {
    const ext = this.extensionElements()
    const existing = ext.get('values').find((v: Bo) => v.$type === type)
    if (existing) {
      this.modeling.updateModdleProperties(this.element, existing, attrs)
    } else {
      const created = this.factory.create(type, Object.fromEntries(Object.entries(attrs).filter(([, v]) => v !== undefined)))
      created.$parent = ext
      this.modeling.updateModdleProperties(this.element, ext, { values: [...ext.get('values'), created] })
    }
  }
}
