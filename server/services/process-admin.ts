// A unit admin's own versions of the 发文, 分文报批 and 呈阅笺 flows: list the unit's versions with the
// documents running on each, check a changed model (bpmnlint for Camunda 7, the 笺 lint, the
// project's rules) and deploy it as the next version of the flow in the unit's tenant, so only
// that unit's new documents use it.
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import { checkUnitModel, parseModel } from '../../engine/index.ts'
import { EngineError, type WorkflowEngine } from '../../engine/port.ts'
import { AppError, fail, type FieldProblem } from '../errors.ts'
import type { Forms } from '../forms/forms.ts'
import { lintModel } from '../forms/lint.ts'
import { automationTopics, INCOMING_MESSAGE } from './automation.ts'
import { documentKinds } from './documents.ts'
import { COSIGN_CATCH_MESSAGES } from './joint-issuance.ts'
import type { Principal } from './principal.ts'
import type { ProcessModels } from './process-models.ts'

/** Variables that tie an instance to its document and unit; a unit's model must never write them. */
export const reservedVariables = ['documentId', 'unitId', 'drafter']

/** Flows a unit may change, each with the 笺 all its steps fill. */
export const customisable: Record<string, { form: string; label: string }> = {
  fawen: { form: documentKinds.fawen.form, label: documentKinds.fawen.label },
  fenwen: { form: documentKinds.shouwen.form, label: '分文报批' },
  chengyue: { form: documentKinds.chengyue.form, label: documentKinds.chengyue.label },
}
/** Roles a step may be offered to (candidateGroups). */
export const stepRoles = ['drafter', 'dept_head', 'office_reviewer', 'office_head', 'leader', 'registry']

type VersionRow = { key: string; bpmn_process_id: string; version: number; deployed_at: Date; deployed_by: string | null }

export class ProcessAdmin {
  constructor(
    private readonly knex: Knex,
    private readonly engine: WorkflowEngine,
    private readonly models: ProcessModels,
    private readonly forms: Forms,
    private readonly log: Logger,
  ) {}

  /** The flows the admin's unit can change, each with the unit's versions (newest first) and its running documents on each. */
  async list(p: Principal) {
    admin(p)
    const rows: VersionRow[] = await this.knex('process_definitions')
      .where({ unit_id: p.unitId })
      .whereIn('bpmn_process_id', Object.keys(customisable))
      .orderBy([{ column: 'bpmn_process_id' }, { column: 'version', order: 'desc' }])
      .select('key', 'bpmn_process_id', 'version', 'deployed_at', 'deployed_by')
    const running = await this.knex('documents')
      .where({ unit_id: p.unitId })
      .whereIn('status', ['starting', 'running'])
      .whereIn('process_definition_key', rows.map((r) => r.key))
      .orderBy('created_at')
      .select('id', 'title', 'status', 'created_at', 'process_definition_key')
    return Object.entries(customisable).map(([baseId, flow]) => {
      const versions = rows.filter((r) => r.bpmn_process_id === baseId)
      return {
        baseId,
        name: flow.label,
        form: flow.form,
        processId: baseId,
        versions: versions.map((r, i) => {
          const docs = running.filter((d) => d.process_definition_key === r.key)
          return {
            key: r.key,
            processId: r.bpmn_process_id,
            version: r.version,
            scope: r.deployed_by ? 'unit' : 'standard',
            current: i === 0,
            deployedAt: r.deployed_at,
            deployedBy: r.deployed_by,
            runningCount: docs.length,
            running: docs.slice(0, 100).map((d) => ({ id: d.id, title: d.title, status: d.status, createdAt: d.created_at })),
          }
        }),
      }
    })
  }

  /** The XML of one of the unit's versions of a flow it can change. */
  async xml(p: Principal, key: string): Promise<string> {
    admin(p)
    const row = await this.knex('process_definitions')
      .where({ key, unit_id: p.unitId })
      .whereIn('bpmn_process_id', Object.keys(customisable))
      .first('xml')
    if (!row) throw fail('NOT_FOUND', '未找到该流程版本')
    return row.xml
  }

  /** Every problem that would refuse a deployment, each named by element id (and field). */
  async lint(p: Principal, baseId: string, xml: string): Promise<FieldProblem[]> {
    admin(p)
    return this.check(p.unitId, baseId, xml)
  }

  /** Checks, then deploys the model as the unit's next version of the flow; a model with problems deploys nothing. */
  async deploy(p: Principal, baseId: string, xml: string): Promise<{ processDefinitionKey: string; version: number; processId: string }> {
    admin(p)
    const problems = await this.check(p.unitId, baseId, xml)
    if (problems.length) throw fail('VALIDATION', `流程模型未通过校验，未部署：${problems.map((x) => x.message).join('；')}`, problems)
    try {
      // The shipped models go first into a unit that has none yet, so they never land above the unit's own.
      const has = await this.knex('process_definitions').where({ unit_id: p.unitId, bpmn_process_id: baseId }).first('key')
      if (!has) await this.models.deployShipped(p.unitId)
      const deployed = await this.engine.deploy(p.unitId, [{ name: `${baseId}.bpmn`, xml }], { source: 'unit-admin' })
      const d = deployed.find((x) => x.processId === baseId)
      if (!d) throw fail('VALIDATION', '流程引擎没有部署出该流程，未部署', [{ field: 'xml', message: '流程引擎没有从该模型部署出可执行的流程' }])
      await this.models.record([d], p.userId)
      this.log.info({ unit: p.unitId, process: baseId, version: d.version, key: d.definitionId, by: p.userId }, 'unit process deployed')
      return { processDefinitionKey: d.definitionId, version: d.version, processId: d.processId }
    } catch (err) {
      if (err instanceof EngineError && err.kind === 'unavailable') throw new AppError('ENGINE_UNAVAILABLE', undefined, undefined, { cause: err })
      if (err instanceof EngineError && (err.kind === 'rejected' || err.kind === 'invalid_state')) {
        throw fail('VALIDATION', '流程引擎拒绝了该模型，未部署', [{ field: 'xml', message: `流程引擎拒绝了该模型：${err.message}` }])
      }
      throw err
    }
  }

  private async check(unitId: string, baseId: string, xml: string): Promise<FieldProblem[]> {
    const flow = flowOf(baseId)
    const rules = { baseId, ...flow, roles: stepRoles, topics: automationTopics, incomingMessage: INCOMING_MESSAGE, catchMessages: COSIGN_CATCH_MESSAGES, reservedVariables }
    const { readable, problems, people } = await checkUnitModel(xml, rules)
    if (!readable) return problems
    const model = await parseModel(xml)
    for (const x of lintModel(model, this.forms)) problems.push({ field: x.field ? `${x.taskId}.${x.field}` : x.taskId, message: x.message })
    if (people.length) {
      const ours = new Set<string>(await this.knex('users').where({ unit_id: unitId }).whereIn('id', [...new Set(people.map((x) => x.userId))]).pluck('id'))
      for (const x of people.filter((x) => !ours.has(x.userId))) problems.push({ field: x.field, message: `用户任务${x.element}指定的办理人“${x.userId}”不是本单位人员` })
    }
    return problems
  }
}

function flowOf(baseId: string) {
  const flow = customisable[baseId]
  if (!flow) throw fail('NOT_FOUND', '未找到该流程', [{ field: 'baseId', message: `可修改的流程：${Object.entries(customisable).map(([id, f]) => `${f.label}（${id}）`).join('、')}` }])
  return flow
}

function admin(p: Principal) {
  if (!p.roles.includes('unit_admin')) throw fail('FORBIDDEN', '只有本单位的单位管理员可以管理流程')
}
