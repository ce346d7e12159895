// 转笺 and 合并: a 处理笺 becomes a 呈阅笺, or related documents are merged into one. The 正文, the
// 附件 with every version, and the routing log come along whole; the documents left behind end
// their flows and point at where they went (merged_into).
import { randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import { EngineError, type WorkflowEngine } from '../../engine/port.ts'
import { AppError, fail } from '../errors.ts'
import type { Forms } from '../forms/forms.ts'
import { timeLimitsFor, type Documents } from './documents.ts'
import { copyFiles } from './files.ts'
import { frozenError, isFrozen } from './frozen.ts'
import { recordedChannel, type Principal } from './principal.ts'
import type { ProcessModels } from './process-models.ts'

export class Conversion {
  constructor(
    private readonly knex: Knex,
    private readonly engine: WorkflowEngine,
    private readonly documents: Documents,
    private readonly models: ProcessModels,
    private readonly forms: Forms,
    private readonly log: Logger,
  ) {}

  /** 转笺: a 收文 being handled becomes a 呈阅笺 drafted by the caller, who then sends it up. */
  async toChengyue(p: Principal, id: string) {
    const source = await this.movable(p, id)
    if (source.kind !== 'shouwen') throw fail('VALIDATION', '只有收文处理笺可以转为呈阅笺', [{ field: 'id', message: '该公文不是收文' }])
    const newId = randomUUID()
    const limits = await timeLimitsFor(this.knex, p.unitId, source.urgency)
    const data = { title: source.title, body: source.data.summary ?? source.title, urgency: source.urgency ?? '平件', relatedDocumentId: source.id }
    await this.knex.transaction(async (trx) => {
      await trx('documents').insert({
        id: newId, unit_id: p.unitId, kind: 'chengyue', title: source.title, status: 'starting', data: JSON.stringify(data), created_by: p.userId,
        department_id: p.departmentId, urgency: data.urgency, step_limit: limits.stepLimit, remind_before: limits.remindBefore,
        form_version: this.forms.current('chengyue-jian').version,
      })
      await this.carry(trx, p, source, newId, `转为呈阅笺“${source.title}”`)
    })
    // The unit's current version of the 呈阅笺 (its admin's own, if deployed).
    const definitionId = await this.models.startIdFor('chengyue', p.unitId)
    if (!definitionId) throw new AppError('ENGINE_UNAVAILABLE', '流程“呈阅笺”尚未部署')
    await this.startAndRetire(p, newId, definitionId, { documentId: newId, unitId: p.unitId, drafter: p.userId, nextHandler: '', ...limits }, [source])
    return this.documents.one(p, newId)
  }

  /** 合并: the other documents' files and routing logs join this one, and their flows end. */
  async merge(p: Principal, targetId: string, fromIds: string[]) {
    const target = await this.movable(p, targetId)
    if (fromIds.includes(targetId)) throw fail('VALIDATION', '不能把公文并入自身', [{ field: 'from', message: '包含了目标公文自身' }])
    const sources: Array<Record<string, any>> = []
    for (const id of fromIds) sources.push(await this.movable(p, id, 'from'))
    await this.knex.transaction(async (trx) => {
      for (const source of sources) await this.carry(trx, p, source, target.id, `并入“${target.title}”`)
    })
    await this.retire(sources)
    return this.documents.one(p, targetId)
  }

  /** A document the caller may read, of their unit, still in its flow; a 传阅 reader only reads it. */
  private async movable(p: Principal, id: string, field = 'id') {
    if (!(await this.documents.canRead(p, id, false))) throw fail('NOT_FOUND', '未找到该公文')
    const doc = await this.knex('documents').where({ id, unit_id: p.unitId }).first()
    if (isFrozen(doc)) {
      throw frozenError([{ field, message: `“${doc.title}”已签发，其正文、附件和笺不可再转笺、合并或被并入` }], `“${doc.title}”的正文、附件及标题、主送、抄送等字段`)
    }
    if (doc.status !== 'running' || doc.merged_into) throw fail('VALIDATION', `“${doc.title}”已办结或已转出，不能再转笺或合并`, [{ field, message: '公文不在办理中' }])
    return doc
  }

  /** Copies files (all versions) and the routing log of `source` to `targetId`, and marks the source. */
  private async carry(trx: Knex.Transaction, p: Principal, source: Record<string, any>, targetId: string, note: string) {
    // Signed meanwhile? Locked against 签发 committing until this transaction ends.
    const locked = await trx('documents').whereIn('id', [source.id, targetId]).forUpdate().select('id', 'title', 'issued_at')
    const signed = locked.find(isFrozen)
    if (signed) throw frozenError([{ field: signed.id === targetId ? 'id' : 'from', message: `“${signed.title}”已签发，不可转笺或合并` }], `“${signed.title}”的正文、附件及标题、主送、抄送等字段`)
    // An 电子来文's 正文 and 附件 are its sender's (read through source_document_id, never copied at
    // 分发): they come along first, every version, then what the recipient added itself.
    if (source.source_document_id) await copyFiles(trx, source.source_document_id, targetId, p.userId)
    await copyFiles(trx, source.id, targetId, p.userId)
    const log = await trx('routing_log').where({ document_id: source.id }).orderBy('id')
    if (log.length) {
      await trx('routing_log').insert(
        log.map(({ id, document_id: _d, dedup_key: _k, ...entry }) => ({ ...entry, document_id: targetId, dedup_key: `carried:${targetId}:${id}` })),
      )
    }
    await trx('documents').where({ id: source.id }).update({ merged_into: targetId, updated_at: new Date() })
    await trx('routing_log').insert({
      document_id: source.id, unit_id: source.unit_id, dedup_key: `moved:${source.id}:${targetId}`, step: 'zhuanjian', step_name: '转笺/合并',
      actor_id: p.userId, actor_name: p.name, route: null, opinion: note, channel: recordedChannel(p), at: new Date(),
    })
  }

  private async startAndRetire(p: Principal, id: string, definitionId: string, variables: Record<string, unknown>, retired: Array<Record<string, any>>) {
    try {
      const started = await this.engine.as(p.unitId).start(definitionId, variables, id)
      await this.knex('documents').where({ id }).update({ process_instance_key: started.instanceId, process_definition_key: started.definitionId, status: 'running' })
    } catch (err) {
      if (err instanceof EngineError) await this.knex('documents').where({ id, status: 'starting' }).update({ status: 'failed' })
      throw err
    }
    await this.retire(retired)
    this.log.info({ documentId: id, from: retired.map((d) => d.id), by: p.userId }, 'document converted')
  }

  /** Ends the flows of documents that moved elsewhere; one already over is fine. */
  private async retire(docs: Array<Record<string, any>>) {
    for (const doc of docs) {
      if (!doc.process_instance_key) continue
      await this.engine.as(doc.unit_id).cancelInstance(doc.process_instance_key, '转笺或合并').catch((err) => {
        if (!(err instanceof EngineError && err.kind === 'not_found')) throw err
      })
    }
  }
}
