// Reads a BPMN model into what the inbox needs to know about each user task: its 笺, the fields
// it may edit, the role it is offered to, and the routes (办理方式) the model allows from it.
// Routes are read from the diagram itself — the names of the flows leaving the task or its
// exclusive gateway — so the model stays the single source of flow logic.
import { createRequire } from 'node:module'
import { BpmnModdle } from 'bpmn-moddle'

const require = createRequire(import.meta.url)
const zeebeDescriptor = require('zeebe-bpmn-moddle/resources/zeebe.json')

export interface RouteTarget {
  /** The 办理方式 as drawn on the flow, e.g. 送签发. */
  name: string
  /** Element the route leads to. */
  targetId: string
  targetName: string
  targetType: 'userTask' | 'serviceTask' | 'endEvent' | 'other'
  /** Role the next step is offered to; a next handler may only be chosen when there is one. */
  targetRole: string | null
}

export interface UserTaskModel {
  id: string
  name: string
  formKey: string | null
  candidateRole: string | null
  /** candidateGroups as written: a role list, or an expression such as =["dept_head@" + department]. */
  candidateGroups: string | null
  assigneeExpression: string | null
  editable: string[]
  /** 笺 fields sent to the engine as variables on completion (task header `outputs`), for gateways and multi-instance. */
  outputs: string[]
  /** A multi-instance task (会签, 批示): one task per signer. */
  multiInstance: boolean
  /** Id of the embedded subprocess holding the task, null at the top level. */
  subprocess: string | null
  headers: Record<string, string>
  routes: RouteTarget[]
}

export interface ProcessModel {
  processId: string
  name: string
  userTasks: Map<string, UserTaskModel>
  serviceTaskTypes: string[]
}

type El = {
  $type: string
  id: string
  name?: string
  outgoing?: El[]
  targetRef?: El
  conditionExpression?: { body?: string }
  extensionElements?: { values?: Array<Record<string, any>> }
  flowElements?: El[]
  loopCharacteristics?: { $type: string }
}

const moddle = new BpmnModdle({ zeebe: zeebeDescriptor })

export async function parseProcess(xml: string): Promise<ProcessModel> {
  const { rootElement } = (await moddle.fromXML(xml)) as unknown as { rootElement: { rootElements: El[] } }
  const process = rootElement.rootElements.find((e) => e.$type === 'bpmn:Process')
  if (!process) throw new Error('the model has no bpmn:Process')
  const userTasks = new Map<string, UserTaskModel>()
  const serviceTaskTypes: string[] = []
  const elements: Array<{ el: El; subprocess: string | null }> = []
  const collect = (list: El[], subprocess: string | null) => {
    for (const el of list) {
      elements.push({ el, subprocess })
      if (el.$type === 'bpmn:SubProcess') collect(el.flowElements ?? [], el.id)
    }
  }
  collect(process.flowElements ?? [], null)

  for (const { el, subprocess } of elements) {
    if (el.$type === 'bpmn:ServiceTask') {
      const def = ext(el, 'zeebe:TaskDefinition')
      if (def?.type) serviceTaskTypes.push(def.type)
    }
    if (el.$type !== 'bpmn:UserTask') continue
    const headers: Record<string, string> = {}
    for (const h of ext(el, 'zeebe:TaskHeaders')?.values ?? []) headers[h.key] = h.value
    const assignment = ext(el, 'zeebe:AssignmentDefinition')
    userTasks.set(el.id, {
      id: el.id,
      name: el.name ?? el.id,
      formKey: ext(el, 'zeebe:FormDefinition')?.externalReference ?? null,
      candidateRole: firstGroup(assignment?.candidateGroups),
      candidateGroups: assignment?.candidateGroups ?? null,
      assigneeExpression: assignment?.assignee ?? null,
      editable: list(headers.editable),
      outputs: list(headers.outputs),
      multiInstance: el.loopCharacteristics?.$type === 'bpmn:MultiInstanceLoopCharacteristics',
      subprocess,
      headers,
      routes: routesFrom(el),
    })
  }
  return { processId: process.id, name: process.name ?? process.id, userTasks, serviceTaskTypes }
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean)
}

function ext(el: El, type: string): Record<string, any> | undefined {
  return el.extensionElements?.values?.find((v) => v.$type === type)
}

function firstGroup(groups: string | undefined): string | null {
  if (!groups || groups.startsWith('=')) return null
  return groups.split(',')[0].trim() || null
}

function routesFrom(task: El): RouteTarget[] {
  const routes: RouteTarget[] = []
  for (const flow of task.outgoing ?? []) {
    const next = flow.targetRef!
    if (next.$type === 'bpmn:ExclusiveGateway') {
      for (const branch of next.outgoing ?? []) routes.push(route(branch))
    } else {
      routes.push(route(flow))
    }
  }
  return routes
}

function route(flow: El): RouteTarget {
  const target = flow.targetRef!
  const type =
    target.$type === 'bpmn:UserTask'
      ? 'userTask'
      : target.$type === 'bpmn:ServiceTask'
        ? 'serviceTask'
        : target.$type === 'bpmn:EndEvent'
          ? 'endEvent'
          : 'other'
  const assignment = ext(target, 'zeebe:AssignmentDefinition')
  return {
    name: flow.name ?? conditionValue(flow) ?? target.name ?? target.id,
    targetId: target.id,
    targetName: target.name ?? target.id,
    targetType: type,
    targetRole: type === 'userTask' ? firstGroup(assignment?.candidateGroups) : null,
  }
}

/** `=route = "送签发"` → 送签发, for flows drawn without a name. */
function conditionValue(flow: El): string | null {
  const match = /route\s*=\s*"([^"]+)"/.exec(flow.conditionExpression?.body ?? '')
  return match ? match[1] : null
}
