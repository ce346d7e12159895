// The WorkflowEngine on Operaton: deploys per unit (tenant), starts and moves instances, completes
// user tasks and runs the automated steps, all through the engine node's REST API.
import { hostname } from 'node:os'
import type { Logger } from 'pino'
import { EngineError, type DeployedProcess, type StartedInstance, type StepFailure, type StepHandler, type TenantCommands, type Variables, type WorkflowEngine } from '../port.ts'
import { Rest, retryOnConflict } from './rest.ts'
import { encodeValue, encodeVariables } from './variables.ts'
import { ExternalTaskWorkers } from './workers.ts'
import { StepNames, TenantFailures } from './failures.ts'

export interface OperatonEngineOptions {
  /** http://127.0.0.1:port of the engine node. */
  url: string
  /** Bearer token the engine node requires on every call. */
  token: string
  log: Logger
  /** Names this server's workers in the engine (locks, incidents); defaults to host and pid. */
  workerId?: string
  /** How long a worker's poll waits for work (default 5 s). */
  pollTimeoutMs?: number
  /** Tries an automated step gets before it becomes an incident (default 5). */
  stepRetries?: number
  /** How long a worker holds an automated step; a step still running renews it (default 10 s). */
  lockDurationMs?: number
}

/** A process definition as the REST API returns it (the fields used here). */
interface DefinitionDto {
  id: string
  key: string
  version: number
  resource: string
  tenantId: string | null
}

interface ActivityInstanceDto {
  id: string
  activityId: string
  activityType: string
  processDefinitionId: string
  executionIds: string[]
  childActivityInstances: ActivityInstanceDto[]
}

interface TaskDto {
  id: string
  executionId: string
  taskDefinitionKey: string
  assignee?: string | null
}

export class OperatonEngine implements WorkflowEngine {
  private readonly rest: Rest
  private workers: ExternalTaskWorkers | null = null
  /** Multi-instance activities per definition: a deployed definition never changes. */
  private readonly multiInstance = new Map<string, Set<string>>()
  /** Step names per definition, for the failures and incidents the operations view lists. */
  private readonly stepNames = new StepNames()

  constructor(private readonly options: OperatonEngineOptions) {
    this.rest = new Rest({ url: options.url, token: options.token })
  }

  async deploy(tenant: string, resources: Array<{ name: string; xml: string }>, options: { source?: string } = {}): Promise<DeployedProcess[]> {
    // The engine answers an upload without resources with a 400.
    if (resources.length === 0) return []
    const source = options.source ?? 'gongwen'
    const form = new FormData()
    form.set('tenant-id', tenant)
    // Duplicate filtering compares with the latest deployment of the same name (and source) in
    // the tenant, so an unchanged model keeps its version and a model changed elsewhere (the
    // modeler deploys under its own name) is not reverted by an unchanged file.
    form.set('deployment-name', source)
    form.set('deployment-source', source)
    form.set('deploy-changed-only', 'true')
    form.set('enable-duplicate-filtering', 'true')
    for (const r of resources) form.append(r.name, new Blob([r.xml], { type: 'application/xml' }), r.name)
    // Parsing a model takes a while on a cold engine: a longer limit than other commands.
    const deployment = await this.rest.call<{ deployedProcessDefinitions: Record<string, DefinitionDto> | null }>('POST', '/deployment/create', {
      form,
      timeoutMs: 60_000,
    })

    const fresh = Object.values(deployment.deployedProcessDefinitions ?? {})
    const result: DeployedProcess[] = []
    for (const r of resources) {
      const deployed = fresh.filter((d) => d.resource === r.name)
      if (deployed.length > 0) {
        result.push(...deployed.map((d) => this.toDeployed(d, tenant, r.xml)))
        continue
      }
      // Unchanged: the engine deployed nothing new, so the caller gets the version in force.
      for (const key of executableProcessIds(r.xml)) {
        const [latest] = await this.rest.call<DefinitionDto[]>('GET', '/process-definition', {
          query: { key, tenantIdIn: tenant, latestVersion: true },
        })
        if (!latest) throw new EngineError('not_found', `deploy: process ${key} of ${r.name} has no deployed version for ${tenant}`)
        const { bpmn20Xml } = await this.rest.call<{ bpmn20Xml: string }>('GET', `/process-definition/${enc(latest.id)}/xml`)
        result.push(this.toDeployed(latest, tenant, bpmn20Xml))
      }
    }
    return result
  }

  as(tenant: string): TenantCommands {
    const rest = this.rest.forTenant(tenant)
    return new OperatonTenant(rest, this.multiInstance, this.options.log, new TenantFailures(rest, tenant, this.stepNames))
  }

  async correlateMessage(tenant: string, name: string, businessKey: string, variables: Variables, localKeys?: Variables): Promise<void> {
    // The business key both selects a waiting instance and becomes the key of one a start event starts.
    const body = {
      messageName: name, tenantId: tenant, businessKey, processVariables: encodeVariables(variables),
      ...(localKeys ? { localCorrelationKeys: encodeVariables(localKeys) } : {}),
    }
    await this.retry('correlate', () => this.rest.call('POST', '/message', { body }))
  }

  async deliverIfWaiting(tenant: string, name: string, businessKey: string, variables: Variables, localKeys?: Variables): Promise<number> {
    // `all` correlates every match and, unlike a single correlation, is no error when none waits.
    const body = {
      messageName: name, tenantId: tenant, businessKey, processVariables: encodeVariables(variables), all: true, resultEnabled: true,
      ...(localKeys ? { localCorrelationKeys: encodeVariables(localKeys) } : {}),
    }
    const results = await this.retry('deliver if waiting', () => this.rest.call<unknown[]>('POST', '/message', { body }))
    return Array.isArray(results) ? results.length : 0
  }

  async startByMessage(name: string, starts: Array<{ tenant: string; businessKey: string; variables: Variables }>): Promise<{ started: number; skipped: number }> {
    if (starts.length === 0) return { started: 0, skipped: 0 }
    // The engine node's own endpoint (MessageStarts.java): parallel transactions of a few dozen
    // starts each, skipping business keys that already have an instance.
    const body = {
      messageName: name,
      starts: starts.map((s) => ({ tenant: s.tenant, businessKey: s.businessKey, variables: encodeVariables(s.variables) })),
    }
    return this.retry('start by message', () =>
      this.rest.call<{ started: number; skipped: number }>('POST', '/gongwen/message-starts', { body, timeoutMs: 120_000 }),
    )
  }

  startWorkers(handlers: Record<string, StepHandler>): void {
    if (this.workers) throw new Error('workers already started; stop them first')
    this.workers = new ExternalTaskWorkers(this.rest, handlers, {
      workerId: this.options.workerId ?? `gongwen-${hostname()}-${process.pid}`,
      log: this.options.log,
      pollTimeoutMs: this.options.pollTimeoutMs,
      retries: this.options.stepRetries,
      lockDurationMs: this.options.lockDurationMs,
    })
    this.workers.start()
  }

  async stopWorkers(): Promise<void> {
    const workers = this.workers
    this.workers = null
    await workers?.stop()
  }

  async healthy(): Promise<boolean> {
    try {
      await this.rest.call('GET', '/engine', { timeoutMs: 2_000 })
      return true
    } catch {
      return false
    }
  }

  async close(): Promise<void> {
    await this.stopWorkers()
  }

  private retry<T>(command: string, send: () => Promise<T>): Promise<T> {
    return retry(this.options.log, command, send)
  }

  private toDeployed(d: DefinitionDto, tenant: string, xml: string): DeployedProcess {
    return { processId: d.key, definitionId: d.id, version: d.version, tenant: d.tenantId ?? tenant, resourceName: d.resource, xml }
  }
}

/** A unit's instance and task commands: every call carries the tenant, which the engine checks. */
class OperatonTenant implements TenantCommands {
  constructor(
    private readonly rest: Rest,
    /** Multi-instance activities per definition, shared by all tenants: a deployed definition never changes. */
    private readonly multiInstance: Map<string, Set<string>>,
    private readonly log: Logger,
    private readonly failures: TenantFailures,
  ) {}

  listFailingSteps(): Promise<StepFailure[]> {
    return this.failures.failingSteps()
  }

  listIncidents(): Promise<StepFailure[]> {
    return this.failures.incidents()
  }

  async getIncident(incidentId: string): Promise<StepFailure | null> {
    return (await this.failures.incidents(incidentId))[0] ?? null
  }

  async retryIncident(incidentId: string): Promise<void> {
    if (!(await this.failures.retry(incidentId))) throw new EngineError('not_found', `incident ${incidentId} is not open in this tenant, or has no step to retry`)
  }

  async start(definitionId: string, variables: Variables, businessKey?: string): Promise<StartedInstance> {
    const started = await this.rest.call<{ id: string; definitionId: string }>('POST', `/process-definition/${enc(definitionId)}/start`, {
      body: { variables: encodeVariables(variables), businessKey },
    })
    return { instanceId: started.id, definitionId: started.definitionId }
  }

  async completeTask(taskId: string, variables: Variables): Promise<void> {
    const body = { variables: encodeVariables(variables) }
    await this.retry('complete', () => this.rest.call('POST', `/task/${enc(taskId)}/complete`, { body }))
  }

  async assignTask(taskId: string, assignee: string): Promise<void> {
    await this.retry('assign', () => this.rest.call('POST', `/task/${enc(taskId)}/assignee`, { body: { userId: assignee } }))
  }

  async moveInstance(instanceId: string, move: { cancelTasks: string[]; to: string; variables: Variables }): Promise<void> {
    await this.retry('move', async () => {
      const [tree, tasks] = await Promise.all([
        this.rest.call<ActivityInstanceDto>('GET', `/process-instance/${enc(instanceId)}/activity-instances`),
        this.rest.call<TaskDto[]>('GET', '/task', { query: { processInstanceId: instanceId } }),
      ])
      const cancels = new Set<string>()
      for (const taskId of move.cancelTasks) {
        const task = tasks.find((t) => t.id === taskId)
        if (!task) throw new EngineError('not_found', `move ${instanceId}: task ${taskId} is not open in that instance`)
        const found = findTaskInstance(tree, task, null)
        if (!found) throw new EngineError('not_found', `move ${instanceId}: no activity instance holds task ${taskId}`)
        // One signer's task of a 会签 ends the whole step: cancel the multi-instance body.
        const { node, parent } = found
        cancels.add(parent && parent.activityType === 'multiInstanceBody' ? parent.id : node.id)
      }
      // A multi-instance step starts whole (one task per signer), as it does when reached normally.
      const target = (await this.multiInstanceActivities(tree.processDefinitionId)).has(move.to) ? `${move.to}#multiInstanceBody` : move.to
      const variables = Object.fromEntries(Object.entries(move.variables).map(([k, v]) => [k, { ...encodeValue(k, v), local: false }]))
      // Start first, then cancel: cancelling the last activity of a scope first would end that
      // scope (or the instance) before the target is started in it.
      const instructions = [
        { type: 'startBeforeActivity', activityId: target, variables },
        ...[...cancels].map((activityInstanceId) => ({ type: 'cancel', activityInstanceId })),
      ]
      await this.rest.call('POST', `/process-instance/${enc(instanceId)}/modification`, {
        body: { skipCustomListeners: false, skipIoMappings: false, instructions },
      })
    })
  }

  async cancelInstance(instanceId: string, reason?: string): Promise<void> {
    // The single delete takes no reason; it is logged here. Custom listeners run (the inbox one is
    // built in and would run regardless).
    this.log.info({ instanceId, reason }, 'cancelling process instance')
    await this.rest.call('DELETE', `/process-instance/${enc(instanceId)}`, { query: { skipCustomListeners: false } })
  }

  async taskExists(taskId: string): Promise<boolean> {
    try {
      await this.rest.call('GET', `/task/${enc(taskId)}`)
      return true
    } catch (err) {
      if (err instanceof EngineError && err.kind === 'not_found') return false
      throw err
    }
  }

  // 加签 is the engine's own task delegation: delegate makes the assignee the owner and gives the
  // task to the signer (pending, not completable); resolve gives it back to the owner.
  async addSignerBefore(taskId: string, handler: string, signer: string): Promise<void> {
    await this.retry('add signer', async () => {
      const task = await this.rest.call<TaskDto>('GET', `/task/${enc(taskId)}`)
      if (!task.assignee) await this.rest.call('POST', `/task/${enc(taskId)}/assignee`, { body: { userId: handler } })
      await this.rest.call('POST', `/task/${enc(taskId)}/delegate`, { body: { userId: signer } })
    })
  }

  async returnToHandler(taskId: string): Promise<void> {
    await this.retry('resolve', () => this.rest.call('POST', `/task/${enc(taskId)}/resolve`, { body: { variables: {} } }))
  }

  // 并行加签: a second instance of the same user task, started beside the handler's in the same
  // scope, with the step's assignee variable set locally to the signer.
  async addSignerParallel(taskId: string, signer: string): Promise<string> {
    const task = await this.rest.call<TaskDto & { processInstanceId: string }>('GET', `/task/${enc(taskId)}`)
    const tree = await this.rest.call<ActivityInstanceDto>('GET', `/process-instance/${enc(task.processInstanceId)}/activity-instances`)
    const found = findTaskInstance(tree, task, null)
    if (!found) throw new EngineError('not_found', `add signer: no activity instance holds task ${taskId}`)
    if (found.parent && found.parent.activityType === 'multiInstanceBody') throw new EngineError('invalid_state', 'a multi-instance step takes no parallel signer')
    const ancestor = found.parent?.id ?? tree.id
    const existing = async () => new Set((await this.rest.call<TaskDto[]>('GET', '/task', { query: { processInstanceId: task.processInstanceId, taskDefinitionKey: task.taskDefinitionKey } })).map((t) => t.id))
    const before = await existing()
    const local = (name: string, value: unknown) => ({ ...encodeValue(name, value), local: true })
    await this.rest.call('POST', `/process-instance/${enc(task.processInstanceId)}/modification`, {
      body: {
        skipCustomListeners: false, skipIoMappings: false,
        instructions: [{ type: 'startBeforeActivity', activityId: task.taskDefinitionKey, ancestorActivityInstanceId: ancestor, variables: { nextHandler: local('nextHandler', signer) } }],
      },
    })
    const added = [...(await existing())].filter((id) => !before.has(id))
    if (added.length !== 1) throw new EngineError('invalid_state', `add signer: expected one new task, found ${added.length}`)
    return added[0]
  }

  async endAddedTask(taskId: string): Promise<void> {
    await this.retry('end added task', async () => {
      const task = await this.rest.call<TaskDto & { processInstanceId: string }>('GET', `/task/${enc(taskId)}`)
      const tree = await this.rest.call<ActivityInstanceDto>('GET', `/process-instance/${enc(task.processInstanceId)}/activity-instances`)
      const found = findTaskInstance(tree, task, null)
      if (!found) throw new EngineError('not_found', `end added task: no activity instance holds task ${taskId}`)
      await this.rest.call('POST', `/process-instance/${enc(task.processInstanceId)}/modification`, {
        body: { skipCustomListeners: false, skipIoMappings: false, instructions: [{ type: 'cancel', activityInstanceId: found.node.id }] },
      })
    })
  }

  private retry<T>(command: string, send: () => Promise<T>): Promise<T> {
    return retry(this.log, command, send)
  }

  private async multiInstanceActivities(definitionId: string): Promise<Set<string>> {
    let ids = this.multiInstance.get(definitionId)
    if (!ids) {
      const { bpmn20Xml } = await this.rest.call<{ bpmn20Xml: string }>('GET', `/process-definition/${enc(definitionId)}/xml`)
      ids = multiInstanceIds(bpmn20Xml)
      this.multiInstance.set(definitionId, ids)
    }
    return ids
  }
}

/** Sends a command again when a concurrent transaction won; each retry is logged at debug. */
function retry<T>(log: Logger, command: string, send: () => Promise<T>): Promise<T> {
  return retryOnConflict(send, { onConflict: (err, attempt) => log.debug({ err, command, attempt }, 'engine conflict; sending again') })
}

const enc = encodeURIComponent

/** The activity instance holding a task (matched by execution), with its parent. */
function findTaskInstance(
  node: ActivityInstanceDto,
  task: TaskDto,
  parent: ActivityInstanceDto | null,
): { node: ActivityInstanceDto; parent: ActivityInstanceDto | null } | null {
  if (node.activityId === task.taskDefinitionKey && node.executionIds.includes(task.executionId)) return { node, parent }
  for (const child of node.childActivityInstances) {
    const found = findTaskInstance(child, task, node)
    if (found) return found
  }
  return null
}

/** XML tags with comments, CDATA and declarations removed: enough to follow the element nesting. */
function* tags(xml: string): Generator<{ closing: boolean; name: string; attrs: string; selfClosing: boolean }> {
  const text = xml.replace(/<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>|<!DOCTYPE[^>]*>/g, '')
  for (const m of text.matchAll(/<(\/?)([\w.-]+:)?([\w.-]+)([^>]*?)(\/?)>/g)) {
    yield { closing: m[1] === '/', name: m[3], attrs: m[4], selfClosing: m[5] === '/' }
  }
}

const attr = (attrs: string, name: string) => new RegExp(`(?:^|\\s)${name}\\s*=\\s*["']([^"']*)["']`).exec(attrs)?.[1]

/** Ids of the executable processes in a model (isExecutable="false" ones are not deployed). */
function executableProcessIds(xml: string): string[] {
  const ids: string[] = []
  for (const t of tags(xml)) {
    if (t.closing || t.name !== 'process') continue
    const id = attr(t.attrs, 'id')
    if (id && attr(t.attrs, 'isExecutable') !== 'false') ids.push(id)
  }
  return ids
}

/** Ids of the activities that carry multiInstanceLoopCharacteristics. */
function multiInstanceIds(xml: string): Set<string> {
  const stack: Array<string | undefined> = []
  const ids = new Set<string>()
  for (const t of tags(xml)) {
    if (t.closing) {
      stack.pop()
      continue
    }
    if (t.name === 'multiInstanceLoopCharacteristics') {
      const owner = stack[stack.length - 1]
      if (owner) ids.add(owner)
    }
    if (!t.selfClosing) stack.push(attr(t.attrs, 'id'))
  }
  return ids
}
