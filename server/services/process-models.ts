// Deployed flow versions and their parsed models. Each unit is a tenant of the engine: the models
// of processes/ are deployed into every unit's tenant, and a unit admin's own version becomes the
// next version there. Parsed models are cached by their (opaque) definition id.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import { parseModel } from '../../engine/index.ts'
import type { DeployedProcess, ProcessModel, WorkflowEngine } from '../../engine/port.ts'
import { fail } from '../errors.ts'
import type { Forms } from '../forms/forms.ts'
import { lintModel } from '../forms/lint.ts'

/**
 * Shipped flows a unit gets only when it first needs one, not with the others: 联合发文's 会签 of a
 * co-issuer (lianhe), deployed into the co-issuer's tenant by the step that asks it to countersign.
 */
export const ON_DEMAND = ['lianhe']

export class ProcessModels {
  private readonly cache = new Map<string, Promise<ProcessModel | null>>()
  private shipped: Array<{ name: string; xml: string }> = []
  private readonly deploying = new Map<string, Promise<void>>()

  constructor(
    private readonly knex: Knex,
    private readonly engine: WorkflowEngine,
    private readonly log: Logger,
  ) {}

  /**
   * Checks every processes/*.bpmn against its 笺 and deploys them into every unit's tenant; an
   * unchanged model keeps its version. A model that does not fit its 笺 is refused.
   */
  async deployAll(dir: string, forms: Forms): Promise<void> {
    const files = readdirSync(dir).filter((f) => f.endsWith('.bpmn')).sort()
    const shipped = files.map((f) => ({ name: f, xml: readFileSync(join(dir, f), 'utf8') }))
    for (const { name, xml } of shipped) {
      const problems = lintModel(await parseModel(xml), forms)
      if (problems.length) {
        throw fail('VALIDATION', `流程模型 ${basename(name)} 与笺不符：${problems.map((p) => p.message).join('；')}`,
          problems.map((p) => ({ field: p.field ? `${p.taskId}.${p.field}` : p.taskId, message: p.message })))
      }
    }
    this.shipped = shipped
    const all: string[] = (await this.knex('units').orderBy('id').select('id')).map((u) => u.id)
    // A unit whose last deployment of each shipped file it has has that file's text needs no call
    // to the engine (it would keep the version anyway): a restart of a city with hundreds of units
    // then takes seconds, not minutes. A file a unit lacks (分发 deploys only 分文报批 to a new
    // unit) is deployed when one of its people first starts that flow (startIdFor).
    const { rows: current } = (await this.knex.raw(
      `select distinct on (unit_id, resource_name) unit_id, resource_name, md5(xml) as md5
         from process_definitions where deployed_by is null and unit_id is not null
        order by unit_id, resource_name, version desc`,
    )) as { rows: Array<{ unit_id: string; resource_name: string; md5: string }> }
    const md5 = new Map(shipped.map((r) => [r.name, createHash('md5').update(r.xml).digest('hex')]))
    const deployed = new Map<string, boolean>()
    for (const r of current) {
      if (!md5.has(r.resource_name)) continue
      deployed.set(r.unit_id, (deployed.get(r.unit_id) ?? true) && md5.get(r.resource_name) === r.md5)
    }
    const units = all.filter((u) => deployed.get(u) !== true)
    // A few at a time: a city has hundreds of units, and each deployment is one engine transaction.
    for (let i = 0; i < units.length; i += 4) await Promise.all(units.slice(i, i + 4).map((u) => this.deployShipped(u)))
    this.log.info({ units: all.length, deployed: units.length, models: files }, 'flows deployed for every unit')
  }

  /**
   * Deploys the shipped models into one unit's tenant (once at a time per unit); `only` limits it
   * to the files of those processes (分发 to a new unit needs only the flow 电子来文 start).
   */
  deployShipped(unitId: string, only?: string[]): Promise<void> {
    const key = only ? `${unitId}\u0000${only.join(',')}` : unitId
    let running = this.deploying.get(key)
    if (!running) {
      const resources = only
        ? this.shipped.filter((r) => only.includes(basename(r.name, '.bpmn')))
        : this.shipped.filter((r) => !ON_DEMAND.includes(basename(r.name, '.bpmn')))
      running = this.engine
        .deploy(unitId, resources, { source: 'gongwen' })
        .then((deployed) => this.record(deployed, null))
        .finally(() => this.deploying.delete(key))
      this.deploying.set(key, running)
    }
    return running
  }

  /** Records deployed versions (idempotent: a version is recorded once). */
  async record(deployed: DeployedProcess[], deployedBy: string | null): Promise<void> {
    for (const d of deployed) {
      await this.knex('process_definitions')
        .insert({
          key: d.definitionId, bpmn_process_id: d.processId, base_process: d.processId, version: d.version,
          resource_name: d.resourceName, xml: d.xml, unit_id: d.tenant, deployed_by: deployedBy,
        })
        .onConflict('key')
        .ignore()
    }
  }

  byKey(definitionId: string): Promise<ProcessModel | null> {
    let model = this.cache.get(definitionId)
    if (!model) {
      model = this.knex('process_definitions')
        .where({ key: definitionId })
        .first('xml')
        .then((row: { xml: string } | undefined) => (row ? parseModel(row.xml) : null))
      model.catch(() => this.cache.delete(definitionId))
      this.cache.set(definitionId, model)
    }
    return model
  }

  /**
   * The version a unit's new document starts: the unit's newest version of the flow (its admin's
   * own when deployed last). A unit that has none yet gets the shipped models first.
   */
  async startIdFor(processId: string, unitId: string): Promise<string | null> {
    const newest = () =>
      this.knex('process_definitions').where({ unit_id: unitId, bpmn_process_id: processId }).orderBy('version', 'desc').first('key')
    let row = await newest()
    if (!row && this.shipped.length) {
      await this.deployShipped(unitId)
      row = await newest()
    }
    return row?.key ?? null
  }
}
