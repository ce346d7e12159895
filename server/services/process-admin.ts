// A unit admin's own versions of the 发文 and 呈阅笺 flows: list them with the documents running on
// each, check a changed model (bpmnlint for Zeebe 8.6, the 笺 lint, the project's own rules) and
// deploy it under the unit's process id (fawen--<unitId>) so only that unit's new documents use it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BpmnModdle } from 'bpmn-moddle'
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import { parseProcess } from '../../engine/bpmn-model.ts'
import { EngineError, type Engine } from '../../engine/client.ts'
import { AppError, fail, type FieldProblem } from '../errors.ts'
import type { Forms } from '../forms/forms.ts'
import { lintModel } from '../forms/lint.ts'
import { automationHandlers } from './automation.ts'
import { documentKinds } from './documents.ts'
import type { Principal } from './principal.ts'
import type { ProcessModels } from './process-models.ts'

const require = createRequire(import.meta.url)
const { Linter } = require('bpmnlint')
const NodeResolver = require('bpmnlint/lib/resolver/node-resolver')
const moddle = new BpmnModdle({ zeebe: require('zeebe-bpmn-moddle/resources/zeebe.json') })
const compat = new Linter({ config: { extends: 'plugin:camunda-compat/camunda-cloud-8-6' }, resolver: new NodeResolver({ require }) })

/** Flows a unit may change. 分文报批 (fenwen) is started by a message shared by every unit, so it stays common. */
export const customisable: Record<string, { form: string; label: string }> = {
  fawen: { form: documentKinds.fawen.form, label: documentKinds.fawen.label },
  chengyue: { form: documentKinds.chengyue.form, label: documentKinds.chengyue.label },
}
/** Roles a step may be offered to (candidateGroups). */
export const stepRoles = ['drafter', 'dept_head', 'office_reviewer', 'office_head', 'leader', 'registry']
/** Variables that tie an instance to its document and unit; a unit's model must never write them. */
const reserved = ['documentId', 'unitId', 'drafter']
const jobTypes = new Set(Object.keys(automationHandlers(null as never, null as never, null as never)))
// Elements that listen to or reach beyond the unit: messages and signals are shared by every unit
// on the broker, called processes and decisions live in the one Zeebe namespace.
const refused: Record<string, string> = {
  'bpmn:CallActivity': '调用活动（callActivity）',
  'bpmn:BusinessRuleTask': '业务规则任务（businessRuleTask）',
  'bpmn:ReceiveTask': '接收任务（receiveTask）',
}

export const unitProcessId = (base: string, unitId: string) => `${base}--${unitId}`

type El = { $type: string; id: string; name?: string; [k: string]: any }

export class ProcessAdmin {
  constructor(
    private readonly knex: Knex,
    private readonly engine: Engine,
    private readonly models: ProcessModels,
    private readonly forms: Forms,
    private readonly log: Logger,
  ) {}

  /** The flows the admin's unit can change, each with its shared and own versions and the unit's running documents on each. */
  async list(p: Principal) {
    admin(p)
    const rows = await this.knex('process_definitions')
      .whereIn('base_process', Object.keys(customisable))
      .andWhere((q) => q.whereNull('unit_id').orWhere('unit_id', p.unitId))
      .orderBy([{ column: 'base_process' }, { column: 'unit_id', order: 'desc', nulls: 'last' }, { column: 'version', order: 'desc' }])
      .select('key', 'base_process', 'bpmn_process_id', 'version', 'unit_id', 'deployed_at', 'deployed_by')
    const running = await this.knex('documents')
      .where({ unit_id: p.unitId })
      .whereIn('status', ['starting', 'running'])
      .whereIn('process_definition_key', rows.map((r) => r.key))
      .orderBy('created_at')
      .select('id', 'title', 'status', 'created_at', 'process_definition_key')
    return Object.entries(customisable).map(([baseId, flow]) => {
      const versions = rows.filter((r) => r.base_process === baseId)
      const current = versions.find((r) => r.unit_id) ?? versions.find((r) => !r.unit_id)
      return {
        baseId,
        name: flow.label,
        form: flow.form,
        processId: current?.bpmn_process_id ?? baseId,
        versions: versions.map((r) => {
          const docs = running.filter((d) => d.process_definition_key === r.key)
          return {
            key: r.key,
            processId: r.bpmn_process_id,
            version: r.version,
            scope: r.unit_id ? 'unit' : 'shared',
            current: r === current,
            deployedAt: r.deployed_at,
            deployedBy: r.deployed_by,
            runningCount: docs.length,
            running: docs.slice(0, 100).map((d) => ({ id: d.id, title: d.title, status: d.status, createdAt: d.created_at })),
          }
        }),
      }
    })
  }

  /** A version's XML: a shared version of a flow the unit can change, or one of the unit's own. */
  async xml(p: Principal, key: string): Promise<string> {
    admin(p)
    const row = await this.knex('process_definitions')
      .where({ key })
      .whereIn('base_process', Object.keys(customisable))
      .andWhere((q) => q.whereNull('unit_id').orWhere('unit_id', p.unitId))
      .first('xml')
    if (!row) throw fail('NOT_FOUND', '未找到该流程版本')
    return row.xml
  }

  /** Every problem that would refuse a deployment, each named by element id (and field). */
  async lint(p: Principal, baseId: string, xml: string): Promise<FieldProblem[]> {
    admin(p)
    return this.check(flowOf(baseId), xml)
  }

  /** Checks, then deploys the model as the unit's next version of the flow; a model with problems deploys nothing. */
  async deploy(p: Principal, baseId: string, xml: string): Promise<{ processDefinitionKey: string; version: number; processId: string }> {
    admin(p)
    const flow = flowOf(baseId)
    const problems = await this.check(flow, xml)
    if (problems.length) throw fail('VALIDATION', `流程模型未通过校验，未部署：${problems.map((x) => x.message).join('；')}`, problems)

    const processId = unitProcessId(baseId, p.unitId)
    // A BPMN id is an XML name; a unit id that cannot be one cannot carry its own flows.
    if (!/^[A-Za-z_][\w.-]*$/.test(processId)) throw fail('VALIDATION', `单位编号“${p.unitId}”不能用作流程编号`)
    const { rootElement } = (await moddle.fromXML(xml)) as { rootElement: El }
    processOf(rootElement)!.id = processId
    const dir = await mkdtemp(join(tmpdir(), 'gongwen-deploy-'))
    try {
      const file = join(dir, `${processId}.bpmn`)
      await writeFile(file, (await moddle.toXML(rootElement, { format: true })).xml)
      const [d] = await this.engine.deploy([file])
      await this.knex('process_definitions')
        .insert({ key: d.processDefinitionKey, bpmn_process_id: d.bpmnProcessId, version: d.version, resource_name: d.resourceName, xml: d.xml, unit_id: p.unitId, base_process: baseId, deployed_by: p.userId })
        .onConflict('key')
        .ignore()
      this.log.info({ unit: p.unitId, process: processId, version: d.version, key: d.processDefinitionKey, by: p.userId }, 'unit process deployed')
      return { processDefinitionKey: d.processDefinitionKey, version: d.version, processId }
    } catch (err) {
      if (err instanceof EngineError && err.kind === 'rejected') {
        throw fail('VALIDATION', '流程引擎拒绝了该模型，未部署', [{ field: 'xml', message: `流程引擎拒绝了该模型：${err.message}` }])
      }
      if (err instanceof EngineError) throw new AppError('ENGINE_UNAVAILABLE', undefined, undefined, { cause: err })
      throw err
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }

  private async check(flow: { form: string; label: string }, xml: string): Promise<FieldProblem[]> {
    let root: El
    try {
      const parsed = (await moddle.fromXML(xml)) as { rootElement: El; warnings: Array<{ message: string }> }
      if (parsed.warnings.length) return parsed.warnings.map((w) => ({ field: 'xml', message: `BPMN 文件有误：${w.message}` }))
      root = parsed.rootElement
    } catch (err) {
      return [{ field: 'xml', message: `不是有效的 BPMN 文件：${(err as Error).message}` }]
    }
    const processes = (root.rootElements ?? []).filter((e: El) => e.$type === 'bpmn:Process')
    if (processes.length !== 1) return [{ field: 'xml', message: `模型须恰好包含一个流程（现有 ${processes.length} 个）` }]

    const problems: FieldProblem[] = []
    for (const [rule, reports] of Object.entries(await compat.lint(root) as Record<string, Array<{ id?: string; message: string; category: string }>>)) {
      for (const r of reports) {
        if (r.category === 'error') problems.push({ field: r.id ?? 'xml', message: `不符合 Zeebe 8.6 的要求（${rule}）：${r.message}` })
      }
    }
    const model = await parseProcess(xml)
    for (const x of lintModel(model, this.forms)) problems.push({ field: x.field ? `${x.taskId}.${x.field}` : x.taskId, message: x.message })
    problems.push(...projectRules(processes[0], flow))
    return problems
  }
}

/** The project's own rules for a unit's model: it stays inside the unit and every step reaches an inbox. */
function projectRules(process: El, flow: { form: string; label: string }): FieldProblem[] {
  const out: FieldProblem[] = []
  const all: El[] = []
  const walk = (list: El[]) => list.forEach((e) => (all.push(e), e.flowElements && walk(e.flowElements)))
  walk(process.flowElements ?? [])
  const label = (e: El) => `“${e.name ?? e.id}”`
  const ext = (e: El, type: string): El[] => (e.extensionElements?.values ?? []).filter((v: El) => v.$type === type)

  const starts = (process.flowElements ?? []).filter((e: El) => e.$type === 'bpmn:StartEvent')
  if (starts.length !== 1 || starts[0].eventDefinitions?.length) {
    out.push({ field: starts[0]?.id ?? process.id, message: `${flow.label}流程须有且只有一个空白开始事件（公文由系统启动）` })
  }
  for (const e of all) {
    if (refused[e.$type]) out.push({ field: e.id, message: `单位流程不能使用${refused[e.$type]}：${label(e)}` })
    for (const def of e.eventDefinitions ?? []) {
      if (def.$type === 'bpmn:MessageEventDefinition' || def.$type === 'bpmn:SignalEventDefinition') {
        out.push({ field: e.id, message: `单位流程不能使用消息或信号事件（各单位共用）：${label(e)}` })
      }
    }
    for (const def of ext(e, 'zeebe:TaskDefinition')) {
      if (!jobTypes.has(def.type)) out.push({ field: `${e.id}.type`, message: `自动步骤${label(e)}的任务类型“${def.type}”没有对应的处理程序（可用：${[...jobTypes].join('、')}）` })
    }
    const targets = [
      ...ext(e, 'zeebe:IoMapping').flatMap((m) => [...(m.inputParameters ?? []), ...(m.outputParameters ?? [])].map((x: El) => x.target)),
      ...ext(e, 'zeebe:Script').map((s) => s.resultVariable),
      ...(e.loopCharacteristics ? ext(e.loopCharacteristics, 'zeebe:LoopCharacteristics').flatMap((l) => [l.inputElement, l.outputCollection]) : []),
    ]
    for (const t of targets.filter((v) => reserved.includes(v))) out.push({ field: e.id, message: `步骤${label(e)}不能改写系统变量“${t}”` })
    if (e.$type !== 'bpmn:UserTask') continue

    if (!ext(e, 'zeebe:UserTask').length) out.push({ field: e.id, message: `用户任务${label(e)}须为 Zeebe 原生用户任务（zeebe:userTask），否则待办收不到它` })
    const form = ext(e, 'zeebe:FormDefinition')[0]?.externalReference
    if (form && form !== flow.form) out.push({ field: `${e.id}.form`, message: `${flow.label}流程的步骤须使用笺“${flow.form}”，${label(e)}绑定了“${form}”` })
    const assignment = ext(e, 'zeebe:AssignmentDefinition')[0]
    if (!assignment?.candidateGroups && !assignment?.assignee) out.push({ field: `${e.id}.role`, message: `用户任务${label(e)}没有指定角色（candidateGroups）或办理人` })
    const groups: string = assignment?.candidateGroups ?? ''
    if (groups && !groups.startsWith('=')) {
      for (const g of groups.split(',').map((s) => s.trim()).filter(Boolean)) {
        if (!stepRoles.includes(g)) out.push({ field: `${e.id}.role`, message: `用户任务${label(e)}的角色“${g}”不存在（可用：${stepRoles.join('、')}）` })
      }
    }
    if (!e.outgoing?.length) out.push({ field: e.id, message: `用户任务${label(e)}没有出口连线，办理人无办理方式可选` })
  }
  return out
}

function processOf(root: El): El | undefined {
  return (root.rootElements ?? []).find((e: El) => e.$type === 'bpmn:Process')
}

function flowOf(baseId: string) {
  if (baseId === 'fenwen') throw fail('VALIDATION', '分文报批由各单位共用的来文消息启动，不能按单位修改', [{ field: 'baseId', message: '可修改的流程：发文（fawen）、呈阅笺（chengyue）' }])
  const flow = customisable[baseId]
  if (!flow) throw fail('NOT_FOUND', '未找到该流程')
  return flow
}

function admin(p: Principal) {
  if (!p.roles.includes('unit_admin')) throw fail('FORBIDDEN', '只有本单位的单位管理员可以管理流程')
}
