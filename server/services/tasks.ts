// Inbox queries: 待办 (open tasks offered to me), 已办 (tasks I completed), one task in full.
import type { Knex } from 'knex'
import { fail } from '../errors.ts'
import type { Forms } from '../forms/forms.ts'
import type { Principal } from './principal.ts'
import type { ProcessModels } from './process-models.ts'
import { routingLog } from './documents.ts'
import type { TaskActions } from './task-actions.ts'

/** A task is mine to act on when assigned to me, or unassigned and offered to a role I hold. */
export function canAct(p: Principal, task: { unit_id: string | null; assignee: string | null; candidate_role: string | null }): boolean {
  if (task.unit_id !== p.unitId) return false
  if (task.assignee) return task.assignee === p.userId
  return task.candidate_role !== null && p.roles.includes(task.candidate_role)
}

const listColumns = (knex: Knex) => [
  't.task_key as taskKey',
  't.element_id as step',
  't.step_name as stepName',
  't.state',
  't.assignee',
  't.candidate_role as candidateRole',
  't.created_at as createdAt',
  't.closed_at as closedAt',
  't.route',
  'd.id as documentId',
  'd.kind as documentKind',
  'd.title',
  'd.doc_number as docNumber',
  'd.urgency',
  't.deadline',
  // 红: past the deadline; 黄: past the reminder time; 绿: in time.
  knex.raw(`case when t.state not in ('open', 'completing') or t.deadline is null then null when now() >= t.deadline then 'red' when now() >= t.remind_at then 'yellow' else 'green' end as "light"`),
]

export class TaskQueries {
  constructor(
    private readonly knex: Knex,
    private readonly models: ProcessModels,
    private readonly forms: Forms,
    private readonly actions: TaskActions,
  ) {}

  async open(p: Principal, page: { limit: number; offset: number }) {
    const base = this.knex('tasks as t')
      .join('documents as d', 'd.id', 't.document_id')
      .where({ 't.unit_id': p.unitId, 't.state': 'open' })
      .andWhere((q) => q.where('t.assignee', p.userId).orWhere((q2) => q2.whereNull('t.assignee').whereIn('t.candidate_role', p.roles)))
    const [items, [{ count }]] = await Promise.all([
      base.clone().select(listColumns(this.knex)).orderBy('t.created_at', 'desc').limit(page.limit).offset(page.offset),
      base.clone().count<{ count: string }[]>('* as count'),
    ])
    return { items, total: Number(count) }
  }

  async done(p: Principal, page: { limit: number; offset: number }) {
    const base = this.knex('tasks as t')
      .join('documents as d', 'd.id', 't.document_id')
      .where({ 't.unit_id': p.unitId, 't.completed_by': p.userId })
      .whereIn('t.state', ['completed', 'completing'])
    const [items, [{ count }]] = await Promise.all([
      base.clone().select(listColumns(this.knex)).orderBy('t.submitted_at', 'desc').limit(page.limit).offset(page.offset),
      base.clone().count<{ count: string }[]>('* as count'),
    ])
    return { items, total: Number(count) }
  }

  /** One task with its document, the step's form schema, and the routes allowed from here. */
  async one(p: Principal, taskKey: string) {
    const task = await this.knex('tasks').where({ task_key: taskKey, unit_id: p.unitId }).first()
    if (!task || !(canAct(p, task) || task.completed_by === p.userId)) throw fail('NOT_FOUND', '未找到该待办')
    // Opening the task ends the sender's chance to withdraw it (撤回).
    if (task.state === 'open' && !task.opened_at && canAct(p, task)) {
      await this.knex('tasks').where({ task_key: taskKey, state: 'open' }).whereNull('opened_at').update({ opened_at: new Date() })
    }
    const doc = await this.knex('documents').where({ id: task.document_id }).first()
    const model = await this.models.byKey(task.process_definition_key)
    const step = model?.userTasks.get(task.element_id)
    const view = step?.formKey ? this.forms.stepView(step.formKey, doc.form_version, step.headers, doc.data) : null
    const routes = []
    for (const r of step?.routes ?? []) {
      const handlers = r.targetRole
        ? await this.knex('users as u')
            .join('user_roles as ur', 'ur.user_id', 'u.id')
            .where({ 'u.unit_id': p.unitId, 'ur.role': r.targetRole })
            .orderBy('u.name')
            .select('u.id', 'u.name')
        : []
      routes.push({ name: r.name, nextStep: r.targetName, nextRole: r.targetRole, needsHandler: r.targetRole !== null, handlers })
    }
    return {
      taskKey: task.task_key,
      step: task.element_id,
      stepName: task.step_name,
      state: task.state,
      assignee: task.assignee,
      candidateRole: task.candidate_role,
      createdAt: task.created_at,
      // Fields hidden from this step are never sent: not in the form, not in the document's data.
      form: view,
      routes,
      returnTargets: task.state === 'open' ? await this.actions.returnTargets(task) : [],
      deadline: task.deadline,
      document: {
        id: doc.id,
        kind: doc.kind,
        title: doc.title,
        status: doc.status,
        docNumber: doc.doc_number,
        data: view ? view.data : doc.data,
        log: await routingLog(this.knex, doc.id),
      },
    }
  }
}
