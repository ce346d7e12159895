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

/** The deadline light of a task row `t`, by the database clock: red past the deadline, yellow past the reminder time, else green. */
const light = (knex: Knex) =>
  knex.raw(`case when t.state not in ('open', 'completing') or t.deadline is null then null when now() >= t.deadline then 'red' when now() >= t.remind_at then 'yellow' else 'green' end as "light"`)

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
  light(knex),
  // 来自: the last person who acted on the document before this task arrived; for an incoming
  // document nobody here has touched yet, the unit that sent it.
  knex.raw(`coalesce((select l.actor_name from routing_log l where l.document_id = t.document_id and l.actor_id is not null and l.at <= t.created_at order by l.at desc, l.id desc limit 1), (select u.name from units u where u.id = d.source_unit_id)) as "fromName"`),
]

/** Search and paging of the task lists: q matches the title or the 发文字号 (or 来文字号). */
export interface TaskListQuery {
  limit: number
  offset: number
  q?: string
  /** Calendar days (YYYY-MM-DD, China time), inclusive. */
  from?: string
  to?: string
  /** Document kind: fawen, shouwen, chengyue. */
  kind?: string
}

/** Dates in list filters are calendar days where the units are. */
export const listTimeZone = 'Asia/Shanghai'

/** Applies q/from/to/kind to a query over documents `d`, dating rows by `dateColumn`. */
export function applyListFilters(query: Knex.QueryBuilder, f: Omit<TaskListQuery, 'limit' | 'offset'>, dateColumn: string) {
  if (f.kind) query.where('d.kind', f.kind)
  const text = f.q?.trim()
  if (text) {
    const like = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
    query.andWhere((w) => w.whereILike('d.title', like).orWhereILike('d.doc_number', like).orWhereRaw(`d.data->>'incomingNumber' ilike ?`, [like]))
  }
  if (f.from) query.whereRaw(`${dateColumn} >= (?::date)::timestamp at time zone '${listTimeZone}'`, [f.from])
  if (f.to) query.whereRaw(`${dateColumn} < ((?::date) + 1)::timestamp at time zone '${listTimeZone}'`, [f.to])
  return query
}

export class TaskQueries {
  constructor(
    private readonly knex: Knex,
    private readonly models: ProcessModels,
    private readonly forms: Forms,
    private readonly actions: TaskActions,
  ) {}

  async open(p: Principal, page: TaskListQuery) {
    const base = this.knex('tasks as t')
      .join('documents as d', 'd.id', 't.document_id')
      .where({ 't.unit_id': p.unitId, 't.state': 'open' })
      .andWhere((q) => q.where('t.assignee', p.userId).orWhere((q2) => q2.whereNull('t.assignee').whereIn('t.candidate_role', p.roles)))
    // An API key acts only on documents it started (api-scopes.ts), so it lists only their tasks.
    if (p.apiKey) base.where('d.created_by', p.userId)
    applyListFilters(base, page, 't.created_at')
    const [items, [{ count }]] = await Promise.all([
      base.clone().select(listColumns(this.knex)).orderBy('t.created_at', 'desc').limit(page.limit).offset(page.offset),
      base.clone().count<{ count: string }[]>('* as count'),
    ])
    return { items, total: Number(count) }
  }

  async done(p: Principal, page: TaskListQuery) {
    const base = this.knex('tasks as t')
      .join('documents as d', 'd.id', 't.document_id')
      .where({ 't.unit_id': p.unitId, 't.completed_by': p.userId })
      .whereIn('t.state', ['completed', 'completing'])
    applyListFilters(base, page, 't.submitted_at')
    const [items, [{ count }]] = await Promise.all([
      base.clone().select(listColumns(this.knex)).orderBy('t.submitted_at', 'desc').limit(page.limit).offset(page.offset),
      base.clone().count<{ count: string }[]>('* as count'),
    ])
    return { items, total: Number(count) }
  }

  /** One task with its document, the step's form schema, and the routes allowed from here. */
  async one(p: Principal, taskKey: string) {
    const task = await this.knex('tasks as t').where({ 't.task_key': taskKey, 't.unit_id': p.unitId }).first('t.*', light(this.knex))
    if (!task || !(canAct(p, task) || task.completed_by === p.userId)) throw fail('NOT_FOUND', '未找到该待办')
    // Opening the task ends the sender's chance to withdraw it (撤回).
    if (task.state === 'open' && !task.opened_at && canAct(p, task)) {
      await this.knex('tasks').where({ task_key: taskKey, state: 'open' }).whereNull('opened_at').update({ opened_at: new Date() })
    }
    const doc = await this.knex('documents').where({ id: task.document_id }).first()
    const model = await this.models.byKey(task.process_definition_key)
    const step = model?.userTasks.get(task.element_id)
    const view = step?.formKey ? this.forms.stepView(step.formKey, doc.form_version, step.properties, doc.data) : null
    const routes = []
    for (const r of step?.routes ?? []) {
      const handlers = r.targetRole
        ? await this.knex('users as u')
            .join('user_roles as ur', 'ur.user_id', 'u.id')
            .where({ 'u.unit_id': p.unitId, 'ur.role': r.targetRole })
            .orderBy('u.name')
            .select('u.id', 'u.name')
        : []
      routes.push({ name: r.name, nextStep: r.targetName, nextRole: r.targetRole, needsHandler: r.targetRole !== null, handlers, opinionRequired: r.opinionRequired ?? false })
    }
    return {
      taskKey: task.task_key,
      step: task.element_id,
      stepName: task.step_name,
      state: task.state,
      route: task.route,
      assignee: task.assignee,
      candidateRole: task.candidate_role,
      createdAt: task.created_at,
      // Fields hidden from this step are never sent: not in the form, not in the document's data.
      form: view,
      routes,
      returnTargets: task.state === 'open' ? await this.actions.returnTargets(task) : [],
      // A saved completion the engine kept refusing: stuck until the unit admin retries or discards it.
      stuck: task.state === 'completing' && task.completion_dead_at !== null,
      // What was submitted before that completion was discarded: offered to the handler as a draft.
      savedSubmission: task.state === 'open' && task.route
        ? { route: task.route, nextHandler: task.next_handler, opinion: task.opinion, data: task.form_data ?? {} }
        : null,
      deadline: task.deadline,
      light: task.light,
      document: {
        id: doc.id,
        kind: doc.kind,
        title: doc.title,
        status: doc.status,
        docNumber: doc.doc_number,
        data: view ? view.data : doc.data,
        log: await routingLog(this.knex, doc.id),
        // 拒收/退文 (refusal.ts): a re-sent 来文 names the refused one, with the sender's 更正说明.
        previousIncomingId: doc.previous_incoming_id ?? null,
        correctionNote: doc.data?.correctionNote ?? null,
        previousRefusalReason: doc.data?.previousRefusalReason ?? null,
      },
    }
  }
}
