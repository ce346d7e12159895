// Reads an Operaton (Camunda 7 dialect) BPMN model into what the inbox needs to know about each
// user task: its 笺, binding properties, the role it is offered to, and the routes (办理方式) the
// model allows from it. Routes are read from the diagram itself — the names of the flows leaving
// the task or its exclusive gateway — so the model stays the single source of flow logic.
import { createRequire } from 'node:module'
import { BpmnModdle } from 'bpmn-moddle'
import type { ProcessModel, RouteTarget, UserTaskModel } from '../port.ts'

const require = createRequire(import.meta.url)

/** The camunda: dialect (`http://camunda.org/schema/1.0/bpmn`) for every moddle that reads or writes our models. */
export const moddleExtensions = { camunda: require('camunda-bpmn-moddle/resources/camunda.json') as object }

type El = {
  $type: string
  id: string
  name?: string
  outgoing?: El[]
  targetRef?: El
  conditionExpression?: { body?: string }
  extensionElements?: { values?: Array<Record<string, any>> }
  flowElements?: El[]
  eventDefinitions?: El[]
  loopCharacteristics?: { $type: string }
  // camunda: attributes
  formKey?: string
  assignee?: string
  candidateGroups?: string
  topic?: string
}

const moddle = new BpmnModdle(moddleExtensions)

export async function parseModel(xml: string): Promise<ProcessModel> {
  const { rootElement } = (await moddle.fromXML(xml)) as unknown as { rootElement: { rootElements: El[] } }
  const process = rootElement.rootElements.find((e) => e.$type === 'bpmn:Process')
  if (!process) throw new Error('the model has no bpmn:Process')
  const userTasks = new Map<string, UserTaskModel>()
  const serviceTopics = new Set<string>()
  const elements: Array<{ el: El; subprocess: string | null }> = []
  const collect = (list: El[], subprocess: string | null) => {
    for (const el of list) {
      elements.push({ el, subprocess })
      if (el.$type === 'bpmn:SubProcess') collect(el.flowElements ?? [], el.id)
    }
  }
  collect(process.flowElements ?? [], null)

  for (const { el, subprocess } of elements) {
    // External tasks: service, send and business rule tasks, and message events (camunda:ExternalCapable).
    for (const carrier of [el, ...(el.eventDefinitions ?? [])]) if (carrier.topic) serviceTopics.add(carrier.topic)
    if (el.$type !== 'bpmn:UserTask') continue
    const properties: Record<string, string> = {}
    for (const p of ext(el, 'camunda:Properties')?.values ?? []) if (p.name) properties[p.name] = p.value ?? ''
    userTasks.set(el.id, {
      id: el.id,
      name: el.name ?? el.id,
      formKey: el.formKey ?? null,
      candidateRole: firstGroup(el.candidateGroups),
      candidateGroups: el.candidateGroups ?? null,
      assigneeExpression: el.assignee ?? null,
      editable: list(properties.editable),
      outputs: list(properties.outputs),
      multiInstance: el.loopCharacteristics?.$type === 'bpmn:MultiInstanceLoopCharacteristics',
      subprocess,
      properties,
      routes: routesFrom(el),
    })
  }
  return { processId: process.id, name: process.name ?? process.id, userTasks, serviceTopics: [...serviceTopics] }
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean)
}

function ext(el: El, type: string): Record<string, any> | undefined {
  return el.extensionElements?.values?.find((v) => v.$type === type)
}

/** The first role of a plain list; null for an expression such as dept_head@${department}. */
function firstGroup(groups: string | undefined): string | null {
  if (!groups || /[$#]\{/.test(groups)) return null
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
  return {
    name: flow.name ?? conditionValue(flow) ?? target.name ?? target.id,
    targetId: target.id,
    targetName: target.name ?? target.id,
    targetType: type,
    targetRole: type === 'userTask' ? firstGroup(target.candidateGroups) : null,
    opinionRequired: (ext(flow, 'camunda:Properties')?.values ?? []).some((p: Record<string, string>) => p.name === 'opinionRequired' && p.value === 'true'),
    targetTopic: type === 'serviceTask' ? target.topic ?? null : null,
  }
}

/** `${route == '送签发'}` → 送签发, for flows drawn without a name. */
function conditionValue(flow: El): string | null {
  const match = /route\s*==\s*(?:'([^']+)'|"([^"]+)")/.exec(flow.conditionExpression?.body ?? '')
  return match ? (match[1] ?? match[2]) : null
}
