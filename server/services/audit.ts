// 行为审计: appends entries to the unit's hash chain, lists and exports a unit's trail for its
// admin, and verifies the chain: an entry edited or deleted by hand breaks it where it happened.
import { createHash } from 'node:crypto'
import type { Knex } from 'knex'
import { fail } from '../errors.ts'
import { actionLabel, channelLabel } from '../labels.ts'
import type { Principal } from './principal.ts'

export const PLATFORM_CHAIN = '_platform'
const GENESIS = '0'.repeat(64)

export interface AuditEntry {
  /** The unit whose trail it belongs to; null for what belongs to no unit. */
  unitId: string | null
  actorId: string | null
  actorName: string | null
  channel: string | null
  ip: string | null
  action: string
  target: string | null
  status: number
  detail: Record<string, unknown> | null
}

interface Row {
  id: string
  chain: string
  at: Date
  actor_id: string | null
  actor_name: string | null
  channel: string | null
  ip: string | null
  action: string
  target: string | null
  status: number
  detail: Record<string, unknown> | null
  prev_hash: string
  hash: string
}

export interface AuditQuery {
  actor?: string
  action?: string
  from?: string
  to?: string
  limit?: number
  offset?: number
}

/** JSON with object keys sorted at every level: the same text whatever order jsonb gives back. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(value ?? null)
}

/** The hash of an entry: what it says, and the hash of the entry before it. */
function hashOf(prev: string, e: Omit<Row, 'id' | 'prev_hash' | 'hash'>): string {
  const body = canonical({
    chain: e.chain, at: e.at.toISOString(), actor_id: e.actor_id, actor_name: e.actor_name, channel: e.channel,
    ip: e.ip, action: e.action, target: e.target, status: e.status, detail: e.detail,
  })
  return createHash('sha256').update(prev).update('\n').update(body).digest('hex')
}

export class Audit {
  constructor(private readonly knex: Knex) {}

  /** Appends an entry to its unit's chain; entries of one unit are chained in commit order. */
  async record(entry: AuditEntry): Promise<void> {
    const chain = entry.unitId ?? PLATFORM_CHAIN
    await this.knex.transaction(async (trx) => {
      await trx('audit_heads').insert({ chain, hash: GENESIS }).onConflict('chain').ignore()
      const head = await trx('audit_heads').where({ chain }).forUpdate().first('hash')
      const row = {
        chain, at: new Date(), actor_id: entry.actorId, actor_name: entry.actorName, channel: entry.channel, ip: entry.ip,
        action: entry.action, target: entry.target, status: entry.status, detail: entry.detail,
      }
      const hash = hashOf(head.hash, row)
      const [{ id }] = await trx('audit_log').insert({ ...row, detail: row.detail === null ? null : JSON.stringify(row.detail), prev_hash: head.hash, hash }).returning('id')
      await trx('audit_heads').where({ chain }).update({ hash, last_id: id })
    })
  }

  /** The unit's trail, newest first, for its admin. */
  async list(p: Principal, q: AuditQuery) {
    requireAdmin(p)
    const base = this.knex('audit_log').where({ chain: p.unitId })
    if (q.actor) base.where((w) => w.where('actor_id', q.actor!).orWhere('actor_name', q.actor!))
    if (q.action) base.whereILike('action', `%${q.action}%`)
    if (q.from) base.where('at', '>=', `${q.from}T00:00:00+08:00`)
    if (q.to) base.where('at', '<', this.knex.raw(`?::timestamptz + interval '1 day'`, [`${q.to}T00:00:00+08:00`]))
    const [{ count }] = await base.clone().count({ count: '*' })
    const rows: Row[] = await base.orderBy('id', 'desc').limit(q.limit ?? 50).offset(q.offset ?? 0).select()
    return { total: Number(count), items: rows.map(view) }
  }

  /** The unit's whole trail as CSV (UTF-8 with a BOM, so spreadsheet programs read the Chinese). */
  async csv(p: Principal, q: AuditQuery): Promise<string> {
    requireAdmin(p)
    const { items } = await this.list(p, { ...q, limit: 100_000, offset: 0 })
    const cell = (v: unknown) => {
      const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)
      // Quoted always; a leading = + - @ is defused so a spreadsheet does not run it as a formula.
      return `"${(/^[=+\-@]/.test(s) ? `'${s}` : s).replace(/"/g, '""')}"`
    }
    const header = ['序号', '时间', '人员编号', '人员', '渠道', '来源地址', '操作', '操作名称', '对象', '结果', '详情', '哈希']
    const lines = items.map((e) => [e.id, e.at, e.actorId, e.actorName, e.channelName, e.ip, e.action, e.actionName, e.target, e.status, e.detail, e.hash].map(cell).join(','))
    return `\ufeff${[header.map(cell).join(','), ...lines].join('\r\n')}\r\n`
  }

  /** Walks the unit's chain from its first entry: the first entry whose hash or link does not hold. */
  async verify(p: Principal): Promise<{ intact: boolean; checked: number; brokenAt?: { id: string; reason: string } }> {
    requireAdmin(p)
    return this.verifyChain(p.unitId)
  }

  async verifyChain(chain: string) {
    // One snapshot for the entries and the chain's head: an entry appended meanwhile is not a break.
    return this.knex.transaction(async (trx) => {
      await trx.raw('set transaction isolation level repeatable read, read only')
      let prev = GENESIS
      let checked = 0
      let lastId: string | null = null
      for (;;) {
        const rows: Row[] = await trx('audit_log').where({ chain }).andWhere('id', '>', lastId ?? '0').orderBy('id').limit(1000).select()
        if (!rows.length) break
        for (const r of rows) {
          if (r.prev_hash !== prev) return { intact: false, checked, brokenAt: { id: String(r.id), reason: '前一条记录已被删除或修改（链接不符）' } }
          if (hashOf(r.prev_hash, r) !== r.hash) return { intact: false, checked, brokenAt: { id: String(r.id), reason: '此条记录的内容已被修改（哈希不符）' } }
          prev = r.hash
          lastId = String(r.id)
          checked++
        }
      }
      const head = await trx('audit_heads').where({ chain }).first('hash', 'last_id')
      if (head && (head.hash !== prev || String(head.last_id ?? '') !== String(lastId ?? ''))) {
        return { intact: false, checked, brokenAt: { id: String(head.last_id), reason: '最后的记录已被删除（链尾不符）' } }
      }
      return { intact: true, checked }
    })
  }
}

function requireAdmin(p: Principal) {
  if (p.channel !== 'web' || !p.roles.includes('unit_admin')) throw fail('FORBIDDEN', '只有本单位的单位管理员可以查看行为审计')
}

function view(r: Row) {
  return {
    id: String(r.id), at: r.at.toISOString(), actorId: r.actor_id, actorName: r.actor_name, channel: r.channel, ip: r.ip,
    action: r.action, target: r.target, status: r.status, detail: r.detail, hash: r.hash,
    // What a person reads beside the codes.
    actionName: actionLabel(r.action), channelName: r.channel ? channelLabel(r.channel) : null,
  }
}
