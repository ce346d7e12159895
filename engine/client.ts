// The only module that talks to Zeebe through @camunda8/sdk: deploy models, start and cancel
// instances, complete user tasks, run job workers. Everything else receives an Engine.
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { Camunda8 } from '@camunda8/sdk'
import type { Logger } from 'pino'

export interface EngineOptions {
  /** host:port of the gRPC gateway. */
  grpcAddress: string
  /** http://host:port of the REST gateway (without /v2). */
  restAddress: string
  log: Logger
}

export interface DeployedProcess {
  bpmnProcessId: string
  version: number
  processDefinitionKey: string
  resourceName: string
  xml: string
}

/** Why a command to the engine failed: the task is gone, in the wrong state, or the engine is unreachable. */
export class EngineError extends Error {
  constructor(
    readonly kind: 'not_found' | 'invalid_state' | 'rejected' | 'unavailable',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

export type JobHandler = (job: {
  key: string
  type: string
  processInstanceKey: string
  elementId: string
  variables: Record<string, unknown>
  retries: number
}) => Promise<Record<string, unknown> | void>

export class Engine {
  private readonly c8: Camunda8
  private readonly grpc
  private readonly rest
  private readonly workers: Array<{ close: () => Promise<unknown> }> = []

  constructor(private readonly options: EngineOptions) {
    this.c8 = new Camunda8({
      ZEEBE_GRPC_ADDRESS: options.grpcAddress,
      ZEEBE_REST_ADDRESS: options.restAddress,
      CAMUNDA_AUTH_STRATEGY: 'NONE',
      CAMUNDA_SECURE_CONNECTION: false,
      CAMUNDA_LOG_LEVEL: 'error',
      // Fail commands instead of retrying forever while the broker is away; callers decide.
      zeebeGrpcSettings: {
        ZEEBE_GRPC_CLIENT_RETRY: false,
        ZEEBE_GRPC_CLIENT_MAX_RETRIES: 0,
        ZEEBE_CLIENT_LOG_LEVEL: 'NONE',
        ZEEBE_GRPC_WORKER_POLL_INTERVAL_MS: 100,
        ZEEBE_GRPC_WORKER_LONGPOLL_SECONDS: 20,
      },
    } as never)
    this.grpc = this.c8.getZeebeGrpcApiClient()
    this.rest = this.c8.getCamundaRestClient()
  }

  /** Deploys each file; Zeebe answers an unchanged model with its existing version. */
  async deploy(files: string[]): Promise<DeployedProcess[]> {
    const resources = await Promise.all(
      files.map(async (file) => ({ name: basename(file), process: await readFile(file) })),
    )
    const response = await this.command('deploy', () => this.grpc.deployResources(resources))
    return response.deployments
      .filter((d: any) => 'process' in d && d.process)
      .map((d: any) => {
        const p = (d as { process: { bpmnProcessId: string; version: number; processDefinitionKey: string; resourceName: string } }).process
        const resource = resources.find((r) => r.name === p.resourceName)!
        return {
          bpmnProcessId: p.bpmnProcessId,
          version: p.version,
          processDefinitionKey: String(p.processDefinitionKey),
          resourceName: p.resourceName,
          xml: resource.process.toString('utf8'),
        }
      })
  }

  async startProcess(bpmnProcessId: string, variables: Record<string, unknown>): Promise<{ processInstanceKey: string; processDefinitionKey: string; version: number }> {
    const r = await this.command('start', () => this.grpc.createProcessInstance({ bpmnProcessId, variables } as never))
    return { processInstanceKey: String(r.processInstanceKey), processDefinitionKey: String(r.processDefinitionKey), version: r.version }
  }

  /**
   * Publishes a message; Zeebe drops a second one with the same messageId while the first is
   * buffered, and a message start event starts one instance per correlation key at a time.
   */
  async publishMessage(name: string, correlationKey: string, messageId: string, variables: Record<string, unknown>): Promise<void> {
    await this.command('publish', () => this.grpc.publishMessage({ name, correlationKey, messageId, variables, timeToLive: 3_600_000 } as never))
  }

  /**
   * Moves an instance: terminates the given element instances and activates an element. The
   * variables go to the instance's root scope, where the activated task's expressions read them
   * and where a later completion would overwrite them (a task-local copy would shadow them).
   */
  async moveInstance(processInstanceKey: string, terminate: string[], activate: { elementId: string; variables: Record<string, unknown> }): Promise<void> {
    await this.command('modify', () =>
      this.grpc.modifyProcessInstance({
        processInstanceKey,
        activateInstructions: [{ elementId: activate.elementId, ancestorElementInstanceKey: '-1', variableInstructions: [{ variables: activate.variables, scopeId: '' }] }],
        terminateInstructions: terminate.map((elementInstanceKey) => ({ elementInstanceKey })),
      } as never),
    )
  }

  /** Gives a user task to another person (转办). */
  async assignUserTask(userTaskKey: string, assignee: string): Promise<void> {
    await this.command('assign', () => this.rest.assignUserTask({ userTaskKey, assignee, allowOverride: true } as never))
  }

  async cancelProcess(processInstanceKey: string): Promise<void> {
    await this.command('cancel', () => this.grpc.cancelProcessInstance(processInstanceKey))
  }

  /** Completes a native user task through the REST gateway (gRPC has no such command). */
  async completeUserTask(userTaskKey: string, variables: Record<string, unknown>): Promise<void> {
    await this.command('complete', () => this.rest.completeUserTask({ userTaskKey, variables }))
  }

  async healthy(): Promise<boolean> {
    try {
      const topology = await withTimeout(this.grpc.topology(), 2000)
      // The gRPC loader may give the enum by name or by number; 'UNHEALTHY' must not pass.
      return topology.brokers.some((b) => b.partitions.some((p) => String(p.health) === 'HEALTHY' || Number(p.health) === 0))
    } catch {
      return false
    }
  }

  /** Starts one worker per job type. A handler that throws fails the job so Zeebe retries it. */
  startWorkers(handlers: Record<string, JobHandler>): void {
    for (const [taskType, handler] of Object.entries(handlers)) {
      const worker = this.grpc.createWorker({
        taskType,
        timeout: 60_000,
        maxJobsToActivate: 32,
        pollInterval: 100,
        failProcessOnException: false,
        taskHandler: async (job: any) => {
          try {
            const output = await handler({
              key: String(job.key),
              type: job.type,
              processInstanceKey: String(job.processInstanceKey),
              elementId: job.elementId,
              variables: job.variables as Record<string, unknown>,
              retries: job.retries,
            })
            return job.complete(output ?? {})
          } catch (err) {
            this.options.log.warn({ err, taskType, jobKey: String(job.key) }, 'job failed; Zeebe will retry it')
            return job.fail({ errorMessage: String((err as Error)?.message ?? err), retries: job.retries - 1, retryBackOff: 1000 })
          }
        },
      } as never)
      this.workers.push(worker as unknown as { close: () => Promise<unknown> })
    }
  }

  async stopWorkers(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.close().catch(() => undefined)))
  }

  async close(): Promise<void> {
    await this.stopWorkers()
    await this.grpc.close().catch(() => undefined)
  }

  private async command<T>(name: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(fn(), 15_000)
    } catch (err) {
      throw classify(name, err)
    }
  }
}

function classify(command: string, err: unknown): EngineError {
  const e = err as { code?: number | string; message?: string; response?: { statusCode?: number; body?: unknown } }
  const status = e?.response?.statusCode
  const message = `${command}: ${e?.message ?? String(err)}`
  // gRPC: 5 NOT_FOUND, 9 FAILED_PRECONDITION, 3 INVALID_ARGUMENT; REST: 404, 409, 400.
  if (status === 404 || e?.code === 5) return new EngineError('not_found', message, { cause: err })
  if (status === 409 || e?.code === 9) return new EngineError('invalid_state', message, { cause: err })
  if (status === 400 || e?.code === 3) return new EngineError('rejected', message, { cause: err })
  return new EngineError('unavailable', message, { cause: err })
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from Zeebe within ${ms} ms`)), ms)
    }),
  ])
}
