// 督办 (supervision): the office marks a document of its unit as supervised, with a due date and a
// supervisor of the unit. The 督办 list shows each item's state (在办 / 已办结 / 已超期); the
// supervisor urges (催办) the current handlers and the handlers reply (反馈), both recorded on the
// item. An overdue item is escalated to its supervisor exactly once, whichever app node's periodic
// check gets there first: the claim is one UPDATE … WHERE escalated_at IS NULL … RETURNING, and
// its notification and record commit in the same transaction.
import { randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import { fail } from '../errors.ts'
import { OFFICE_ROLES } from './circulation.ts'
import type { Documents } from './documents.ts'
import type { Notifications } from './notifications.ts'
import type { Principal } from './principal.ts'

export const supervisionStates = ['在办', '已办结', '已超期'] as const
export type SupervisionState = (typeof supervisionStates)[number]

const ZONE = 'Asia/Shanghai'
const today = `(now() at time zone '${ZONE}')::date`
const stateSql = `case when d.status in ('completed', 'canceled') then '已办结' when s.due_date < ${today} then '已超期' else '在办' end`

export interface SupervisionInput {
  supervisorId: string
  dueDate: string
  note?: string | null
}

const isOffice = (p: Principal) => OFFICE_ROLES.some((r) => p.roles.includes(r))

export class Supervision {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<unknown> | null = null

  constructor(
    private readonly knex: Knex,
    private readonly documents: Documents,
    private readonly notifications: Notifications,
    private readonly log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void },
  ) {}

  /** Checks for overdue items every `intervalMs` (the SUPERVISION_CHECK_MS setting). */
  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      if (this.running) return
      this.running = this.escalateOverdue().catch((err) => this.log.warn({ err }, 'supervision escalation check failed')).finally(() => { this.running = null })
    }, intervalMs)
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.running
  }

  /** 督办: the office marks a document of its unit, naming a supervisor of the unit and a due date (today or later). */
  async mark(p: Principal, documentId: string, input: SupervisionInput) {
    const doc = await this.knex('documents').where({ id: documentId, unit_id: p.unitId }).first('id', 'title', 'status')
    if (!doc) throw fail('NOT_FOUND', '未找到该公文')
    if (!isOffice(p) || p.channel !== 'web') {
      if (!(await this.documents.canRead(p, documentId))) throw fail('NOT_FOUND', '未找到该公文')
      throw fail('FORBIDDEN', '只有办公室（办公室负责人、初审、机要/收发）可以设置督办')
    }
    const supervisor = await this.knex('users').where({ id: input.supervisorId, unit_id: p.unitId }).whereNot('password_hash', '!').first('id', 'name')
    if (!supervisor) throw fail('VALIDATION', `本单位没有编号为“${input.supervisorId}”的人员`, [{ field: 'supervisorId', message: '督办人须为本单位人员' }])
    const { rows } = await this.knex.raw(`select ?::date < ${today} as past`, [input.dueDate])
    if (rows[0].past) throw fail('VALIDATION', '办结期限不能早于今天', [{ field: 'dueDate', message: '办结期限不能早于今天' }])
    if (['completed', 'canceled'].includes(doc.status)) throw fail('CONFLICT', '该公文已办结，无需督办')
    const id = randomUUID()
    const inserted = await this.knex('supervisions')
      .insert({ id, document_id: documentId, unit_id: p.unitId, supervisor_id: supervisor.id, due_date: input.dueDate, note: input.note?.trim() || null, created_by: p.userId })
      .onConflict('document_id').ignore().returning('id')
    if (inserted.length === 0) throw fail('CONFLICT', '该公文已在督办中')
    await this.notifications.enqueueFor(this.knex, {
      unitId: p.unitId, userIds: [supervisor.id], kind: 'supervision', ref: `supervision:${id}`, documentId, title: doc.title, stepName: '督办',
      text: `【督办】《${doc.title}》已列入督办，由您督办，办结期限 ${input.dueDate}。`,
    }, (userId) => `supervision:${id}:${userId}`)
    return this.one(p, id)
  }

  /** The 督办 list: the office sees the unit's; others the items they supervise or handle. */
  async list(p: Principal, q: { state?: SupervisionState; limit: number; offset: number }) {
    const base = this.visible(p)
    if (q.state) base.whereRaw(`${stateSql} = ?`, [q.state])
    const [items, [{ count }]] = await Promise.all([
      base.clone().orderBy([{ column: 's.due_date' }, { column: 's.created_at' }]).limit(q.limit).offset(q.offset).select(this.columns()),
      base.clone().count<{ count: string }[]>('* as count'),
    ])
    return { total: Number(count), items }
  }

  /** One item with its record (催办, 反馈, 超期督办) and the document's current steps. */
  async one(p: Principal, id: string) {
    const item = await this.visible(p).where('s.id', id).first(this.columns())
    if (!item) throw fail('NOT_FOUND', '未找到该督办事项')
    const [events, currentSteps] = await Promise.all([
      this.knex('supervision_events').where({ supervision_id: id }).orderBy([{ column: 'at' }, { column: 'id' }])
        .select(this.knex.raw('id::text as id'), 'kind', 'actor_id as actorId', 'actor_name as actorName', 'text', 'channel', 'at'),
      this.knex('tasks').where({ document_id: item.documentId, state: 'open' }).distinct('step_name').pluck('step_name'),
    ])
    return { ...item, currentSteps, events, mayUrge: item.supervisorId === p.userId, mayReply: await this.isHandler(p, item.documentId) }
  }

  /** 催办: the supervisor urges the document's current handlers, with an optional text. */
  async urge(p: Principal, id: string, input: { text?: string | null }) {
    const item = await this.one(p, id)
    if (item.supervisorId !== p.userId) throw fail('FORBIDDEN', '只有督办人可以催办')
    if (item.state === '已办结') throw fail('CONFLICT', '该公文已办结，无需催办')
    const handlers = await this.openHandlers(item.documentId)
    const text = input.text?.trim() || null
    return this.knex.transaction(async (trx) => {
      const [event] = await trx('supervision_events').insert({ supervision_id: id, unit_id: p.unitId, kind: 'urge', actor_id: p.userId, actor_name: p.name, text, channel: p.channel }).returning(['id', 'at'])
      const notified = await this.notifications.enqueueFor(trx, {
        unitId: p.unitId, userIds: handlers, kind: 'urge', ref: `supervision:${id}`, documentId: item.documentId, title: item.title, stepName: '督办',
        text: `【督办催办】《${item.title}》为督办事项（办结期限 ${item.dueDate}），请尽快办理并反馈。催办人：${p.name}。${text ? `${text}` : ''}`,
      }, (userId) => `supervision-urge:${event.id}:${userId}`)
      return { id: String(event.id), at: event.at, notified }
    })
  }

  /** 反馈: a handler of the document replies on the item; the supervisor is told. */
  async reply(p: Principal, id: string, input: { text: string }) {
    const item = await this.one(p, id)
    if (!item.mayReply) throw fail('FORBIDDEN', '只有该公文的办理人可以反馈')
    const text = input.text.trim()
    if (!text) throw fail('VALIDATION', '请填写反馈内容', [{ field: 'text', message: '反馈内容不能为空' }])
    return this.knex.transaction(async (trx) => {
      const [event] = await trx('supervision_events').insert({ supervision_id: id, unit_id: p.unitId, kind: 'reply', actor_id: p.userId, actor_name: p.name, text, channel: p.channel }).returning(['id', 'at'])
      await this.notifications.enqueueFor(trx, {
        unitId: p.unitId, userIds: [item.supervisorId], kind: 'supervision', ref: `supervision:${id}`, documentId: item.documentId, title: item.title, stepName: '督办',
        text: `【督办反馈】${p.name}反馈《${item.title}》：${text}`,
      }, (userId) => `supervision-reply:${event.id}:${userId}`)
      return { id: String(event.id), at: event.at }
    })
  }

  /**
   * Escalates every overdue, unfinished item not escalated yet to its supervisor: claimed by one
   * UPDATE … WHERE escalated_at IS NULL RETURNING (a second node's update finds it set and skips
   * it), recorded and notified in the same transaction. Returns how many were escalated.
   */
  async escalateOverdue(): Promise<number> {
    return this.knex.transaction(async (trx) => {
      const { rows } = await trx.raw(`
        update supervisions s set escalated_at = now()
          from documents d
         where d.id = s.document_id and s.escalated_at is null and s.due_date < ${today}
           and d.status not in ('completed', 'canceled')
        returning s.id, s.unit_id, s.supervisor_id, s.document_id, to_char(s.due_date, 'YYYY-MM-DD') as due_date, d.title`)
      for (const s of rows) {
        await trx('supervision_events').insert({ supervision_id: s.id, unit_id: s.unit_id, kind: 'escalation', actor_name: '系统', text: `已超过办结期限 ${s.due_date}，已提请督办人督办`, channel: 'system' })
        await this.notifications.enqueueFor(trx, {
          unitId: s.unit_id, userIds: [s.supervisor_id], kind: 'overdue', ref: `supervision:${s.id}`, documentId: s.document_id, title: s.title, stepName: '督办',
          text: `【督办超期】《${s.title}》已超过办结期限 ${s.due_date}，尚未办结，请督办。`,
        }, (userId) => `supervision-escalation:${s.id}:${userId}`)
      }
      if (rows.length) this.log.info({ escalated: rows.length }, 'overdue supervision items escalated')
      return rows.length
    })
  }

  private visible(p: Principal) {
    const q = this.knex('supervisions as s').join('documents as d', 'd.id', 's.document_id').where('s.unit_id', p.unitId)
    if (isOffice(p) && p.channel === 'web') return q
    return q.andWhere((w) => w.where('s.supervisor_id', p.userId).orWhereExists((t) =>
      t.select(this.knex.raw('1')).from('tasks as t').whereRaw('t.document_id = s.document_id').andWhere((o) =>
        o.where('t.completed_by', p.userId).orWhere('t.assignee', p.userId).orWhere((r) => r.where('t.state', 'open').whereNull('t.assignee').whereIn('t.candidate_role', p.roles)))))
  }

  private columns() {
    return [
      's.id', 's.document_id as documentId', 'd.title', 'd.kind as documentKind', 'd.doc_number as docNumber', 'd.status as documentStatus',
      's.supervisor_id as supervisorId', this.knex.raw('(select name from users where id = s.supervisor_id) as "supervisorName"'),
      this.knex.raw(`to_char(s.due_date, 'YYYY-MM-DD') as "dueDate"`), 's.note', 's.created_at as createdAt', 's.escalated_at as escalatedAt',
      this.knex.raw('(select name from users where id = s.created_by) as "createdByName"'), this.knex.raw(`${stateSql} as state`),
    ]
  }

  /** Whether the caller holds or held a task on the document. */
  private async isHandler(p: Principal, documentId: string): Promise<boolean> {
    if (p.channel !== 'web') return false
    return Boolean(await this.knex('tasks').where({ document_id: documentId, unit_id: p.unitId })
      .andWhere((o) => o.where('completed_by', p.userId).orWhere('assignee', p.userId).orWhere((r) => r.where('state', 'open').whereNull('assignee').whereIn('candidate_role', p.roles)))
      .first('task_key'))
  }

  /** The people who may act on the document's open tasks: assignees, or holders of the task's role (of its department, for role@department). */
  private async openHandlers(documentId: string): Promise<string[]> {
    const tasks = await this.knex('tasks').where({ document_id: documentId, state: 'open' }).select('unit_id', 'assignee', 'candidate_role')
    const ids = new Set<string>()
    for (const t of tasks) {
      if (t.assignee) { ids.add(t.assignee); continue }
      if (!t.candidate_role) continue
      const [role, department] = String(t.candidate_role).split('@')
      const q = this.knex('users as u').join('user_roles as r', 'r.user_id', 'u.id').where({ 'u.unit_id': t.unit_id, 'r.role': role })
      if (department) q.where('u.department_id', department)
      for (const id of await q.pluck('u.id')) ids.add(id)
    }
    return [...ids]
  }
}
