// 运行监控 (the office head and the unit admin): documents stuck at one step longer than a limit,
// automated steps failing and engine incidents of the unit, with 催办, 重试 and 取消.
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import { EngineError, type StepFailure, type WorkflowEngine } from '../../engine/port.ts'
import { AppError, fail } from '../errors.ts'
import type { Notifications } from './notifications.ts'
import type { Principal } from './principal.ts'
import { cancelCoIssuers } from './joint-issuance.ts'

/** Who runs the operations view: the office (办公室主任) and the unit admin. */
export const OPERATORS = ['office_head', 'unit_admin']
export const DEFAULT_STUCK_DAYS = 3
const LIST_LIMIT = 200
const DAY_MS = 86_400_000

export function requireOperator(p: Principal): void {
  if (p.channel === 'api' || !OPERATORS.some((r) => p.roles.includes(r))) {
    throw fail('FORBIDDEN', '仅办公室主任和单位管理员可使用运行监控')
  }
}

/** A failing step or incident with the document of its instance (null when the instance has none in this unit). */
type Located = Omit<StepFailure, 'instanceId'> & { document: { id: string; title: string; kind: string } | null }

export class Operations {
  constructor(
    private readonly knex: Knex,
    private readonly engine: WorkflowEngine,
    private readonly notifications: Notifications,
    private readonly log: Logger,
  ) {}

  /** Everything that needs a person: stuck documents (from our inbox) and the engine's failures and incidents. */
  async problems(p: Principal, stuckDays = DEFAULT_STUCK_DAYS) {
    requireOperator(p)
    const now = new Date()
    const before = new Date(now.getTime() - stuckDays * DAY_MS)
    const stuck = await this.knex('tasks as t')
      .join('documents as d', 'd.id', 't.document_id')
      .leftJoin('users as u', 'u.id', 't.assignee')
      .where({ 't.unit_id': p.unitId, 'd.unit_id': p.unitId, 't.state': 'open' })
      .whereIn('d.status', ['starting', 'running'])
      .where('t.created_at', '<', before)
      .orderBy([{ column: 't.created_at', order: 'asc' }, { column: 't.task_key', order: 'asc' }])
      .limit(LIST_LIMIT)
      .select(
        't.task_key as taskKey', 't.step_name as stepName', 't.candidate_role as candidateRole', 't.assignee', 'u.name as assigneeName',
        't.created_at as since', 't.deadline', 'd.id as documentId', 'd.title', 'd.kind', 'd.doc_number as docNumber',
      )
    const stuckOut = stuck.map((s) => ({ ...s, days: Math.floor((now.getTime() - new Date(s.since).getTime()) / DAY_MS) }))

    let failing: Located[] = []
    let incidents: Located[] = []
    let engineAvailable = true
    try {
      const commands = this.engine.as(p.unitId)
      const [f, i] = await Promise.all([commands.listFailingSteps(), commands.listIncidents()])
      ;[failing, incidents] = await Promise.all([this.locate(p.unitId, f), this.locate(p.unitId, i)])
    } catch (err) {
      if (!(err instanceof EngineError && err.kind === 'unavailable')) throw err
      // The stuck documents come from our own tables: show them while the engine is away.
      this.log.warn({ err }, 'operations: the engine did not answer; failures and incidents left out')
      engineAvailable = false
    }
    return { stuckDays, asOf: now.toISOString(), engineAvailable, stuck: stuckOut, failing, incidents }
  }

  /** 催办 the handlers of a stuck task (recorded as any 催办, at most once per 10 minutes). */
  async urge(p: Principal, taskKey: string) {
    requireOperator(p)
    return this.notifications.recordUrge(p, taskKey)
  }

  /** Ends a running document's flow in the engine, with the reason in its routing log. */
  async cancelDocument(p: Principal, documentId: string, reason: string) {
    requireOperator(p)
    const why = checkReason(reason)
    const doc = await this.knex('documents').where({ id: documentId, unit_id: p.unitId }).first('id', 'status', 'process_instance_key', 'unit_id')
    if (!doc) throw fail('NOT_FOUND', '本单位没有该公文')
    if (!['starting', 'running'].includes(doc.status) || !doc.process_instance_key) {
      throw fail('CONFLICT', '该公文不在流转中，不能取消')
    }
    try {
      await this.engine.as(p.unitId).cancelInstance(doc.process_instance_key, why)
    } catch (err) {
      throw engineFault(err, '取消')
    }
    // The engine's end listener marked the document canceled and closed its tasks in its own transaction.
    await this.knex('routing_log')
      .insert({
        document_id: doc.id, unit_id: p.unitId, dedup_key: `cancel:${doc.id}`, step: 'quxiao', step_name: '取消流转',
        actor_id: p.userId, actor_name: p.name, opinion: why, channel: p.channel, at: new Date(),
      })
      .onConflict('dedup_key')
      .ignore()
    this.log.info({ documentId, by: p.userId }, 'document canceled from the operations view')
    // 联合发文: the co-issuers' 会签/用印 of a canceled 发文 end with it (a failure here leaves the
    // lead canceled; the co-issuer's answer is then recorded and not sent, see joint-issuance.ts).
    await cancelCoIssuers(this.knex, this.engine, doc.id, why).catch((err) => this.log.warn({ err, documentId }, 'could not cancel the co-issuers’ flows'))
    const after = await this.knex('documents').where({ id: doc.id }).first('status')
    return { documentId: doc.id, status: after.status as string, reason: why }
  }

  /** Gives an incident's step one more try. */
  async retryIncident(p: Principal, incidentId: string) {
    requireOperator(p)
    const incident = await this.incident(p, incidentId)
    try {
      await this.engine.as(p.unitId).retryIncident(incident.id)
    } catch (err) {
      throw engineFault(err, '重试')
    }
    this.log.info({ incidentId, by: p.userId }, 'incident retried from the operations view')
    return { incidentId: incident.id, retried: true }
  }

  /** Gives up an incident's document: its flow is canceled, with the reason. */
  async cancelIncident(p: Principal, incidentId: string, reason: string) {
    requireOperator(p)
    checkReason(reason)
    const incident = await this.incident(p, incidentId)
    if (!incident.document) throw fail('CONFLICT', '该异常不属于本单位的公文，不能在此取消')
    return { incidentId, ...(await this.cancelDocument(p, incident.document.id, reason)) }
  }

  private async incident(p: Principal, incidentId: string): Promise<Located> {
    let found: StepFailure | null
    try {
      found = await this.engine.as(p.unitId).getIncident(incidentId)
    } catch (err) {
      throw engineFault(err, '查询')
    }
    if (!found) throw fail('NOT_FOUND', '本单位没有该异常，或它已处理')
    return (await this.locate(p.unitId, [found]))[0]
  }

  /** Attaches each failure's document (by its instance, within the unit). */
  private async locate(unitId: string, failures: StepFailure[]): Promise<Located[]> {
    const instances = [...new Set(failures.map((f) => f.instanceId))]
    const docs = instances.length === 0 ? [] : await this.knex('documents').where({ unit_id: unitId }).whereIn('process_instance_key', instances).select('id', 'title', 'kind', 'process_instance_key')
    const byInstance = new Map(docs.map((d) => [d.process_instance_key as string, { id: d.id as string, title: d.title as string, kind: d.kind as string }]))
    return failures.map(({ instanceId, ...f }) => ({ ...f, document: byInstance.get(instanceId) ?? null }))
  }
}

function checkReason(reason: string): string {
  const why = typeof reason === 'string' ? reason.trim() : ''
  if (!why) throw fail('VALIDATION', '请填写取消原因', [{ field: 'reason', message: 'reason 不能为空' }])
  return why
}

function engineFault(err: unknown, what: string): unknown {
  if (!(err instanceof EngineError)) return err
  if (err.kind === 'unavailable') return new AppError('ENGINE_UNAVAILABLE', undefined, undefined, { cause: err })
  if (err.kind === 'not_found') return new AppError('NOT_FOUND', `流程引擎中已没有该项，无法${what}`, undefined, { cause: err })
  return new AppError('CONFLICT', `流程引擎拒绝了${what}：${err.message}`, undefined, { cause: err })
}
