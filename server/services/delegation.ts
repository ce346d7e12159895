// 委托/代理: setting, listing and ending delegations, and what a delegate did in the delegator's
// name. Who gets a new task is decided in the database (migrations/020-delegation.ts), the same
// way for every flow, when the engine's inbox listener writes the task.
import type { Knex } from 'knex'
import { fail } from '../errors.ts'
import type { Principal } from './principal.ts'

/** The flows a delegation may be limited to, by process id, with their names for the pages. */
export const delegableFlows: Record<string, string> = { fawen: '发文', fenwen: '分文报批', chengyue: '呈阅笺' }

export interface DelegationInput {
  /** The person away; the caller when absent. Someone else only for the unit admin. */
  delegator?: string
  delegate: string
  /** YYYY-MM-DD, China time, inclusive. */
  from: string
  to: string
  /** Limited to these flows; all flows when absent or empty. */
  flows?: string[]
}

const isAdmin = (p: Principal) => p.roles.includes('unit_admin')

const columns = (knex: Knex) => [
  'g.id',
  'g.delegator_id as delegatorId',
  'a.name as delegatorName',
  'g.delegate_id as delegateId',
  'b.name as delegateName',
  knex.raw(`to_char(g.starts_on, 'YYYY-MM-DD') as "from"`),
  knex.raw(`to_char(g.ends_on, 'YYYY-MM-DD') as "to"`),
  'g.flows',
  'g.created_by as createdBy',
  'g.created_at as createdAt',
  knex.raw(`(g.revoked_at is null and (now() at time zone 'Asia/Shanghai')::date between g.starts_on and g.ends_on) as active`),
]

export class Delegations {
  constructor(private readonly knex: Knex) {}

  /** Mine (as delegator or delegate); the unit admin sees the whole unit's with `all`. Ended ones are left out. */
  async list(p: Principal, all = false) {
    if (all && !isAdmin(p)) throw fail('FORBIDDEN', '只有单位管理员可以查看本单位全部委托')
    const q = this.knex('delegations as g')
      .join('users as a', 'a.id', 'g.delegator_id')
      .join('users as b', 'b.id', 'g.delegate_id')
      .where('g.unit_id', p.unitId)
      .whereNull('g.revoked_at')
      .orderBy([{ column: 'g.starts_on', order: 'desc' }, { column: 'g.id', order: 'desc' }])
      .select(columns(this.knex))
    if (!all) q.andWhere((w) => w.where('g.delegator_id', p.userId).orWhere('g.delegate_id', p.userId))
    return q
  }

  async create(p: Principal, input: DelegationInput) {
    const delegator = input.delegator ?? p.userId
    if (delegator !== p.userId && !isAdmin(p)) throw fail('FORBIDDEN', '只有单位管理员可以为他人设置委托')
    const flows = input.flows?.length ? [...new Set(input.flows)] : null
    return this.knex.transaction(async (trx) => {
      // One delegation at a time per person: serialise concurrent requests for the same delegator.
      await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`delegation:${p.unitId}`])
      const person = await trx('users').where({ id: delegator, unit_id: p.unitId }).first('id')
      // Another unit's person is not found, as for every other route.
      if (!person) throw fail('NOT_FOUND', '未找到该人员', [{ field: 'delegator', message: `本单位没有人员“${delegator}”` }])
      if (input.delegate === delegator) throw fail('VALIDATION', '不能委托给本人', [{ field: 'delegate', message: '受托人不能是委托人本人' }])
      const delegate = await trx('users').where({ id: input.delegate }).first('id', 'unit_id', 'password_hash')
      if (!delegate || delegate.unit_id !== p.unitId) {
        throw fail('VALIDATION', '受托人须为本单位人员', [{ field: 'delegate', message: `“${input.delegate}”不是本单位人员` }])
      }
      if (delegate.password_hash === '!') throw fail('VALIDATION', '不能委托给接口账号', [{ field: 'delegate', message: '接口账号不能办理待办' }])
      if (input.to < input.from) throw fail('VALIDATION', '委托结束日期早于开始日期', [{ field: 'to', message: `结束日期 ${input.to} 早于开始日期 ${input.from}` }])
      const today = (await trx.raw(`select to_char((now() at time zone 'Asia/Shanghai')::date, 'YYYY-MM-DD') as d`)).rows[0].d as string
      if (input.to < today) throw fail('VALIDATION', '委托期限已过', [{ field: 'to', message: `结束日期 ${input.to} 早于今天 ${today}` }])
      const overlapping = (q: Knex.QueryBuilder) => q.whereNull('revoked_at').where('starts_on', '<=', input.to).where('ends_on', '>=', input.from)
      const own = await overlapping(trx('delegations').where({ unit_id: p.unitId, delegator_id: delegator })).first('starts_on', 'ends_on')
      if (own) {
        throw fail('VALIDATION', '该期间已有委托', [{ field: 'from', message: `与已有委托（${day(own.starts_on)} 至 ${day(own.ends_on)}）时间重叠，请先撤销` }])
      }
      // The delegate has handed their own tasks back to the delegator for an overlapping time.
      const circular = await overlapping(trx('delegations').where({ unit_id: p.unitId, delegator_id: input.delegate, delegate_id: delegator })).first('starts_on', 'ends_on')
      if (circular) {
        throw fail('VALIDATION', '委托不能互相循环', [{ field: 'delegate', message: `受托人在 ${day(circular.starts_on)} 至 ${day(circular.ends_on)} 已委托给委托人本人` }])
      }
      const [row] = await trx('delegations')
        .insert({ unit_id: p.unitId, delegator_id: delegator, delegate_id: input.delegate, starts_on: input.from, ends_on: input.to, flows, created_by: p.userId })
        .returning('id')
      return (await this.one(trx, p, row.id))!
    })
  }

  /** Ends a delegation now: the delegator or the unit admin. Tasks already given to the delegate stay with them. */
  async revoke(p: Principal, id: string) {
    const row = await this.knex('delegations').where({ id: Number(id) || 0, unit_id: p.unitId }).whereNull('revoked_at').first()
    if (!row) throw fail('NOT_FOUND', '未找到该委托')
    if (row.delegator_id !== p.userId && !isAdmin(p)) throw fail('FORBIDDEN', '只有委托人或单位管理员可以撤销委托')
    await this.knex('delegations').where({ id: row.id }).update({ revoked_at: this.knex.fn.now() })
    return { id: String(row.id), revoked: true }
  }

  /** What delegates did in my name: routing-log entries on my behalf, newest first; open tasks given away from me. */
  async onMyBehalf(p: Principal, limit = 50) {
    const [actions, open] = await Promise.all([
      this.knex('routing_log as l')
        .join('documents as d', 'd.id', 'l.document_id')
        .where({ 'l.on_behalf_of': p.userId, 'l.unit_id': p.unitId })
        .orderBy([{ column: 'l.at', order: 'desc' }, { column: 'l.id', order: 'desc' }])
        .limit(limit)
        .select('l.document_id as documentId', 'd.title', 'd.doc_number as docNumber', 'l.step_name as stepName', 'l.actor_id as actorId', 'l.actor_name as actorName', 'l.route', 'l.opinion', 'l.at'),
      this.knex('tasks as t')
        .join('documents as d', 'd.id', 't.document_id')
        .join('users as u', 'u.id', 't.assignee')
        .where({ 't.delegated_from': p.userId, 't.unit_id': p.unitId, 't.state': 'open' })
        .orderBy('t.created_at', 'desc')
        .select('t.document_id as documentId', 'd.title', 't.step_name as stepName', 't.assignee as delegateId', 'u.name as delegateName', 't.created_at as createdAt'),
    ])
    return { actions, open }
  }

  private async one(trx: Knex.Transaction | Knex, p: Principal, id: string | number) {
    return trx('delegations as g')
      .join('users as a', 'a.id', 'g.delegator_id')
      .join('users as b', 'b.id', 'g.delegate_id')
      .where({ 'g.id': id, 'g.unit_id': p.unitId })
      .first(columns(this.knex))
  }
}

function day(d: Date | string): string {
  if (typeof d === 'string') return d.slice(0, 10)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`
}
