// The project's own rules for a unit's model in this engine's dialect (camunda:, JUEL): it stays
// inside the unit — no Java classes, scripts or connectors, only the expressions of expressions.ts, no messages
// or signals beyond 分文报批's 电子来文, only this system's automated steps — never writes the
// variables that tie an instance to its document, and every user task reaches an inbox.
import { createRequire } from 'node:module'
import { BpmnModdle } from 'bpmn-moddle'
import type { ModelProblem, UnitModelCheck, UnitModelRules } from '../port.ts'
import { expressionProblem } from './expressions.ts'
import { moddleExtensions } from './model.ts'

const require = createRequire(import.meta.url)
const { Linter } = require('bpmnlint')
const NodeResolver = require('bpmnlint/lib/resolver/node-resolver')
const moddle = new BpmnModdle(moddleExtensions)
// Camunda 7.24 is the platform Operaton 1.0 follows.
const compat = new Linter({ config: { extends: 'plugin:camunda-compat/camunda-platform-7-24' }, resolver: new NodeResolver({ require }) })

type PersonReference = UnitModelCheck['people'][number]
type El = { $type: string; id?: string; name?: string; $descriptor?: any; $attrs?: Record<string, string>; [k: string]: any }


const refusedTypes: Record<string, string> = {
  'bpmn:CallActivity': '调用活动（callActivity）',
  'bpmn:BusinessRuleTask': '业务规则任务（businessRuleTask）',
  'bpmn:ReceiveTask': '接收任务（receiveTask）',
  'bpmn:SendTask': '发送任务（sendTask）',
  'bpmn:ScriptTask': '脚本任务（scriptTask）',
}
/** Attributes that name Java code the engine would load and run. */
const codeAttributes: Record<string, string> = {
  class: 'Java 类（camunda:class）',
  delegateExpression: '委托表达式（camunda:delegateExpression）',
  formHandlerClass: '表单处理类（camunda:formHandlerClass）',
  variableMappingClass: '变量映射类（camunda:variableMappingClass）',
  variableMappingDelegateExpression: '变量映射委托（camunda:variableMappingDelegateExpression）',
  resource: '外部脚本资源（camunda:resource）',
}
/** Extension elements a unit's model may hold; anything else (connectors, scripts, fields, forms) is refused. */
const allowedExtensions = new Set(['camunda:Properties', 'camunda:Property', 'camunda:InputOutput', 'camunda:InputParameter', 'camunda:OutputParameter', 'camunda:List', 'camunda:Map', 'camunda:Entry', 'camunda:Value', 'camunda:ExecutionListener', 'camunda:TaskListener', 'camunda:FailedJobRetryTimeCycle'])
/** Attributes through which a step writes a variable. */
const writingAttributes = ['resultVariable', 'elementVariable', 'initiator', 'errorCodeVariable', 'errorMessageVariable', 'escalationCodeVariable']

const local = (type: string) => type.slice(type.indexOf(':') + 1)
const lowerFirst = (s: string) => s[0].toLowerCase() + s.slice(1)
const isA = (el: El, type: string): boolean => typeof el.$instanceOf === 'function' && el.$instanceOf(type)
const isFlowElement = (el: El) => isA(el, 'bpmn:FlowElement') || isA(el, 'bpmn:RootElement')
const label = (el: El) => (el.name ? `“${el.name}”（${el.id}）` : `“${el.id}”`)
const quote = (s: string) => (s.length > 80 ? `${s.slice(0, 77)}…` : s)

/** XML namespaces a unit's model may declare: BPMN, its diagram interchange, camunda: and bpmn-js colours. */
const knownNamespaces = new Set([
  'http://www.omg.org/spec/BPMN/20100524/MODEL', 'http://www.omg.org/spec/BPMN/20100524/DI', 'http://www.omg.org/spec/DD/20100524/DC',
  'http://www.omg.org/spec/DD/20100524/DI', 'http://www.w3.org/2001/XMLSchema-instance', 'http://www.w3.org/2001/XMLSchema',
  'http://camunda.org/schema/1.0/bpmn', 'http://camunda.org/schema/modeler/1.0', 'http://bpmn.io/schema/bpmn/biocolor/1.0',
  'http://www.omg.org/spec/BPMN/non-normative/color/1.0',
])

/**
 * Namespaces outside the known ones: the engine also reads other dialects (operaton:, activiti:)
 * that the camunda: moddle would pass over, so a model may not declare them at all.
 */
function unknownNamespaces(xml: string): ModelProblem[] {
  const uris = new Set([...xml.matchAll(/\sxmlns(?::[\w.-]+)?\s*=\s*("([^"]*)"|'([^']*)')/g)].map((m) => m[2] ?? m[3]))
  return [...uris].filter((u) => !knownNamespaces.has(u)).map((u) => ({ field: 'xml', message: `模型声明了不认识的命名空间“${u}”：单位流程只能使用 BPMN 与 camunda: 扩展` }))
}

/**
 * Checks a unit admin's model: it parses without warnings, holds one process, declares only known
 * namespaces, passes bpmnlint's camunda-compat rules for Camunda 7.24 (the platform Operaton 1.0
 * follows) and the project's rules. People named literally are returned for the caller to check
 * against the unit.
 */
export async function checkUnitModel(xml: string, flow: UnitModelRules): Promise<UnitModelCheck> {
  let root: El
  try {
    const parsed = (await moddle.fromXML(xml)) as { rootElement: El; warnings: Array<{ message: string }> }
    if (parsed.warnings.length) return { readable: false, problems: parsed.warnings.map((w) => ({ field: 'xml', message: `BPMN 文件有误：${w.message}` })), people: [] }
    root = parsed.rootElement
  } catch (err) {
    return { readable: false, problems: [{ field: 'xml', message: `不是有效的 BPMN 文件：${(err as Error).message}` }], people: [] }
  }
  const processes = (root.rootElements ?? []).filter((e: El) => e.$type === 'bpmn:Process')
  if (processes.length !== 1) return { readable: false, problems: [{ field: 'xml', message: `模型须恰好包含一个流程（现有 ${processes.length} 个）` }], people: [] }
  const problems = unknownNamespaces(xml)
  for (const [rule, reports] of Object.entries((await compat.lint(root)) as Record<string, Array<{ id?: string; message: string; category: string }>>)) {
    for (const r of reports) if (r.category === 'error') problems.push({ field: r.id ?? 'xml', message: `不符合 Camunda 7 的要求（${rule}）：${r.message}` })
  }
  const rules = unitModelRules(root, flow)
  return { readable: true, problems: [...problems, ...rules.problems], people: rules.people }
}

/** Checks one definitions tree; people named literally are returned for the caller to check against the unit. */
function unitModelRules(definitions: El, flow: UnitModelRules): { problems: ModelProblem[]; people: PersonReference[] } {
  const problems: ModelProblem[] = []
  const people: PersonReference[] = []
  const add = (field: string, message: string) => problems.push({ field, message })
  const process = (definitions.rootElements ?? []).find((e: El) => e.$type === 'bpmn:Process') as El

  if (process.id !== flow.baseId) add(process.id!, `流程编号须为“${flow.baseId}”（现为“${process.id}”）：本单位的版本沿用${flow.label}的流程编号`)
  if (!process.isExecutable) add(process.id!, `${flow.label}流程须可执行（isExecutable="true"），否则引擎不会启动它`)
  startEvents(process, flow, add)
  for (const root of definitions.rootElements ?? []) walk(root, root, [], flow, add)
  for (const el of flowElements(process)) {
    if (refusedTypes[el.$type]) add(el.id!, `单位流程不能使用${refusedTypes[el.$type]}：${label(el)}`)
    for (const def of el.eventDefinitions ?? []) {
      const isMessage = def.$type === 'bpmn:MessageEventDefinition'
      if ((isMessage || def.$type === 'bpmn:SignalEventDefinition') && !(isMessage && (isIncomingStart(el, process, flow) || isSystemCatch(el, def, flow)))) {
        add(el.id!, `单位流程不能使用消息或信号事件（它们会到达本单位以外）：${label(el)}`)
      }
      // The engine is shared by every unit: nothing may fire or multiply without end.
      if (def.$type === 'bpmn:TimerEventDefinition' && def.timeCycle) add(el.id!, `单位流程不能使用循环定时器（timeCycle），请用期限（timeDuration）或日期：${label(el)}`)
    }
    const loop = el.loopCharacteristics
    if (loop?.$type === 'bpmn:StandardLoopCharacteristics') add(el.id!, `单位流程不能使用循环活动（standardLoopCharacteristics）：${label(el)}`)
    if (loop?.loopCardinality) add(el.id!, `多实例步骤须按集合（camunda:collection）逐一办理，不能按次数（loopCardinality）：${label(el)}`)
    if (el.$type === 'bpmn:ServiceTask') serviceTask(el, flow, add)
    if (el.$type === 'bpmn:UserTask') userTask(el, flow, add, people)
  }
  return { problems, people }
}

function flowElements(container: El): El[] {
  const all: El[] = []
  const collect = (list: El[]) => list.forEach((e) => (all.push(e), e.flowElements && collect(e.flowElements)))
  collect(container.flowElements ?? [])
  return all
}

function isIncomingStart(el: El, process: El, flow: UnitModelRules): boolean {
  return flow.baseId === 'fenwen' && el.$type === 'bpmn:StartEvent' && (process.flowElements ?? []).includes(el) && el.eventDefinitions?.length === 1 &&
    el.eventDefinitions[0].messageRef?.name === flow.incomingMessage
}

/** An intermediate catch event waiting for a message only this system sends (联合发文), named in the rules. */
function isSystemCatch(el: El, def: El, flow: UnitModelRules): boolean {
  return el.$type === 'bpmn:IntermediateCatchEvent' && el.eventDefinitions?.length === 1 && Boolean(flow.catchMessages?.includes(def.messageRef?.name))
}

/** One none start event (a document is started by this system); 分文报批 also keeps its 电子来文 message start. */
function startEvents(process: El, flow: UnitModelRules, add: (field: string, message: string) => void) {
  const starts = (process.flowElements ?? []).filter((e: El) => e.$type === 'bpmn:StartEvent')
  const none = starts.filter((e: El) => !e.eventDefinitions?.length)
  const incoming = starts.filter((e: El) => isIncomingStart(e, process, flow))
  if (none.length !== 1) add(none[1]?.id ?? process.id, `${flow.label}流程须有且只有一个空白开始事件（公文由本系统启动），现有 ${none.length} 个`)
  for (const e of starts.filter((s: El) => s.eventDefinitions?.length && !incoming.includes(s))) {
    if (!e.eventDefinitions.some((d: El) => d.$type === 'bpmn:MessageEventDefinition' || d.$type === 'bpmn:SignalEventDefinition')) {
      add(e.id!, `单位流程的开始事件只能是空白开始事件${flow.baseId === 'fenwen' ? '和电子来文的消息开始事件' : ''}：${label(e)}`)
    }
  }
  if (flow.baseId === 'fenwen' && incoming.length !== 1) {
    add(incoming[1]?.id ?? process.id, `分文报批须有且只有一个由电子来文（消息“${flow.incomingMessage}”）触发的开始事件，现有 ${incoming.length} 个`)
  }
}

function serviceTask(el: El, flow: UnitModelRules, add: (field: string, message: string) => void) {
  if (el.type !== 'external') {
    add(el.id!, `自动步骤${label(el)}须为外部任务（camunda:type="external"），由本系统的处理程序执行`)
  } else if (!flow.topics.includes(el.topic)) {
    add(`${el.id}.topic`, `自动步骤${label(el)}的主题“${el.topic ?? ''}”没有对应的处理程序（可用：${flow.topics.join('、')}）`)
  }
}

function userTask(el: El, flow: UnitModelRules, add: (field: string, message: string) => void, people: PersonReference[]) {
  // A step without any 笺 is reported by the 笺 lint.
  if (el.formKey && el.formKey !== flow.form) add(`${el.id}.form`, `${flow.label}流程的步骤须使用笺“${flow.form}”，用户任务${label(el)}${el.formKey ? `绑定了“${el.formKey}”` : '没有绑定笺（camunda:formKey）'}`)
  const groups = splitGroups(el.candidateGroups ?? '')
  if (!groups.length && !el.assignee) add(`${el.id}.role`, `用户任务${label(el)}没有指定角色（camunda:candidateGroups）或办理人（camunda:assignee）`)
  for (const g of groups) {
    const perDepartment = /^([A-Za-z_]+)@\$\{\s*[A-Za-z_][A-Za-z0-9_]*\s*\}$/.exec(g)
    if (!flow.roles.includes(perDepartment ? perDepartment[1] : g)) {
      add(`${el.id}.role`, `用户任务${label(el)}的角色“${g}”不存在（可用：${flow.roles.join('、')}，或按部门如 dept_head@\${department}）`)
    }
  }
  for (const [attr, value] of [['assignee', el.assignee], ...splitGroups(el.candidateUsers ?? '').map((u) => ['candidateUsers', u])]) {
    if (value && !value.includes('${') && !value.includes('#{')) people.push({ field: `${el.id}.${attr}`, userId: value.trim(), element: label(el) })
  }
  const outputs = (properties(el).outputs ?? '').split(',').map((s) => s.trim())
  for (const v of outputs.filter((o) => flow.reservedVariables.includes(o))) add(`${el.id}.outputs`, `用户任务${label(el)}的 outputs 不能包含系统变量“${v}”`)
  if (!el.outgoing?.length) add(el.id!, `用户任务${label(el)}没有出口连线，办理人无办理方式可选`)
}

/** A comma-separated list whose items may hold `${…}` (with no comma inside them). */
function splitGroups(value: string): string[] {
  return value.split(/,(?![^{]*\})/).map((s) => s.trim()).filter(Boolean)
}

function properties(el: El): Record<string, string> {
  const out: Record<string, string> = {}
  for (const ext of el.extensionElements?.values ?? []) {
    if (ext.$type === 'camunda:Properties') for (const p of ext.values ?? []) if (p.name) out[p.name] = p.value ?? ''
  }
  return out
}

/**
 * Walks every element below a root element: each text must hold only allowed expressions; no
 * Java code, scripts, unknown extensions or attributes; no writing of reserved variables.
 * `owner` is the nearest flow element (what the problem names), `path` where below it we are.
 */
function walk(el: El, owner: El, path: string[], flow: UnitModelRules, add: (field: string, message: string) => void) {
  if (el !== owner && isFlowElement(el)) return walk(el, el, [], flow, add)
  const where = (attr?: string) => [owner.id, ...path, ...(attr ? [attr] : [])].join('.')
  const at = (attr?: string) => `${label(owner)}${[...path, ...(attr ? [attr] : [])].length ? `的 ${[...path, ...(attr ? [attr] : [])].join('.')}` : ''}`

  if (el.$descriptor?.isGeneric) {
    add(where(), `${label(owner)}使用了不认识的扩展元素“${el.$type}”（本系统只认 camunda: 扩展）`)
    return
  }
  for (const key of Object.keys(el.$attrs ?? {})) {
    if (!key.startsWith('xmlns') && !key.startsWith('xsi:')) add(where(key), `${label(owner)}带有不认识的属性“${key}”（本系统只认 camunda: 扩展）`)
  }
  if (el.$type === 'camunda:Script') add(where(), `单位流程不能使用脚本：${at()}`)
  else if (el.$type.startsWith('camunda:') && !allowedExtensions.has(el.$type)) add(where(), `单位流程不能使用扩展元素“${el.$type}”：${at()}`)
  if (el.$type === 'bpmn:FormalExpression' && el.language) add(where(), `单位流程不能使用脚本条件（language="${el.language}"）：${at()}`)

  for (const p of el.$descriptor?.properties ?? []) {
    if (p.isReference) continue
    const value = el.get ? el.get(p.ns?.name ?? p.name) : el[p.name]
    if (value === undefined || value === null || value === '') continue
    if (typeof value === 'string') {
      if (codeAttributes[p.name] && p.ns?.prefix === 'camunda') add(where(p.name), `单位流程不能使用${codeAttributes[p.name]}：${at(p.name)}`)
      else if (p.name === 'expression' && p.ns?.prefix === 'camunda' && isA(el, 'camunda:ServiceTaskLike')) {
        add(where(p.name), `自动步骤不能用表达式实现（camunda:expression）：${at(p.name)}`)
      }
      if (writingAttributes.includes(p.name) && flow.reservedVariables.includes(value.trim())) add(owner.id!, `步骤${label(owner)}不能改写系统变量“${value.trim()}”`)
      const problem = expressionProblem(value)
      if (problem) add(where(p.isBody ? undefined : p.name), `${at(p.isBody ? undefined : p.name)}：表达式“${quote(value)}”不被允许，${problem}`)
    } else if (Array.isArray(value)) {
      for (const child of value) if (child && typeof child === 'object' && child.$type) walk(child, owner, childPath(path, p.name, child), flow, add)
    } else if (typeof value === 'object' && value.$type) {
      walk(value, owner, childPath(path, p.name, value), flow, add)
    }
  }
  if ((el.$type === 'camunda:InputParameter' || el.$type === 'camunda:OutputParameter') && flow.reservedVariables.includes(el.name ?? '')) {
    add(owner.id!, `步骤${label(owner)}不能改写系统变量“${el.name}”`)
  }
}

/** Names a nested element for a problem: `inputParameter[step]`, `loopCharacteristics`, `executionListener`. */
function childPath(path: string[], property: string, child: El): string[] {
  if (property === 'extensionElements' || property === 'rootElements' || property === 'flowElements') return path
  const base = property === 'values' || property === 'inputParameters' || property === 'outputParameters' || property === 'definition' || property === 'items' || property === 'entries'
    ? lowerFirst(local(child.$type))
    : property
  if (base === 'inputOutput' || base === 'properties') return path
  const named = typeof child.name === 'string' ? `[${child.name}]` : typeof child.key === 'string' ? `[${child.key}]` : ''
  return [...path, base + named]
}
