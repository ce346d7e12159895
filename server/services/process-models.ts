// Deployed process versions and their parsed models, cached by process definition key.
import { readdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import { parseProcess, type ProcessModel } from '../../engine/bpmn-model.ts'
import type { Engine } from '../../engine/client.ts'
import { fail } from '../errors.ts'
import type { Forms } from '../forms/forms.ts'
import { lintModel } from '../forms/lint.ts'

export class ProcessModels {
  private readonly cache = new Map<string, Promise<ProcessModel | null>>()

  constructor(private readonly knex: Knex) {}

  /**
   * Deploys every processes/*.bpmn and records each version; an unchanged model keeps its version.
   * A model whose user tasks do not fit their 笺 (missing 笺, field or opinion box) is refused.
   */
  async deployAll(engine: Engine, dir: string, log: Logger, forms: Forms): Promise<void> {
    const files = readdirSync(dir).filter((f) => f.endsWith('.bpmn')).map((f) => join(dir, f))
    for (const file of files) {
      const problems = lintModel(await parseProcess(readFileSync(file, 'utf8')), forms)
      if (problems.length) {
        throw fail('VALIDATION', `流程模型 ${basename(file)} 与笺不符：${problems.map((p) => p.message).join('；')}`,
          problems.map((p) => ({ field: p.field ? `${p.taskId}.${p.field}` : p.taskId, message: p.message })))
      }
    }
    const deployed = await engine.deploy(files)
    for (const d of deployed) {
      await this.knex('process_definitions')
        .insert({ key: d.processDefinitionKey, bpmn_process_id: d.bpmnProcessId, base_process: d.bpmnProcessId, version: d.version, resource_name: d.resourceName, xml: d.xml })
        .onConflict('key')
        .ignore()
      log.info({ process: d.bpmnProcessId, version: d.version, key: d.processDefinitionKey }, 'process deployed')
    }
  }

  byKey(key: string): Promise<ProcessModel | null> {
    let model = this.cache.get(key)
    if (!model) {
      model = this.knex('process_definitions')
        .where({ key })
        .first('xml')
        .then((row: { xml: string } | undefined) => (row ? parseProcess(row.xml) : null))
      model.catch(() => this.cache.delete(key))
      this.cache.set(key, model)
    }
    return model
  }

  /**
   * The process id a unit's new document starts: the unit's own version of the flow when its admin
   * deployed one (fawen--<unitId>), else the shared one; null when the flow is not deployed.
   */
  async startIdFor(baseProcess: string, unitId: string): Promise<string | null> {
    const row = await this.knex('process_definitions')
      .where({ base_process: baseProcess })
      .andWhere((q) => q.where({ unit_id: unitId }).orWhereNull('unit_id'))
      .orderByRaw('unit_id is null')
      .first('bpmn_process_id')
    return row?.bpmn_process_id ?? null
  }

  async latest(bpmnProcessId: string): Promise<{ key: string; model: ProcessModel } | null> {
    const row = await this.knex('process_definitions').where({ bpmn_process_id: bpmnProcessId }).orderBy('version', 'desc').first('key')
    if (!row) return null
    const model = await this.byKey(row.key)
    return model ? { key: row.key, model } : null
  }
}
