// A unit admin keeps the unit's departments and people (with their roles and passwords), unlocks
// a locked account and revokes a person's login tokens; every read and change stays inside the
// admin's unit.
import { randomUUID } from 'node:crypto'
import bcrypt from 'bcryptjs'
import type { Knex } from 'knex'
import { fail } from '../errors.ts'
import { roleLabels } from '../labels.ts'
import type { LoginContext } from './org.ts'
import type { Principal } from './principal.ts'
import { checkPassword } from './unit-settings.ts'

/** Roles a person may hold, with their names in the UI. */
export const roleNames: Record<string, string> = roleLabels

export interface PersonInput {
  username: string
  name: string
  departmentId: string
  password: string
  roles: string[]
}

export class OrgAdmin {
  constructor(private readonly knex: Knex) {}

  async departments(p: Principal) {
    admin(p)
    return this.knex('departments as d')
      .where('d.unit_id', p.unitId)
      .orderBy('d.name')
      .select('d.id', 'd.name', this.knex.raw('(select count(*)::int from users u where u.department_id = d.id) as "peopleCount"'))
  }

  async addDepartment(p: Principal, name: string) {
    admin(p)
    await this.freeName(p, name)
    const id = `${p.unitId}-${randomUUID().slice(0, 8)}`
    await this.knex('departments').insert({ id, unit_id: p.unitId, name })
    return { id, name, peopleCount: 0 }
  }

  async renameDepartment(p: Principal, id: string, name: string) {
    admin(p)
    await this.department(p, id)
    await this.freeName(p, name, id)
    await this.knex('departments').where({ id, unit_id: p.unitId }).update({ name })
    return (await this.departments(p)).find((d) => d.id === id)
  }

  async people(p: Principal, id?: string) {
    admin(p)
    const q = this.knex('users as u')
      .leftJoin('departments as d', 'd.id', 'u.department_id')
      .where('u.unit_id', p.unitId)
      .orderBy('u.username')
      .select(
        'u.id', 'u.username', 'u.name', 'u.department_id as departmentId', 'd.name as department',
        this.knex.raw(`coalesce((select array_agg(role order by role) from user_roles r where r.user_id = u.id), '{}') as roles`),
        this.knex.raw('exists (select 1 from api_keys k where k.user_id = u.id) as integrator'),
        this.knex.raw('case when u.locked_until > now() then u.locked_until end as "lockedUntil"'),
      )
    if (id) q.where('u.id', id)
    // The platform administrator's account is the platform's, not the unit's to change.
    q.whereNotExists(platformRole(this.knex, 'u.id'))
    return q
  }

  async addPerson(p: Principal, input: PersonInput) {
    admin(p)
    checkRoles(input.roles)
    await this.department(p, input.departmentId, 'departmentId')
    await checkPassword(this.knex, p.unitId, input.password, 'password')
    // Usernames are global (they log in without naming a unit), and a person's id is the username.
    const taken = await this.knex('users').where({ username: input.username }).orWhere({ id: input.username }).first('id')
    if (taken) throw fail('VALIDATION', '该用户名已被使用', [{ field: 'username', message: `用户名“${input.username}”已被使用，请换一个` }])
    const hash = await bcrypt.hash(input.password, 10)
    await this.knex.transaction(async (trx) => {
      await trx('users').insert({ id: input.username, unit_id: p.unitId, department_id: input.departmentId, username: input.username, name: input.name, password_hash: hash })
      if (input.roles.length) await trx('user_roles').insert([...new Set(input.roles)].map((role) => ({ user_id: input.username, role })))
    })
    return (await this.people(p, input.username))[0]
  }

  /**
   * Changes name, department, roles (the whole list) or password; absent fields stay. A new
   * password also unlocks the account and revokes every login token the person holds.
   */
  async updatePerson(p: Principal, id: string, input: Partial<Omit<PersonInput, 'username'>>, ctx?: LoginContext) {
    admin(p)
    const [person] = await this.people(p, id)
    if (!person) throw fail('NOT_FOUND', '未找到该人员')
    if (input.roles) {
      checkRoles(input.roles)
      if (id === p.userId && !input.roles.includes('unit_admin')) {
        throw fail('VALIDATION', '不能取消自己的单位管理员角色', [{ field: 'roles', message: '请由本单位另一位单位管理员办理' }])
      }
    }
    if (input.departmentId) await this.department(p, input.departmentId, 'departmentId')
    if (input.password && person.integrator) throw fail('VALIDATION', '接口账号不能设置密码', [{ field: 'password', message: '接口账号用 API 密钥访问，不能登录' }])
    if (input.password) await checkPassword(this.knex, p.unitId, input.password, 'password')
    const hash = input.password ? await bcrypt.hash(input.password, 10) : null
    await this.knex.transaction(async (trx) => {
      const patch: Record<string, unknown> = {}
      if (input.name) patch.name = input.name
      if (input.departmentId) patch.department_id = input.departmentId
      if (hash) Object.assign(patch, { password_hash: hash, failed_logins: 0, locked_until: null, token_version: trx.raw('token_version + 1') })
      if (Object.keys(patch).length) await trx('users').where({ id, unit_id: p.unitId }).update(patch)
      if (input.roles) {
        await trx('user_roles').where({ user_id: id }).delete()
        if (input.roles.length) await trx('user_roles').insert([...new Set(input.roles)].map((role) => ({ user_id: id, role })))
      }
    })
    if (hash) ctx?.log.info({ userId: id, ip: ctx.ip, reason: 'password-set-by-admin', by: p.userId }, 'sessions revoked')
    return (await this.people(p, id))[0]
  }

  /** Unlocks an account locked by failed logins (its count starts again). */
  async unlock(p: Principal, id: string, ctx: LoginContext) {
    admin(p)
    const [row] = await this.knex('users').where({ id, unit_id: p.unitId }).whereNotExists(platformRole(this.knex, 'users.id')).update({ failed_logins: 0, locked_until: null }, ['id'])
    if (!row) throw fail('NOT_FOUND', '未找到该人员')
    ctx.log.info({ userId: id, ip: ctx.ip, reason: 'unlocked-by-admin', by: p.userId }, 'account unlocked')
    return (await this.people(p, id))[0]
  }

  /** Revokes every login token the person holds: they must log in again. */
  async revokeSessions(p: Principal, id: string, ctx: LoginContext) {
    admin(p)
    const [row] = await this.knex('users').where({ id, unit_id: p.unitId }).whereNotExists(platformRole(this.knex, 'users.id')).update({ token_version: this.knex.raw('token_version + 1') }, ['id'])
    if (!row) throw fail('NOT_FOUND', '未找到该人员')
    ctx.log.info({ userId: id, ip: ctx.ip, reason: 'revoked-by-admin', by: p.userId }, 'sessions revoked')
    return (await this.people(p, id))[0]
  }

  private async department(p: Principal, id: string, field?: string) {
    const row = await this.knex('departments').where({ id, unit_id: p.unitId }).first('id')
    if (row) return row
    if (field) throw fail('VALIDATION', '科室不存在', [{ field, message: `本单位没有编号为“${id}”的科室` }])
    throw fail('NOT_FOUND', '未找到该科室')
  }

  private async freeName(p: Principal, name: string, except?: string) {
    const q = this.knex('departments').where({ unit_id: p.unitId, name })
    if (except) q.whereNot({ id: except })
    if (await q.first('id')) throw fail('VALIDATION', '科室名称重复', [{ field: 'name', message: `本单位已有名为“${name}”的科室` }])
  }
}

function checkRoles(roles: string[]) {
  const unknown = roles.filter((r) => !roleNames[r])
  if (unknown.length) throw fail('VALIDATION', '角色不存在', unknown.map((r) => ({ field: 'roles', message: `没有“${r}”这个角色（可用：${Object.entries(roleNames).map(([k, v]) => `${v}（${k}）`).join('、')}）` })))
}

const platformRole = (knex: Knex, userColumn: string) => knex('user_roles as pr').select(knex.raw('1')).whereRaw(`pr.user_id = ${userColumn}`).andWhere('pr.role', 'platform_admin')

function admin(p: Principal) {
  if (!p.roles.includes('unit_admin')) throw fail('FORBIDDEN', '只有本单位的单位管理员可以管理科室和人员')
}
