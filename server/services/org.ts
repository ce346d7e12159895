// People and API keys: password login, resolving a caller to a Principal, the unit's directory.
import { createHash } from 'node:crypto'
import bcrypt from 'bcryptjs'
import type { Knex } from 'knex'
import { fail } from '../errors.ts'
import type { Principal } from './principal.ts'

const DUMMY_HASH = bcrypt.hashSync('no such user', 10)

export const hashApiKey = (key: string) => createHash('sha256').update(key).digest('hex')

export class Org {
  constructor(private readonly knex: Knex) {}

  async login(username: string, password: string): Promise<Principal> {
    const user = await this.knex('users').where({ username }).first()
    // Accounts without a password (integrators) cannot log in; unknown users cost the same time.
    const hash: string = user?.password_hash?.startsWith('$2') ? user.password_hash : DUMMY_HASH
    const ok = await bcrypt.compare(password, hash)
    if (!user || !ok || hash === DUMMY_HASH) throw fail('LOGIN_FAILED')
    return this.principal(user.id, 'web')
  }

  async principal(userId: string, channel: 'web' | 'api'): Promise<Principal> {
    const user = await this.knex('users').where({ id: userId }).first('id', 'unit_id', 'name', 'department_id')
    if (!user) throw fail('UNAUTHENTICATED')
    const held = (await this.knex('user_roles').where({ user_id: userId }).select('role')).map((r) => r.role as string)
    // A role also counts within the person's department (dept_head@<department>), so a flow can
    // offer a step to the head of the department a handler picked.
    const roles = user.department_id ? [...held, ...held.map((r) => `${r}@${user.department_id}`)] : held
    return { userId: user.id, unitId: user.unit_id, departmentId: user.department_id ?? null, name: user.name, roles, channel }
  }

  async fromApiKey(key: string): Promise<Principal> {
    const row = await this.knex('api_keys').where({ key_hash: hashApiKey(key) }).first('user_id', 'unit_id')
    if (!row) throw fail('UNAUTHENTICATED', 'API 密钥无效')
    const p = await this.principal(row.user_id, 'api')
    return { ...p, unitId: row.unit_id }
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
    return this.knex('units').orderBy('id').select('id', 'name')
  }
}
