// Integrators' API keys: a unit admin creates, lists, changes, rotates and revokes the unit's keys,
// each with its scopes (api-scopes.ts) and an account of its own that it acts as. The secret is
// shown once, when made; only its sha256 is stored. A key acts only on documents it started.
import { randomBytes, randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import { isApiScope, type ApiScope } from '../api-scopes.ts'
import { fail } from '../errors.ts'
import { hashApiKey, type LoginContext } from './org.ts'
import type { Principal } from './principal.ts'

/** How a key looks in lists: never its secret, only its first characters. */
export interface ApiKeyView {
  id: string
  name: string
  prefix: string | null
  scopes: ApiScope[]
  accountId: string
  accountName: string
  createdAt: string
  createdBy: string | null
  lastUsedAt: string | null
  rotatedAt: string | null
  revokedAt: string | null
  revokedBy: string | null
}

/** A new secret: gw_ and 32 random bytes; its prefix is what lists show. */
export function newSecret(): { secret: string; prefix: string; hash: string } {
  const secret = `gw_${randomBytes(32).toString('base64url')}`
  return { secret, prefix: secret.slice(0, 10), hash: hashApiKey(secret) }
}

export class ApiKeys {
  constructor(private readonly knex: Knex) {}

  async list(p: Principal, id?: string): Promise<ApiKeyView[]> {
    admin(p)
    const q = this.knex('api_keys as k')
      .join('users as u', 'u.id', 'k.user_id')
      .leftJoin('users as c', 'c.id', 'k.created_by')
      .leftJoin('users as r', 'r.id', 'k.revoked_by')
      .where('k.unit_id', p.unitId)
      .orderBy([{ column: 'k.revoked_at', order: 'desc', nulls: 'first' }, { column: 'k.created_at', order: 'desc' }])
      .select(
        'k.id', 'k.name', 'k.prefix', 'k.scopes', 'k.user_id as accountId', 'u.name as accountName', 'k.created_at as createdAt', 'c.name as createdBy',
        'k.last_used_at as lastUsedAt', 'k.rotated_at as rotatedAt', 'k.revoked_at as revokedAt', 'r.name as revokedBy',
      )
    if (id) q.where('k.id', id)
    return q
  }

  /** Makes a key with its own integrator account (role drafter, no password); answers its secret once. */
  async create(p: Principal, input: { name: string; scopes: string[] }, ctx: LoginContext) {
    admin(p)
    const scopes = checkScopes(input.scopes)
    const id = randomUUID()
    const account = `${p.unitId}-key-${id.slice(0, 8)}`
    const { secret, prefix, hash } = newSecret()
    await this.knex.transaction(async (trx) => {
      await trx('users').insert({ id: account, unit_id: p.unitId, username: account, name: `接口：${input.name}`.slice(0, 50), password_hash: '!' })
      await trx('user_roles').insert({ user_id: account, role: 'drafter' })
      await trx('api_keys').insert({ id, unit_id: p.unitId, user_id: account, name: input.name, key_hash: hash, prefix, scopes, created_by: p.userId })
    })
    ctx.log.info({ keyId: id, prefix, unitId: p.unitId, accountId: account, scopes, by: p.userId, ip: ctx.ip }, 'api key created')
    return { ...(await this.one(p, id)), secret }
  }

  /** Renames a key or replaces its scopes; a revoked key stays revoked. */
  async update(p: Principal, id: string, input: { name?: string; scopes?: string[] }, ctx: LoginContext) {
    const before = await this.one(p, id)
    const patch: Record<string, unknown> = {}
    if (input.name !== undefined) patch.name = input.name
    if (input.scopes !== undefined) patch.scopes = checkScopes(input.scopes)
    await this.knex('api_keys').where({ id, unit_id: p.unitId }).update(patch)
    ctx.log.info({ keyId: id, unitId: p.unitId, scopes: patch.scopes ?? before.scopes, before: before.scopes, name: input.name, by: p.userId, ip: ctx.ip }, 'api key changed')
    return this.one(p, id)
  }

  /** A new secret for the key: the old one stops working at once (on every node, nothing is cached). */
  async rotate(p: Principal, id: string, ctx: LoginContext) {
    const key = await this.one(p, id)
    if (key.revokedAt) throw fail('CONFLICT', '该密钥已吊销，不能轮换；请新建密钥', [{ field: 'id', message: '密钥已吊销' }])
    const { secret, prefix, hash } = newSecret()
    const [row] = await this.knex('api_keys').where({ id, unit_id: p.unitId }).whereNull('revoked_at')
      .update({ key_hash: hash, prefix, rotated_at: this.knex.fn.now(), rotated_by: p.userId }, ['id'])
    if (!row) throw fail('CONFLICT', '该密钥已吊销，不能轮换；请新建密钥', [{ field: 'id', message: '密钥已吊销' }])
    ctx.log.info({ keyId: id, prefix, previousPrefix: key.prefix, unitId: p.unitId, by: p.userId, ip: ctx.ip }, 'api key rotated')
    return { ...(await this.one(p, id)), secret }
  }

  /** Revokes the key for good: it answers 401 from now on. Revoking it again changes nothing. */
  async revoke(p: Principal, id: string, ctx: LoginContext) {
    await this.one(p, id)
    const [row] = await this.knex('api_keys').where({ id, unit_id: p.unitId }).whereNull('revoked_at')
      .update({ revoked_at: this.knex.fn.now(), revoked_by: p.userId }, ['id', 'prefix'])
    if (row) ctx.log.info({ keyId: id, prefix: row.prefix, unitId: p.unitId, by: p.userId, ip: ctx.ip }, 'api key revoked')
    return this.one(p, id)
  }

  private async one(p: Principal, id: string) {
    const [key] = await this.list(p, id)
    if (!key) throw fail('NOT_FOUND', '未找到该 API 密钥')
    return key
  }

  /**
   * A key acts only on documents it started (its own account created them): a document or task
   * of another unit, or none at all, is 404; one of its unit that another started is 403.
   */
  async checkActsOn(p: Principal, on: { documents?: string[]; task?: string }): Promise<void> {
    const ids = new Set(on.documents ?? [])
    if (on.task) {
      const task = await this.knex('tasks').where({ task_key: on.task, unit_id: p.unitId }).first('document_id')
      if (!task?.document_id) throw fail('NOT_FOUND', '未找到该待办')
      ids.add(task.document_id)
    }
    if (!ids.size) return
    if ([...ids].some((id) => !uuid.test(id))) throw fail('NOT_FOUND', '未找到该公文')
    const docs = await this.knex('documents').whereIn('id', [...ids]).where({ unit_id: p.unitId }).select('id', 'created_by')
    if (docs.length < ids.size) throw fail('NOT_FOUND', '未找到该公文')
    if (docs.some((d) => d.created_by !== p.userId)) throw fail('FORBIDDEN', '此 API 密钥只能办理它自己发起的公文')
  }
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function checkScopes(scopes: string[]): ApiScope[] {
  const unknown = scopes.filter((s) => !isApiScope(s))
  if (unknown.length) throw fail('VALIDATION', '权限不存在', unknown.map((s) => ({ field: 'scopes', message: `没有“${s}”这个权限` })))
  return [...new Set(scopes)] as ApiScope[]
}

function admin(p: Principal) {
  if (!p.roles.includes('unit_admin') || p.channel !== 'web') throw fail('FORBIDDEN', '只有本单位的单位管理员可以管理 API 密钥')
}
