// People and API keys: password login with its defences (a lockout per account, a limit of failed
// logins per client address), revoking a person's login tokens, resolving a caller to a Principal,
// the unit's directory.
import { createHash } from 'node:crypto'
import bcrypt from 'bcryptjs'
import type { Knex } from 'knex'
import type { LoginSettings } from '../config.ts'
import { AppError, fail } from '../errors.ts'
import type { Principal } from './principal.ts'
import { checkPassword } from './unit-settings.ts'

const DUMMY_HASH = bcrypt.hashSync('no such user', 10)

export const defaultLoginSettings: LoginSettings = { maxFailures: 5, lockSeconds: 15 * 60, addressMaxFailures: 30, addressWindowSeconds: 15 * 60 }

/** Who is logging in from where, and the request's logger (every outcome is logged). */
export interface LoginContext {
  ip: string
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void }
}

/** A refused login that may be tried again after `retryAfter` seconds (sent as Retry-After). */
export class LoginRefused extends AppError {
  constructor(code: 'ACCOUNT_LOCKED' | 'TOO_MANY_REQUESTS', message: string, readonly retryAfter: number) {
    super(code, message)
  }
}

/** A password login that succeeded: the person, and the token version their token must carry. */
export interface LoginResult {
  principal: Principal
  tokenVersion: number
}

const clock = new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
const dayOf = new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', month: 'numeric', day: 'numeric' })

/** 10:45, or 3月5日 10:45 when not today (Asia/Shanghai). */
function shortTime(at: Date): string {
  return dayOf.format(at) === dayOf.format(new Date()) ? clock.format(at) : `${dayOf.format(at)} ${clock.format(at)}`
}

const secondsUntil = (at: Date) => Math.max(1, Math.ceil((at.getTime() - Date.now()) / 1000))

export const hashApiKey = (key: string) => createHash('sha256').update(key).digest('hex')

export class Org {
  private lastSweep = 0

  constructor(
    private readonly knex: Knex,
    private readonly settings: LoginSettings = defaultLoginSettings,
  ) {}

  /**
   * Checks a password login. Each attempt is counted before its password is compared, so
   * concurrent attempts cannot outrun the limits: first against the client address (failed
   * attempts per window → 429), then against the account (consecutive failures → locked, 423,
   * even for the right password); a successful login takes both counts back.
   */
  async login(username: string, password: string, ctx: LoginContext): Promise<LoginResult> {
    const address = await this.countAddressAttempt(ctx)
    const { user, ok } = await this.attempt({ username }, password, ctx, 'login')
    if (!user || !ok) throw fail('LOGIN_FAILED')
    await this.knex('login_throttle').where({ key: address }).where('failures', '>', 0).decrement('failures', 1)
    return { principal: await this.principal(user.id, 'web', user.token_version), tokenVersion: user.token_version }
  }

  /**
   * A person changes their own password: the old one is checked like a login (a wrong one counts
   * towards the lockout), the new one against the unit's policy; every token they hold is revoked
   * and the new token version returned.
   */
  async changePassword(p: Principal, oldPassword: string, newPassword: string, ctx: LoginContext): Promise<number> {
    if (p.channel !== 'web') throw fail('FORBIDDEN', '接口账号用 API 密钥访问，没有登录密码')
    await checkPassword(this.knex, p.unitId, newPassword, 'newPassword')
    if (oldPassword === newPassword) throw fail('VALIDATION', '新密码不能与原密码相同', [{ field: 'newPassword', message: '新密码不能与原密码相同' }])
    const { user, ok } = await this.attempt({ id: p.userId }, oldPassword, ctx, 'password-change')
    if (!user || !ok) throw fail('VALIDATION', '原密码不正确', [{ field: 'oldPassword', message: '原密码不正确' }])
    const hash = await bcrypt.hash(newPassword, 10)
    const [row] = await this.knex('users').where({ id: p.userId }).update({ password_hash: hash, token_version: this.knex.raw('token_version + 1') }, ['token_version'])
    ctx.log.info({ userId: p.userId, ip: ctx.ip, reason: 'password-changed' }, 'sessions revoked')
    return row.token_version
  }

  /** Revokes every login token the person holds (logout, or an admin's revocation). */
  async revokeSessions(userId: string, reason: string, ctx: LoginContext & { by?: string }): Promise<void> {
    await this.knex('users').where({ id: userId }).increment('token_version', 1)
    ctx.log.info({ userId, ip: ctx.ip, reason, ...(ctx.by ? { by: ctx.by } : {}) }, 'sessions revoked')
  }

  /**
   * Counts one attempt on the account, then compares the password. A locked account is refused
   * (423) before its password is looked at; the attempt that reaches the limit locks it. The right
   * password clears the count. Accounts without a password (integrators) are never counted.
   */
  private async attempt(by: { username: string } | { id: string }, password: string, ctx: LoginContext, what: string) {
    const [column, value] = 'id' in by ? ['id', by.id] : ['username', by.username]
    const counted = await this.knex.raw(
      `update users set
         failed_logins = case when locked_until <= now() then 0 else failed_logins end + 1,
         locked_until = case when case when locked_until <= now() then 0 else failed_logins end + 1 >= :max
                          then now() + make_interval(secs => :lock) end
       where ${column} = :value and password_hash like '$2%' and (locked_until is null or locked_until <= now())
       returning id, failed_logins, locked_until, password_hash, token_version`,
      { value, max: this.settings.maxFailures, lock: this.settings.lockSeconds },
    )
    const user = counted.rows[0] as { id: string; failed_logins: number; locked_until: Date | null; password_hash: string; token_version: number } | undefined
    if (!user) {
      const locked = await this.knex('users').where(column, value).where('locked_until', '>', this.knex.fn.now()).first('id', 'locked_until')
      if (locked) {
        ctx.log.warn({ userId: locked.id, ip: ctx.ip, reason: 'locked', attempt: what }, 'login refused: account locked')
        throw this.lockedError(locked.locked_until)
      }
      // Unknown people cost the same time as known ones.
      await bcrypt.compare(password, DUMMY_HASH)
      ctx.log.info({ username: value, ip: ctx.ip, reason: 'unknown-user', attempt: what }, 'login failed')
      return { user: null, ok: false }
    }
    if (await bcrypt.compare(password, user.password_hash)) {
      await this.knex('users').where({ id: user.id }).update({ failed_logins: 0, locked_until: null })
      return { user, ok: true }
    }
    if (user.locked_until) {
      ctx.log.warn({ userId: user.id, ip: ctx.ip, reason: 'too-many-failures', failures: user.failed_logins, lockedUntil: user.locked_until, attempt: what }, 'account locked')
      throw this.lockedError(user.locked_until)
    }
    ctx.log.info({ userId: user.id, ip: ctx.ip, reason: 'wrong-password', failures: user.failed_logins, attempt: what }, 'login failed')
    return { user, ok: false }
  }

  private lockedError(until: Date): LoginRefused {
    return new LoginRefused('ACCOUNT_LOCKED', `账号因连续 ${this.settings.maxFailures} 次密码错误已锁定，至 ${shortTime(until)} 自动解锁，或请单位管理员解锁`, secondsUntil(until))
  }

  /**
   * Counts one attempt from the client address in its current window (429 beyond the limit) and
   * returns the counter's key, for a successful login to take its count back.
   */
  private async countAddressAttempt(ctx: LoginContext): Promise<string> {
    const { addressMaxFailures: max, addressWindowSeconds: window } = this.settings
    const key = `ip:${ctx.ip}`
    const result = await this.knex.raw(
      `insert into login_throttle (key, window_start, failures) values (:key, now(), 1)
       on conflict (key) do update set
         window_start = case when login_throttle.window_start <= now() - make_interval(secs => :window) then now() else login_throttle.window_start end,
         failures = case when login_throttle.window_start <= now() - make_interval(secs => :window) then 1 else login_throttle.failures + 1 end
       returning window_start, failures`,
      { key, window },
    )
    const row = result.rows[0] as { window_start: Date; failures: number }
    await this.sweep(window)
    if (row.failures > max) {
      const until = new Date(row.window_start.getTime() + window * 1000)
      ctx.log.warn({ ip: ctx.ip, reason: 'address-limit', failures: row.failures }, 'login refused: too many failed logins from this address')
      throw new LoginRefused('TOO_MANY_REQUESTS', `此地址登录失败次数过多，请于 ${shortTime(until)} 后再试`, secondsUntil(until))
    }
    return key
  }

  /** Drops the address counters of past windows, at most once a minute. */
  private async sweep(window: number) {
    if (Date.now() - this.lastSweep < 60_000) return
    this.lastSweep = Date.now()
    await this.knex.raw('delete from login_throttle where window_start < now() - make_interval(secs => ?)', [window])
  }

  /**
   * The caller as a Principal. A login token's person is looked up together with the token
   * version it carries: a token of an older version (revoked) finds no one.
   */
  async principal(userId: string, channel: 'web' | 'api', tokenVersion?: number): Promise<Principal> {
    const q = this.knex('users').where({ id: userId })
    if (tokenVersion !== undefined) q.where({ token_version: tokenVersion })
    const user = await q.first('id', 'unit_id', 'name', 'department_id')
    if (!user) throw fail('UNAUTHENTICATED', tokenVersion === undefined ? undefined : '登录已失效，请重新登录')
    const held = (await this.knex('user_roles').where({ user_id: userId }).select('role')).map((r) => r.role as string)
    // A role also counts within the person's department (dept_head@<department>), so a flow can
    // offer a step to the head of the department a handler picked.
    const roles = user.department_id ? [...held, ...held.map((r) => `${r}@${user.department_id}`)] : held
    return { userId: user.id, unitId: user.unit_id, departmentId: user.department_id ?? null, name: user.name, roles, channel }
  }

  /**
   * The integrator calling with this key, with the key's scopes. Only the key's sha256 is stored
   * and the row is found by it (a unique index), so no secret is ever compared byte by byte; a
   * rotated secret finds no row, nor does a revoked key. Last use is noted at most once a minute.
   */
  async fromApiKey(key: string): Promise<Principal> {
    const row = await this.knex('api_keys').where({ key_hash: hashApiKey(key) }).whereNull('revoked_at')
      .first('id', 'name', 'user_id', 'unit_id', 'scopes', 'last_used_at')
    if (!row) throw fail('UNAUTHENTICATED', 'API 密钥无效或已吊销')
    if (!row.last_used_at || Date.now() - new Date(row.last_used_at).getTime() > 60_000) {
      await this.knex('api_keys').where({ id: row.id }).update({ last_used_at: this.knex.fn.now() })
    }
    const p = await this.principal(row.user_id, 'api')
    return { ...p, unitId: row.unit_id, apiKey: { id: row.id, name: row.name, scopes: row.scopes } }
  }

  async people(p: Principal, role: string | undefined, id?: string) {
    const q = this.knex('users as u')
      .leftJoin('departments as d', 'd.id', 'u.department_id')
      .where('u.unit_id', p.unitId)
      .orderBy('u.name')
      .select('u.id', 'u.name', 'd.name as department', this.knex.raw('coalesce((select array_agg(role order by role) from user_roles r where r.user_id = u.id), \'{}\') as roles'))
    if (id) q.where('u.id', id)
    if (role) q.whereExists((s) => s.select(this.knex.raw('1')).from('user_roles as r').whereRaw('r.user_id = u.id').andWhere('r.role', role))
    return q
  }

  async person(p: Principal, id: string) {
    const [person] = await this.people(p, undefined, id)
    if (!person) throw fail('NOT_FOUND', '未找到该人员')
    return person
  }

  async departments(p: Principal) {
    return this.knex('departments').where({ unit_id: p.unitId }).orderBy('id').select('id', 'name')
  }

  async units() {
    return this.knex('units').orderBy('id').select('id', 'name', 'level', 'parent_id as parentId', 'active')
  }
}
