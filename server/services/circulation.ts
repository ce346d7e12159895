// 传阅 (circulation for reading): a handler of a document, or the office once a leader has
// instructed (批示), sends it to people or whole departments of the unit for reading. Each reader
// gets a 待阅 item, reads the document read-only and marks it 已阅 with an optional comment; the
// sender sees who has read it and urges (催办) the others. Circulation lives in its own tables,
// never as engine tasks, so it never holds the flow up: the document may finish while reading is open.
import { randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import { fail, type FieldProblem } from '../errors.ts'
import type { Documents } from './documents.ts'
import type { Notifications } from './notifications.ts'
import type { Principal } from './principal.ts'
import { applyListFilters, type TaskListQuery } from './tasks.ts'

/** The office: may circulate any document of the unit once a leader has acted on it (批示). */
export const OFFICE_ROLES = ['office_head', 'office_reviewer', 'registry']
/** The routing log's step for 传阅 entries (no flow element has it: the printed 笺 ignores them). */
const STEP = 'circulation'
const URGE_INTERVAL_MS = 10 * 60 * 1000

export interface CirculationInput {
  people?: string[]
  departments?: string[]
  note?: string | null
}

export interface ReadingQuery extends TaskListQuery {
  state: 'unread' | 'read' | 'all'
}

export class Circulation {
  constructor(
    private readonly knex: Knex,
    private readonly documents: Documents,
    private readonly notifications: Notifications,
  ) {}

  /** 传阅: sends the document to the chosen people and every person of the chosen departments (not the sender). */
  async send(p: Principal, documentId: string, input: CirculationInput) {
    if (p.channel !== 'web') throw fail('FORBIDDEN', '传阅须由本单位人员登录后发起')
    const doc = await this.knex('documents').where({ id: documentId, unit_id: p.unitId }).first('id', 'title')
    if (!doc) throw fail('NOT_FOUND', '未找到该公文')
    if (!(await this.maySend(p, documentId))) {
      if (!(await this.documents.canRead(p, documentId))) throw fail('NOT_FOUND', '未找到该公文')
      throw fail('FORBIDDEN', '只有该公文的办理人，或领导批示后的办公室（办公室负责人、初审、机要/收发）可以传阅')
    }
    const readers = await this.resolveReaders(p, input)
    const note = input.note?.trim() || null
    const id = randomUUID()
    return this.knex.transaction(async (trx) => {
      const [sent] = await trx('circulations').insert({ id, document_id: documentId, unit_id: p.unitId, sent_by: p.userId, note, channel: p.channel }).returning('sent_at')
      await trx('circulation_readers').insert(readers.map((r) => ({ circulation_id: id, unit_id: p.unitId, user_id: r.id, department_id: r.viaDepartment })))
      await trx('routing_log').insert({
        document_id: documentId, unit_id: p.unitId, dedup_key: `circulate:${id}`, step: STEP, step_name: '传阅', actor_id: p.userId, actor_name: p.name,
        route: '传阅', opinion: `传阅给${readers.map((r) => r.name).join('、')}${note ? `：${note}` : ''}`, channel: p.channel, at: sent.sent_at,
      })
      const notified = await this.notifications.enqueueFor(trx, {
        unitId: p.unitId, userIds: readers.map((r) => r.id), kind: 'reading', ref: `circulation:${id}`, documentId, title: doc.title, stepName: '传阅',
        text: `【待阅】${p.name}传阅《${doc.title}》，请阅。${note ? `附言：${note}` : ''}`,
      }, (userId) => `reading:${id}:${userId}`)
      return { ...(await this.summary(trx, id)), notified }
    })
  }

  /** My 待阅 (unread), 已阅 (read) or both, newest first. */
  async mine(p: Principal, q: ReadingQuery) {
    const base = this.knex('circulation_readers as r')
      .join('circulations as c', 'c.id', 'r.circulation_id')
      .join('documents as d', 'd.id', 'c.document_id')
      .join('users as s', 's.id', 'c.sent_by')
      .where({ 'r.user_id': p.userId, 'r.unit_id': p.unitId, 'd.unit_id': p.unitId })
    if (q.state === 'unread') base.whereNull('r.read_at')
    if (q.state === 'read') base.whereNotNull('r.read_at')
    applyListFilters(base, q, 'c.sent_at')
    const [items, [{ count }]] = await Promise.all([
      base.clone().orderBy([{ column: 'c.sent_at', order: 'desc' }, { column: 'r.id', order: 'desc' }]).limit(q.limit).offset(q.offset).select(
        'r.id', 'c.id as circulationId', 'd.id as documentId', 'd.kind as documentKind', 'd.title', 'd.doc_number as docNumber', 'd.urgency', 'd.status as documentStatus',
        's.name as senderName', 'c.note', 'c.sent_at as sentAt', 'r.read_at as readAt', 'r.comment',
      ),
      base.clone().count<{ count: string }[]>('* as count'),
    ])
    return { total: Number(count), items: items.map((i) => ({ ...i, id: String(i.id) })) }
  }

  /** 已阅: marks my reading item read, with an optional comment, and logs it on the document. */
  async markRead(p: Principal, readerId: string, input: { comment?: string | null }) {
    return this.knex.transaction(async (trx) => {
      const row = await trx('circulation_readers as r')
        .join('circulations as c', 'c.id', 'r.circulation_id')
        .where({ 'r.id': readerId, 'r.user_id': p.userId, 'r.unit_id': p.unitId })
        .forUpdate('r')
        .first('r.id', 'r.read_at', 'c.document_id', 'c.id as circulation_id')
      if (!row) throw fail('NOT_FOUND', '未找到该待阅事项')
      if (row.read_at) throw fail('CONFLICT', '该公文您已阅，不能重复标为已阅')
      const comment = input.comment?.trim() || null
      const [done] = await trx('circulation_readers').where({ id: row.id }).update({ read_at: trx.fn.now(), comment, channel: p.channel }).returning('read_at')
      await trx('routing_log').insert({
        document_id: row.document_id, unit_id: p.unitId, dedup_key: `read:${row.id}`, step: STEP, step_name: '传阅', actor_id: p.userId, actor_name: p.name,
        route: '已阅', opinion: comment, channel: p.channel, at: done.read_at,
      })
      return { id: String(row.id), circulationId: row.circulation_id, documentId: row.document_id, readAt: done.read_at, comment }
    })
  }

  /**
   * The document's circulations as the caller may see them: those they sent, with every reader's
   * state; and their own reading items on it. 404 when they may not read the document.
   */
  async ofDocument(p: Principal, documentId: string) {
    if (!(await this.documents.canRead(p, documentId))) throw fail('NOT_FOUND', '未找到该公文')
    const sentIds = await this.knex('circulations').where({ document_id: documentId, unit_id: p.unitId, sent_by: p.userId }).orderBy('sent_at').pluck('id')
    const sent = await Promise.all(sentIds.map((id: string) => this.summary(this.knex, id)))
    const mine = await this.knex('circulation_readers as r')
      .join('circulations as c', 'c.id', 'r.circulation_id')
      .join('users as s', 's.id', 'c.sent_by')
      .where({ 'c.document_id': documentId, 'r.user_id': p.userId, 'r.unit_id': p.unitId })
      .orderBy('c.sent_at')
      .select('r.id', 'c.id as circulationId', 's.name as senderName', 'c.note', 'c.sent_at as sentAt', 'r.read_at as readAt', 'r.comment')
    return { maySend: await this.maySend(p, documentId), sent, mine: mine.map((m) => ({ ...m, id: String(m.id) })) }
  }

  /** 催办: the sender urges the readers who have not read yet, at most once per 10 minutes. */
  async urge(p: Principal, circulationId: string) {
    return this.knex.transaction(async (trx) => {
      const c = await trx('circulations as c').join('documents as d', 'd.id', 'c.document_id')
        .where({ 'c.id': circulationId, 'c.unit_id': p.unitId }).forUpdate('c')
        .first('c.id', 'c.sent_by', 'c.document_id', 'c.urge_count', 'd.title', trx.raw(`coalesce(extract(epoch from c.urged_at + ? * interval '1 millisecond' - now()) * 1000, 0)::float as wait_ms`, [URGE_INTERVAL_MS]))
      if (!c || (c.sent_by !== p.userId && !(await this.documents.canRead(p, c.document_id)))) throw fail('NOT_FOUND', '未找到该传阅')
      if (c.sent_by !== p.userId) throw fail('FORBIDDEN', '只有传阅人可以催阅')
      const unread = await trx('circulation_readers').where({ circulation_id: c.id }).whereNull('read_at').pluck('user_id')
      if (unread.length === 0) throw fail('CONFLICT', '所有传阅对象均已阅，无需催办')
      if (c.wait_ms > 0) throw fail('CONFLICT', `该传阅 10 分钟内已催办过，请 ${Math.ceil(c.wait_ms / 60_000)} 分钟后再试`)
      const round = c.urge_count + 1
      const [urged] = await trx('circulations').where({ id: c.id }).update({ urged_at: trx.fn.now(), urge_count: round }).returning('urged_at')
      const notified = await this.notifications.enqueueFor(trx, {
        unitId: p.unitId, userIds: unread, kind: 'urge', ref: `circulation:${c.id}`, documentId: c.document_id, title: c.title, stepName: '传阅',
        text: `【催阅】《${c.title}》传阅给您，尚未阅，请尽快阅。催办人：${p.name}。`,
      }, (userId) => `reading-urge:${c.id}#${round}:${userId}`)
      return { circulationId: c.id, urgedAt: urged.urged_at, notified }
    })
  }

  /** Whether the caller may circulate it: a handler (holds or held a task), or the office after a leader's 批示. */
  private async maySend(p: Principal, documentId: string): Promise<boolean> {
    if (p.channel !== 'web') return false
    const handler = await this.knex('tasks').where({ document_id: documentId, unit_id: p.unitId })
      .andWhere((o) => o.where('completed_by', p.userId).orWhere('assignee', p.userId).orWhere((r) => r.where('state', 'open').whereNull('assignee').whereIn('candidate_role', p.roles)))
      .first('task_key')
    if (handler) return true
    if (!OFFICE_ROLES.some((r) => p.roles.includes(r))) return false
    return Boolean(await this.knex('routing_log').where({ document_id: documentId, unit_id: p.unitId, actor_role: 'leader' }).first('id'))
  }

  /** The named people and everyone of the named departments, all of the caller's unit, without the caller. */
  private async resolveReaders(p: Principal, input: CirculationInput) {
    const people = input.people ?? []
    const departments = input.departments ?? []
    if (people.length + departments.length === 0) {
      throw fail('VALIDATION', '请选择传阅对象（人员或部门）', [{ field: 'people', message: '请至少选择一名人员或一个部门' }])
    }
    const problems: FieldProblem[] = []
    const found = await this.knex('users').where({ unit_id: p.unitId }).whereIn('id', people).select('id', 'name')
    people.forEach((id, i) => {
      if (!found.some((u) => u.id === id)) problems.push({ field: `people.${i}`, message: `本单位没有编号为“${id}”的人员` })
      else if (id === p.userId) problems.push({ field: `people.${i}`, message: '不能传阅给自己' })
    })
    const depts = await this.knex('departments').where({ unit_id: p.unitId }).whereIn('id', departments).pluck('id')
    departments.forEach((id, i) => {
      if (!depts.includes(id)) problems.push({ field: `departments.${i}`, message: `本单位没有编号为“${id}”的部门` })
    })
    if (problems.length) throw fail('VALIDATION', `传阅对象不符合要求：${problems.map((d) => d.message).join('；')}`, problems)
    const members = await this.knex('users').where({ unit_id: p.unitId }).whereIn('department_id', depts).whereNot('id', p.userId).orderBy('id').select('id', 'name', 'department_id')
    const readers = new Map<string, { id: string; name: string; viaDepartment: string | null }>()
    for (const u of found) readers.set(u.id, { id: u.id, name: u.name, viaDepartment: null })
    for (const u of members) if (!readers.has(u.id)) readers.set(u.id, { id: u.id, name: u.name, viaDepartment: u.department_id })
    if (readers.size === 0) throw fail('VALIDATION', '所选部门没有可传阅的人员', [{ field: 'departments', message: '所选部门除您之外没有人员' }])
    return [...readers.values()]
  }

  private async summary(db: Knex | Knex.Transaction, id: string) {
    const c = await db('circulations as c').join('users as s', 's.id', 'c.sent_by').where('c.id', id)
      .first('c.id', 'c.document_id as documentId', 'c.sent_by as sentBy', 's.name as senderName', 'c.note', 'c.sent_at as sentAt', 'c.urged_at as urgedAt', 'c.urge_count as urgeCount')
    const readers = await db('circulation_readers as r').join('users as u', 'u.id', 'r.user_id').leftJoin('departments as dep', 'dep.id', 'r.department_id')
      .where('r.circulation_id', id).orderBy([{ column: 'r.read_at', order: 'asc', nulls: 'last' }, { column: 'u.id' }])
      .select('u.id as userId', 'u.name', 'dep.name as viaDepartment', 'r.read_at as readAt', 'r.comment')
    return { ...c, readCount: readers.filter((r) => r.readAt).length, readers: readers.map((r) => ({ ...r, status: r.readAt ? '已阅' : '未阅' })) }
  }
}
