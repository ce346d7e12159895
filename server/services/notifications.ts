// Notifications: queue them for a task's handlers (in-app row + outbox rows, deduplicated), 催办,
// the in-app list, and the unit's channel settings and people's phones. Delivery is OutboxWorker's.
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import { fail } from '../errors.ts'
import { channels } from '../notify/index.ts'
import { notificationText, type NotificationKind } from '../notify/messages.ts'
import { Outbound, type OutboundPolicy } from '../notify/outbound.ts'
import { OutboxWorker } from '../notify/outbox-worker.ts'
import type { Principal } from './principal.ts'
import { defaultRetryPolicy, type RetryPolicy } from './recovery.ts'

export type { NotificationKind } from '../notify/messages.ts'

/** Roles that may 催办 a task of their unit. */
const URGERS = ['registry', 'unit_admin', 'leader']
const URGE_INTERVAL_MS = 10 * 60 * 1000

const listColumns = ['id', 'kind', 'task_key as taskKey', 'document_id as documentId', 'title', 'step_name as stepName', 'text', 'created_at as createdAt', 'read_at as readAt']

export class Notifications {
  private readonly worker: OutboxWorker
  /** The guard every outbound call goes through; also checks addresses when they are saved. */
  readonly outbound: Outbound

  constructor(
    private readonly knex: Knex,
    private readonly log: Logger,
    retry: RetryPolicy = defaultRetryPolicy,
    /** OUTBOUND_ALLOW_HTTP and OUTBOUND_ALLOW; by default public https:// addresses only. */
    outbound: OutboundPolicy = { allowHttp: false, allow: [] },
  ) {
    const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
    this.outbound = new Outbound(outbound)
    this.worker = new OutboxWorker(knex, log.child({ component: 'notifications' }), channels, {
      pollMs: env('NOTIFY_POLL_MS', 500),
      batch: env('NOTIFY_BATCH', 10),
      timeoutMs: env('NOTIFY_TIMEOUT_MS', 10_000),
      retryBaseMs: env('NOTIFY_RETRY_BASE_MS', retry.baseMs),
      maxAttempts: env('NOTIFY_MAX_ATTEMPTS', retry.maxAttempts),
      maxDelayMs: retry.maxDelayMs,
    }, this.outbound)
  }

  start(): void {
    this.worker.start()
  }

  async stop(): Promise<void> {
    await this.worker.stop()
  }

  /**
   * Queues one notification per task and kind for the people who may act on the task: its assignee,
   * or everyone of the task's unit holding its role (role@department: of that department). Writes
   * the in-app row and one outbox row per external channel set up for the person, in `db`'s
   * transaction. Returns false when nothing new was queued (already queued, task no longer open,
   * nobody to tell). Throws when the task is not in the inbox yet, so a job worker fails and retries.
   */
  async enqueueForTask(db: Knex | Knex.Transaction, taskKey: string, kind: NotificationKind, text?: string): Promise<boolean> {
    return (await this.queue(db, taskKey, kind, text)) > 0
  }

  /** The queueing itself; `round` tells repeated 催办 of one task apart. Returns how many people were newly notified. */
  private async queue(db: Knex | Knex.Transaction, taskKey: string, kind: NotificationKind, note?: string, round?: string): Promise<number> {
    // On a transaction this is a savepoint, so the caller's transaction decides the commit.
    return db.transaction(async (trx) => {
      const task = await trx('tasks as t')
        .join('documents as d', 'd.id', 't.document_id')
        .where('t.task_key', taskKey)
        .first('t.state', 't.assignee', 't.candidate_role', 't.step_name', 't.deadline', 'd.id as document_id', 'd.title', trx.raw('coalesce(t.unit_id, d.unit_id) as unit_id'))
      if (!task) throw new Error(`task ${taskKey} is not in the inbox yet`)
      if (task.state !== 'open') {
        this.log.info({ taskKey, kind, state: task.state }, 'no notification: the task is no longer open')
        return 0
      }
      const people = await handlers(trx, task)
      if (people.length === 0) this.log.warn({ taskKey, kind }, 'no notification: nobody can act on the task')
      const text = notificationText(kind, { title: task.title, stepName: task.step_name, deadline: task.deadline }, note)
      const message = { kind, unitId: task.unit_id, taskKey, documentId: task.document_id, title: task.title, stepName: task.step_name, text }
      const queued = await this.deliver(trx, message, people, (person) => `${kind}:${taskKey}${round ? `#${round}` : ''}:${person.id}`)
      if (queued > 0) this.log.info({ taskKey, kind, round, people: queued }, 'notifications queued')
      return queued
    })
  }

  /**
   * Queues a notification that is not about an open task (传阅, 督办) for people of `unitId`: the
   * in-app row and the outbox rows, once per `dedupKey(userId)`. `ref` stands where a task key
   * would (e.g. circulation:<id>). Returns how many people were newly notified.
   */
  async enqueueFor(
    db: Knex | Knex.Transaction,
    input: { unitId: string; userIds: string[]; kind: string; ref: string; documentId: string; title: string; stepName: string; text: string },
    dedupKey: (userId: string) => string,
  ): Promise<number> {
    if (input.userIds.length === 0) return 0
    return db.transaction(async (trx) => {
      const people = await trx('users').where({ unit_id: input.unitId }).whereIn('id', input.userIds).orderBy('id').select('id', 'name', 'phone')
      const message = { kind: input.kind, unitId: input.unitId, taskKey: input.ref, documentId: input.documentId, title: input.title, stepName: input.stepName, text: input.text }
      const queued = await this.deliver(trx, message, people, (person) => dedupKey(person.id))
      if (queued > 0) this.log.info({ ref: input.ref, kind: input.kind, people: queued }, 'notifications queued')
      return queued
    })
  }

  /** Writes one in-app row per person (skipping keys already queued) and its outbox rows; returns how many were new. */
  private async deliver(
    trx: Knex.Transaction,
    m: { kind: string; unitId: string; taskKey: string; documentId: string; title: string; stepName: string; text: string },
    people: Array<{ id: string; name: string; phone: string | null }>,
    keyOf: (person: { id: string }) => string,
  ): Promise<number> {
    const unit = await trx('units').where({ id: m.unitId }).first('webhook_url', 'sms_gateway_url')
    let queued = 0
    for (const person of people) {
      const key = keyOf(person)
      const [row] = await trx('notifications')
        .insert({ dedup_key: key, unit_id: m.unitId, user_id: person.id, kind: m.kind, task_key: m.taskKey, document_id: m.documentId, title: m.title, step_name: m.stepName, text: m.text })
        .onConflict('dedup_key')
        .ignore()
        .returning(['id', 'created_at'])
      if (!row) continue
      queued++
      const message = { ...m, recipient: { id: person.id, name: person.name }, createdAt: new Date(row.created_at).toISOString() }
      const reach = { unit: { webhookUrl: unit?.webhook_url ?? null, smsGatewayUrl: unit?.sms_gateway_url ?? null }, person }
      const outbox = channels.flatMap((channel) => {
        const delivery = channel.prepare(message, reach)
        return delivery ? [{ dedup_key: `${key}:${channel.name}`, notification_id: row.id, channel: channel.name, target: delivery.target, payload: delivery.payload }] : []
      })
      if (outbox.length > 0) await trx('notification_outbox').insert(outbox).onConflict('dedup_key').ignore()
    }
    return queued
  }

  /** 催办: a registry clerk, unit admin or leader urges the handlers of an open task of their unit, at most once per 10 minutes. */
  async urge(p: Principal, taskKey: string) {
    if (!URGERS.some((r) => p.roles.includes(r))) throw fail('FORBIDDEN', '只有机要室（收发员）、单位管理员或领导可以催办')
    return this.recordUrge(p, taskKey)
  }

  /** 催办 by a caller whose right to urge was checked already (the operations view checks its own roles). */
  async recordUrge(p: Principal, taskKey: string) {
    return this.knex.transaction(async (trx) => {
      // The task row lock serialises concurrent 催办 of the same task.
      const task = await trx('tasks').where({ task_key: taskKey, unit_id: p.unitId, state: 'open' }).forUpdate().first('task_key')
      if (!task) throw fail('NOT_FOUND', '未找到该待办，或它已办理')
      // The database clock decides, so instances with skewed clocks agree.
      const { wait_ms: waitMs } = await trx('task_urges')
        .where({ task_key: taskKey })
        .first(trx.raw(`coalesce(extract(epoch from max(at) + ? * interval '1 millisecond' - now()) * 1000, 0)::float as wait_ms`, [URGE_INTERVAL_MS]))
      if (waitMs > 0) throw fail('TASK_CLOSED', `该待办 10 分钟内已催办过，请 ${Math.ceil(waitMs / 60_000)} 分钟后再试`)
      const [urge] = await trx('task_urges').insert({ task_key: taskKey, unit_id: p.unitId, urged_by: p.userId }).returning(['id', 'at'])
      const notified = await this.queue(trx, taskKey, 'urge', `催办人：${p.name}。`, String(urge.id))
      return { taskKey, urgedAt: urge.at, notified }
    })
  }

  /** My in-app notifications, newest first, with how many are unread. */
  async list(p: Principal, page: { limit: number; offset: number }) {
    const mine = this.knex('notifications').where({ user_id: p.userId, unit_id: p.unitId })
    const [items, [counts]] = await Promise.all([
      mine.clone().select(listColumns).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(page.limit).offset(page.offset),
      mine.clone().select(this.knex.raw('count(*)::int as total'), this.knex.raw('(count(*) filter (where read_at is null))::int as unread')),
    ])
    return { total: counts.total as number, unread: counts.unread as number, items }
  }

  async markRead(p: Principal, id: string) {
    const mine = { id, user_id: p.userId, unit_id: p.unitId }
    await this.knex('notifications').where(mine).whereNull('read_at').update({ read_at: this.knex.fn.now() })
    const row = await this.knex('notifications').where(mine).first(listColumns)
    if (!row) throw fail('NOT_FOUND', '未找到该通知')
    return row
  }

  async settings(p: Principal) {
    requireUnitAdmin(p)
    const unit = await this.knex('units').where({ id: p.unitId }).first('webhook_url', 'sms_gateway_url')
    return { webhookUrl: unit.webhook_url, smsGatewayUrl: unit.sms_gateway_url }
  }

  /**
   * The unit admin sets (or clears with null) where the unit's notifications go. Each address must
   * be one the outbound guard lets the server call now: https:// (unless the operator allows
   * http://), and a host that resolves, to public addresses only (unless the operator allows it).
   * The guard checks again on every send.
   */
  async updateSettings(p: Principal, input: { webhookUrl: string | null; smsGatewayUrl: string | null }) {
    requireUnitAdmin(p)
    const fields = (['webhookUrl', 'smsGatewayUrl'] as const).filter((field) => input[field] !== null)
    const found = await Promise.all(fields.map(async (field) => {
      const url = input[field]!
      const problem = isHttpUrl(url) ? await this.outbound.problem(url) : '须为以 http:// 或 https:// 开头的完整网址'
      return problem ? [{ field, message: `${field}：${problem}` }] : []
    }))
    const problems = found.flat()
    if (problems.some((d) => d.message.includes('不允许向'))) {
      this.log.warn({ unitId: p.unitId, by: p.userId, problems }, 'notification settings refused: an internal address')
    }
    if (problems.length > 0) throw fail('VALIDATION', `通知设置不符合要求：${problems.map((d) => d.message).join('；')}`, problems)
    await this.knex('units').where({ id: p.unitId }).update({ webhook_url: input.webhookUrl, sms_gateway_url: input.smsGatewayUrl })
    this.log.info({ unitId: p.unitId, by: p.userId }, 'notification settings changed')
    return this.settings(p)
  }

  /** Sets (or clears with null or '') my mobile number for SMS notifications. */
  async setPhone(p: Principal, phone: string | null) {
    const normalised = phone ? phone.replace(/[\s-]/g, '').replace(/^(\+86|0086|86)(?=1\d{10}$)/, '') : null
    if (normalised !== null && !/^1[3-9]\d{9}$/.test(normalised)) {
      throw fail('VALIDATION', '手机号不符合要求：phone：须为 11 位中国大陆手机号码，如 13800000000', [{ field: 'phone', message: 'phone：须为 11 位中国大陆手机号码' }])
    }
    await this.knex('users').where({ id: p.userId, unit_id: p.unitId }).update({ phone: normalised })
    return { phone: normalised }
  }
}

/** Who may act on the task: its assignee, or its unit's holders of the role (of the department, for role@department). */
async function handlers(db: Knex.Transaction, task: { unit_id: string; assignee: string | null; candidate_role: string | null }) {
  const q = db('users as u').where('u.unit_id', task.unit_id).orderBy('u.id').select('u.id', 'u.name', 'u.phone')
  if (task.assignee) return q.where('u.id', task.assignee)
  if (!task.candidate_role) return []
  const [role, department] = task.candidate_role.split('@')
  q.whereExists((s) => s.select(db.raw('1')).from('user_roles as r').whereRaw('r.user_id = u.id').andWhere('r.role', role))
  if (department) q.where('u.department_id', department)
  return q
}

function requireUnitAdmin(p: Principal): void {
  if (!p.roles.includes('unit_admin')) throw fail('FORBIDDEN', '只有本单位的单位管理员可以查看和修改通知设置')
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value)
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== ''
  } catch {
    return false
  }
}
