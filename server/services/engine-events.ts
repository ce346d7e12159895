// Applies the records the broker's exporter posts: user tasks into the inbox, instance ends into
// document status, incidents onto documents. A batch is applied in one transaction and the
// partition's position is advanced in it, so a repeated delivery changes nothing.
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import type { ProcessModels } from './process-models.ts'
import { finalizeCompletion } from './task-completion.ts'

export interface EngineRecord {
  position: number
  key: number | string
  timestamp: number
  valueType: string
  intent: string
  value: Record<string, any>
}

export class EngineEvents {
  constructor(
    private readonly knex: Knex,
    private readonly models: ProcessModels,
    private readonly log: Logger,
  ) {}

  async apply(partitionId: number, records: EngineRecord[]): Promise<{ applied: number }> {
    let applied = 0
    await this.knex.transaction(async (trx) => {
      await trx('engine_progress').insert({ partition_id: partitionId, position: -1 }).onConflict('partition_id').ignore()
      const progress = await trx('engine_progress').where({ partition_id: partitionId }).forUpdate().first('position')
      let position = Number(progress.position)
      for (const record of records) {
        if (record.position <= position) continue
        await this.applyOne(trx, record)
        position = record.position
        applied++
      }
      await trx('engine_progress').where({ partition_id: partitionId }).update({ position })
    })
    return { applied }
  }

  private async applyOne(trx: Knex.Transaction, r: EngineRecord): Promise<void> {
    const v = r.value
    const at = new Date(r.timestamp)
    switch (r.valueType) {
      case 'VARIABLE':
        if (r.intent === 'CREATED') {
          // Links the instance to its document even if the server died before recording the key.
          const documentId = safeJson(v.value)
          if (typeof documentId === 'string' && /^[0-9a-f-]{36}$/.test(documentId)) {
            await trx('documents')
              .where({ id: documentId })
              .whereNull('process_instance_key')
              .update({ process_instance_key: String(v.processInstanceKey), status: 'running', updated_at: at })
          }
        }
        return
      case 'USER_TASK':
        return this.userTask(trx, r.intent, v, at)
      case 'PROCESS_INSTANCE':
        if (v.bpmnElementType === 'USER_TASK' && r.intent === 'ELEMENT_TERMINATED') {
          // A task ended by moving the instance (撤回, 退回) or by an interrupting event.
          await trx('tasks').where({ element_instance_key: String(r.key) }).whereIn('state', ['open', 'completing']).update({ state: 'canceled', closed_at: at })
        }
        if (v.bpmnElementType === 'PROCESS' && (r.intent === 'ELEMENT_COMPLETED' || r.intent === 'ELEMENT_TERMINATED')) {
          await trx('documents')
            .where({ process_instance_key: String(v.processInstanceKey) })
            .whereIn('status', ['starting', 'running'])
            .update({ status: r.intent === 'ELEMENT_COMPLETED' ? 'completed' : 'canceled', completed_at: at, updated_at: at })
        }
        return
      case 'INCIDENT':
        if (r.intent === 'CREATED') {
          await trx('incidents')
            .insert({ key: String(r.key), process_instance_key: String(v.processInstanceKey), element_id: v.elementId, message: v.errorMessage, created_at: at })
            .onConflict('key')
            .ignore()
          await trx('documents').where({ process_instance_key: String(v.processInstanceKey) }).update({ incident: v.errorMessage })
          this.log.warn({ processInstanceKey: String(v.processInstanceKey), element: v.elementId, message: v.errorMessage }, 'incident in a flow')
        } else if (r.intent === 'RESOLVED') {
          await trx('incidents').where({ key: String(r.key) }).update({ resolved_at: at })
          await trx('documents').where({ process_instance_key: String(v.processInstanceKey) }).update({ incident: null })
        }
        return
    }
  }

  private async userTask(trx: Knex.Transaction, intent: string, v: Record<string, any>, at: Date): Promise<void> {
    const taskKey = String(v.userTaskKey)
    switch (intent) {
      case 'CREATED': {
        const doc = await trx('documents').where({ process_instance_key: String(v.processInstanceKey) }).first('id', 'unit_id', 'step_limit', 'remind_before', 'process_definition_key')
        if (doc && !doc.process_definition_key) {
          // Documents started by a message (电子来文) learn their process version here.
          await trx('documents').where({ id: doc.id }).update({ process_definition_key: String(v.processDefinitionKey) })
        }
        const model = await this.models.byKey(String(v.processDefinitionKey))
        const step = model?.userTasks.get(v.elementId)
        await trx('tasks')
          .insert({
            task_key: taskKey,
            process_instance_key: String(v.processInstanceKey),
            process_definition_key: String(v.processDefinitionKey),
            document_id: doc?.id ?? null,
            unit_id: doc?.unit_id ?? null,
            element_id: v.elementId,
            step_name: step?.name ?? v.elementId,
            form_key: v.externalFormReference || step?.formKey || null,
            candidate_role: (v.candidateGroupsList ?? [])[0] ?? null,
            assignee: v.assignee || null,
            state: 'open',
            created_at: at,
            element_instance_key: v.elementInstanceKey != null ? String(v.elementInstanceKey) : null,
            // The same limits drive the BPMN timers; here they colour the inbox (red/yellow/green).
            deadline: doc?.step_limit ? trx.raw('?::timestamptz + ?::interval', [at.toISOString(), doc.step_limit]) : null,
            remind_at: doc?.step_limit ? trx.raw('?::timestamptz + ?::interval - ?::interval', [at.toISOString(), doc.step_limit, doc.remind_before]) : null,
          })
          .onConflict('task_key')
          .ignore()
        return
      }
      case 'ASSIGNED':
        await trx('tasks').where({ task_key: taskKey }).whereIn('state', ['open']).update({ assignee: v.assignee || null })
        return
      case 'COMPLETED':
        await finalizeCompletion(trx, taskKey, at)
        return
      case 'CANCELED':
        await trx('tasks').where({ task_key: taskKey }).whereIn('state', ['open', 'completing']).update({ state: 'canceled', closed_at: at })
        return
    }
  }
}

function safeJson(text: unknown): unknown {
  try {
    return JSON.parse(String(text))
  } catch {
    return null
  }
}
