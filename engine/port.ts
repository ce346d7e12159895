// The engine port: the engine-neutral interface the server uses to run flows, and the neutral
// shape of a read model. Only engine/index.ts knows which adapter implements it; every id the
// engine hands out (definition, instance, task, job) is an opaque string.

export type Variables = Record<string, unknown>

/** Why a command to the engine failed. */
export type EngineErrorKind =
  /** The task, instance or definition does not exist (any more). */
  | 'not_found'
  /** It exists but is in a state that refuses the command. */
  | 'invalid_state'
  /** The engine refused the input (a model that does not deploy, a bad variable). */
  | 'rejected'
  /** A concurrent change won (optimistic locking); the same command may be sent again. */
  | 'conflict'
  /** No answer, or the engine is down: the command may or may not have been applied. */
  | 'unavailable'

export class EngineError extends Error {
  constructor(
    readonly kind: EngineErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

export interface DeployedProcess {
  /** The process id in the model (fawen, fenwen, chengyue). */
  processId: string
  /** Opaque id of this deployed version; documents and inbox rows record it. */
  definitionId: string
  version: number
  /** The unit the version belongs to (the engine's tenant). */
  tenant: string
  resourceName: string
  xml: string
}

export interface StartedInstance {
  instanceId: string
  definitionId: string
}

/** An automated step (编号, 用印登记, 分发, …) handed to a worker. */
export interface AutomatedStep {
  id: string
  topic: string
  instanceId: string
  tenant: string | null
  /** Variables in scope; lists and records arrive decoded (they travel as JSON text). */
  variables: Variables
  /** Tries left before the step raises an incident; null when the engine has not counted yet. */
  retries: number | null
}

/** Runs one automated step; what it returns is set as variables. Throwing makes the engine retry it later. */
export type StepHandler = (step: AutomatedStep) => Promise<Variables | void>

/** Where a route from a user task leads. */
export interface RouteTarget {
  /** The 办理方式 as drawn on the flow, e.g. 送签发. */
  name: string
  targetId: string
  targetName: string
  targetType: 'userTask' | 'serviceTask' | 'endEvent' | 'other'
  /** Role the next step is offered to; a next handler may only be chosen when there is one. */
  targetRole: string | null
  /** The route needs an opinion, its reason (e.g. 拒收): the flow's `opinionRequired` property. */
  opinionRequired?: boolean
  /** The topic of the automated step the route leads to (e.g. document.seal), if it leads to one. */
  targetTopic?: string | null
}

/** What the inbox needs to know about one user task of a model. */
export interface UserTaskModel {
  id: string
  name: string
  /** The 笺 bound to the step. */
  formKey: string | null
  /** The first role the step is offered to, when it is a plain role (not per department). */
  candidateRole: string | null
  /** The roles as written in the model, plain or as an expression (per department). */
  candidateGroups: string | null
  /** The assignee as written in the model, if any. */
  assigneeExpression: string | null
  /** 笺 fields the step may edit. */
  editable: string[]
  /** 笺 fields sent to the engine as variables on completion (gateways, multi-instance). */
  outputs: string[]
  /** One task per signer (会签, 批示). */
  multiInstance: boolean
  /** Id of the embedded subprocess holding the task, null at the top level. */
  subprocess: string | null
  /** The step's binding properties: editable, hidden, opinion, blankSignature, outputs, …. */
  properties: Record<string, string>
  routes: RouteTarget[]
}

export interface ProcessModel {
  processId: string
  name: string
  userTasks: Map<string, UserTaskModel>
  /** Topics of the automated steps (noun.verb). */
  serviceTopics: string[]
}

/** A problem found in a model, named by element id (and field) in Chinese for the admin. */
export interface ModelProblem {
  field: string
  message: string
}

/** What the project allows in a unit admin's version of a flow (checked in the engine's dialect). */
export interface UnitModelRules {
  /** The process id every unit's version keeps (fawen, fenwen, chengyue). */
  baseId: string
  label: string
  /** The 笺 every user task of the flow fills. */
  form: string
  /** Roles a step may be offered to, alone or per department (`dept_head@` + the department). */
  roles: readonly string[]
  /** Topics of the automated steps that have a worker. */
  topics: readonly string[]
  /** The message that starts 分文报批 (电子来文); only that flow may have it, and must. */
  incomingMessage: string
  /**
   * Messages this system sends into the flow, which it may wait for at an intermediate catch event
   * (联合发文: a co-issuer's 会签 answer and seal); no other message event is allowed.
   */
  catchMessages?: readonly string[]
  /** Variables that tie an instance to its document and unit; no step may write them. */
  reservedVariables: readonly string[]
}

/** The result of checking a unit's model: problems, and the people it names by id (the caller checks they are of the unit). */
export interface UnitModelCheck {
  /** False when the model does not parse into exactly one process: nothing further was checked. */
  readable: boolean
  problems: ModelProblem[]
  people: Array<{ field: string; userId: string; element: string }>
}

/**
 * What may be done to a unit's instances and tasks, as that unit. The engine checks the tenant as
 * well (a second wall behind our own unit scoping): another unit's instance or task is not_found.
 */
export interface TenantCommands {
  /** Starts an instance of one deployed version of the unit's flows. */
  start(definitionId: string, variables: Variables, businessKey?: string): Promise<StartedInstance>
  /** Completes a user task with the variables its routes and gateways read. */
  completeTask(taskId: string, variables: Variables): Promise<void>
  /** Gives a user task to another person (转办). */
  assignTask(taskId: string, assignee: string): Promise<void>
  /**
   * Moves an instance (退回, 撤回): ends the steps holding the given tasks (the whole
   * multi-instance step when a task is one of several) and starts the step `to`, with the
   * variables set on the instance.
   */
  moveInstance(instanceId: string, move: { cancelTasks: string[]; to: string; variables: Variables }): Promise<void>
  cancelInstance(instanceId: string, reason?: string): Promise<void>
  /** Whether a user task of the unit is still open in the engine. */
  taskExists(taskId: string): Promise<boolean>
  /** The unit's automated steps and engine jobs that failed and are waiting to be tried again. */
  listFailingSteps(): Promise<StepFailure[]>
  /** The unit's open incidents: steps whose tries ran out and that wait for a person. */
  listIncidents(): Promise<StepFailure[]>
  /** One open incident of the unit, or null (unknown, resolved, or another unit's). */
  getIncident(incidentId: string): Promise<StepFailure | null>
  /** Gives the failed step of an incident one more try; the incident closes when it is taken up. */
  retryIncident(incidentId: string): Promise<void>
  /**
   * 加签 before the handler: the task goes to `signer` and, when they sign (returnToHandler), back
   * to the person it was with (`handler` when it was offered to a role). It cannot be completed meanwhile.
   */
  addSignerBefore(taskId: string, handler: string, signer: string): Promise<void>
  /** The signer added before the handler has signed: the task returns to the handler. */
  returnToHandler(taskId: string): Promise<void>
  /**
   * 并行加签: starts a second task of the same step, in the same scope, for `signer`; its
   * completion would not move the flow (endAddedTask ends it when the signer has signed).
   * Returns the new task's id.
   */
  addSignerParallel(taskId: string, signer: string): Promise<string>
  /** Ends a task started by addSignerParallel without moving the flow on. */
  endAddedTask(taskId: string): Promise<void>
}

/** A failing automated step or engine job (timer, async continuation), or an incident: one whose tries ran out. */
export interface StepFailure {
  /** Opaque id: the incident's for incidents, the step's or job's for failing steps. */
  id: string
  instanceId: string
  /** The step in the model (its id and name) where it failed. */
  stepId: string
  stepName: string
  /** The automated step's topic (noun.verb); null for an engine job. */
  topic: string | null
  kind: 'automated' | 'job' | 'other'
  /** The last error, as the worker or the engine reported it. */
  message: string | null
  /** Tries left (0 for an incident); null when the engine does not say. */
  retries: number | null
  /** When the incident was raised; null for a failing step. */
  since: string | null
}

export interface WorkflowEngine {
  /** Deploys models as new versions of the unit's (tenant's) flows; an unchanged model keeps its version. */
  deploy(tenant: string, resources: Array<{ name: string; xml: string }>, options?: { source?: string }): Promise<DeployedProcess[]>
  /** The instance and task commands, as the unit (tenant). */
  as(tenant: string): TenantCommands
  /**
   * Delivers a message to the unit's flows (a message start event or a waiting catch event).
   * `localKeys` narrows it to the waiting execution holding those local variables (one instance of
   * a multi-instance step, e.g. the 联合发文 会签 of one co-issuer).
   */
  correlateMessage(tenant: string, name: string, businessKey: string, variables: Variables, localKeys?: Variables): Promise<void>
  /**
   * Delivers a message to the waiting executions it matches, and says how many got it (0 when none
   * waits). For a wait that is in place before the message can be sent: none waiting then means the
   * message was delivered already (a retry after a crash), or the flow no longer waits for it.
   */
  deliverIfWaiting(tenant: string, name: string, businessKey: string, variables: Variables, localKeys?: Variables): Promise<number>
  /**
   * Starts one instance per business key from each unit's (tenant's) message start event: 分发 to
   * many units at once. A business key that already has an instance in its unit, running or
   * ended, is skipped, so the call may be sent again after any failure and starts each key once.
   */
  startByMessage(name: string, starts: Array<{ tenant: string; businessKey: string; variables: Variables }>): Promise<{ started: number; skipped: number }>
  /** Runs the automated steps: one handler per topic. */
  startWorkers(handlers: Record<string, StepHandler>): void
  stopWorkers(): Promise<void>
  healthy(): Promise<boolean>
  close(): Promise<void>
}
