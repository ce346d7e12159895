// The platform administrator keeps the organisation tree: creates units (each gets the shipped
// flows deployed under its tenant at once), renames or moves them, deactivates and merges them,
// and names each unit's admins. Only a logged-in platform admin may; everyone else gets 403.
import bcrypt from 'bcryptjs'
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import { fail, type FieldProblem } from '../errors.ts'
import type { Principal } from '../services/principal.ts'
import type { ProcessModels } from '../services/process-models.ts'
import { checkPassword } from '../services/unit-settings.ts'
import { creditCodeProblem } from './credit-code.ts'

export const levelNames: Record<string, string> = { city: '市', county: '区县', department: '部门', township: '乡镇' }
/** Which levels a unit of each level may sit under (null: at the top). */
const parentLevels: Record<string, Array<string | null>> = { city: [null], county: ['city'], department: ['city', 'county'], township: ['county'] }

export interface UnitInput {
  id: string
  name: string
  creditCode: string
  level: string
  parentId?: string | null
  docNumberPrefix: string
  sealName?: string
}

export type UnitPatch = Partial<Omit<UnitInput, 'id'>>

export const unitIdPattern = /^[a-z][a-z0-9-]{2,39}$/

export function platformAdmin(p: Principal) {
  if (p.apiKey || p.channel !== 'web' || !p.roles.includes('platform_admin')) throw fail('FORBIDDEN', '只有平台管理员可以管理单位')
}

type Row = { id: string; name: string; credit_code: string | null; level: string; parent_id: string | null; active: boolean; merged_into: string | null }

/**
 * Checks one unit as it would be after the change, against the units as they are (or would be,
 * during an import): every problem, each naming its field.
 */
export function unitProblems(u: UnitInput, others: Map<string, Row>, isNew: boolean): FieldProblem[] {
  const problems: FieldProblem[] = []
  if (isNew && !unitIdPattern.test(u.id)) problems.push({ field: 'id', message: '单位编号须为小写字母开头的 3–40 位小写字母、数字或 -' })
  if (isNew && others.has(u.id)) problems.push({ field: 'id', message: `单位编号“${u.id}”已被使用` })
  if (!u.name?.trim() || u.name.length > 100) problems.push({ field: 'name', message: '单位名称须为 1–100 个字' })
  const sameName = [...others.values()].find((o) => o.id !== u.id && o.name === u.name && o.active)
  if (sameName) problems.push({ field: 'name', message: `已有名为“${u.name}”的单位（${sameName.id}）` })
  const codeProblem = creditCodeProblem(u.creditCode ?? '')
  if (codeProblem) problems.push({ field: 'creditCode', message: codeProblem })
  const sameCode = [...others.values()].find((o) => o.id !== u.id && o.credit_code === u.creditCode)
  if (!codeProblem && sameCode) problems.push({ field: 'creditCode', message: `统一社会信用代码与“${sameCode.name}”重复` })
  if (!levelNames[u.level]) problems.push({ field: 'level', message: `层级须为 ${Object.entries(levelNames).map(([k, v]) => `${k}（${v}）`).join('、')}` })
  else {
    const parent = u.parentId ? others.get(u.parentId) : null
    if (u.parentId && !parent) problems.push({ field: 'parentId', message: `没有编号为“${u.parentId}”的上级单位` })
    else if (parent && !parent.active) problems.push({ field: 'parentId', message: `上级单位“${parent.name}”已停用` })
    else if (!parentLevels[u.level].includes(parent?.level ?? null)) {
      const allowed = parentLevels[u.level].map((l) => (l ? levelNames[l] : '无（顶级）')).join('或')
      problems.push({ field: 'parentId', message: `${levelNames[u.level]}级单位的上级须为${allowed}级单位` })
    }
    // A unit may not sit under itself or under one of its own descendants.
    for (let up = parent, n = 0; up && n < 100; up = up.parent_id ? others.get(up.parent_id) : undefined, n++) {
      if (up.id === u.id) {
        problems.push({ field: 'parentId', message: '上级单位不能是本单位或其下级单位' })
        break
      }
    }
  }
  if (!u.docNumberPrefix?.trim() || u.docNumberPrefix.length > 20) problems.push({ field: 'docNumberPrefix', message: '发文字号前缀须为 1–20 个字，如“柳政发”' })
  if (u.sealName !== undefined && (!u.sealName.trim() || u.sealName.length > 100)) problems.push({ field: 'sealName', message: '印章名称须为 1–100 个字' })
  return problems
}

export const unitRow = (u: UnitInput) => ({
  id: u.id, name: u.name.trim(), credit_code: u.creditCode, level: u.level, parent_id: u.parentId || null,
  doc_number_prefix: u.docNumberPrefix.trim(), seal_name: u.sealName?.trim() || `${u.name.trim()}印章`,
})

export class PlatformUnits {
  constructor(
    private readonly knex: Knex,
    private readonly models: ProcessModels,
    private readonly log: Logger,
  ) {}

  async all(db: Knex = this.knex): Promise<Map<string, Row>> {
    const rows: Row[] = await db('units').select('id', 'name', 'credit_code', 'level', 'parent_id', 'active', 'merged_into')
    return new Map(rows.map((r) => [r.id, r]))
  }

  /** Every unit, with its place in the tree, its state and its admins. */
  async list(p: Principal) {
    platformAdmin(p)
    return this.query()
  }

  private query() {
    return this.knex('units as u')
      .orderBy('u.id')
      .select(
        'u.id', 'u.name', 'u.credit_code as creditCode', 'u.level', 'u.parent_id as parentId', 'u.active', 'u.merged_into as mergedInto',
        'u.deactivated_at as deactivatedAt', 'u.doc_number_prefix as docNumberPrefix', 'u.seal_name as sealName',
        this.knex.raw('(select count(*)::int from users x where x.unit_id = u.id) as "peopleCount"'),
        this.knex.raw(`coalesce((select json_agg(json_build_object('id', x.id, 'name', x.name) order by x.id) from users x join user_roles r on r.user_id = x.id and r.role = 'unit_admin' where x.unit_id = u.id), '[]') as admins`),
      )
  }

  async one(id: string) {
    const row = await this.query().where('u.id', id).first()
    if (!row) throw fail('NOT_FOUND', '未找到该单位')
    return row
  }

  async create(p: Principal, input: UnitInput) {
    platformAdmin(p)
    const problems = unitProblems(input, await this.all(), true)
    if (problems.length) throw fail('VALIDATION', problems[0].message, problems)
    await this.knex('units').insert(unitRow(input))
    await this.deploy([input.id])
    this.log.info({ unit: input.id, by: p.userId }, 'unit created')
    return this.one(input.id)
  }

  /** Deploys the shipped flows under each new unit's tenant, so it can start and receive at once. */
  async deploy(ids: string[]) {
    for (let i = 0; i < ids.length; i += 4) await Promise.all(ids.slice(i, i + 4).map((id) => this.models.deployShipped(id)))
  }

  /** Renames, re-codes or moves a unit; absent fields stay. */
  async update(p: Principal, id: string, patch: UnitPatch) {
    platformAdmin(p)
    const all = await this.all()
    const cur = all.get(id)
    if (!cur) throw fail('NOT_FOUND', '未找到该单位')
    if (!cur.active) throw fail('CONFLICT', `${cur.name}已停用，不能修改`)
    const unit = await this.knex('units').where({ id }).first('doc_number_prefix', 'seal_name')
    const next: UnitInput = {
      id, name: patch.name ?? cur.name, creditCode: patch.creditCode ?? cur.credit_code ?? '', level: patch.level ?? cur.level,
      parentId: patch.parentId === undefined ? cur.parent_id : patch.parentId, docNumberPrefix: patch.docNumberPrefix ?? unit.doc_number_prefix, sealName: patch.sealName ?? unit.seal_name,
    }
    // A unit from before the tree may keep having no code until someone gives it one.
    const problems = unitProblems(next, all, false).filter((x) => !(x.field === 'creditCode' && patch.creditCode === undefined && !cur.credit_code))
    if (patch.level && patch.level !== cur.level) {
      const kids = [...all.values()].filter((u) => u.parent_id === id && u.active && !parentLevels[u.level].includes(patch.level!))
      if (kids.length) problems.push({ field: 'level', message: `下级单位${kids.map((k) => `“${k.name}”`).join('、')}不能隶属于${levelNames[patch.level]}级单位` })
    }
    if (problems.length) throw fail('VALIDATION', problems[0].message, problems)
    const row = unitRow(next)
    await this.knex('units').where({ id }).update({ name: row.name, credit_code: next.creditCode || null, level: row.level, parent_id: row.parent_id, doc_number_prefix: row.doc_number_prefix, seal_name: row.seal_name })
    this.log.info({ unit: id, by: p.userId, fields: Object.keys(patch) }, 'unit changed')
    return this.one(id)
  }

  /**
   * Deactivates a unit: its documents and history stay readable, its people can finish their open
   * work but start nothing new, and it receives no new 分发. Refused while it has active units under it.
   */
  async deactivate(p: Principal, id: string) {
    platformAdmin(p)
    const all = await this.all()
    const cur = all.get(id)
    if (!cur) throw fail('NOT_FOUND', '未找到该单位')
    if (!cur.active) throw fail('CONFLICT', `${cur.name}已停用`)
    const kids = [...all.values()].filter((u) => u.parent_id === id && u.active)
    if (kids.length) throw fail('CONFLICT', `${cur.name}下还有在用的单位（${kids.map((k) => k.name).join('、')}），请先停用、合并或移走它们`)
    await this.knex('units').where({ id }).update({ active: false, deactivated_at: this.knex.fn.now() })
    this.log.info({ unit: id, by: p.userId }, 'unit deactivated')
    return this.one(id)
  }

  /**
   * Merges unit A into B: A is deactivated and marked merged into B; A's active units move under B;
   * A's documents, history and people stay with A (readable; open work can be finished); 分发
   * chosen for A before the merge goes to B, and new 分发 naming A is refused, naming B.
   */
  async merge(p: Principal, id: string, into: string) {
    platformAdmin(p)
    const all = await this.all()
    const a = all.get(id)
    const b = all.get(into)
    if (!a) throw fail('NOT_FOUND', '未找到该单位')
    if (!a.active) throw fail('CONFLICT', `${a.name}已停用，不能再合并`)
    if (!b) throw fail('VALIDATION', '并入单位不存在', [{ field: 'into', message: `没有编号为“${into}”的单位` }])
    if (!b.active) throw fail('VALIDATION', '并入单位已停用', [{ field: 'into', message: `${b.name}已停用` }])
    if (a.id === b.id) throw fail('VALIDATION', '不能并入本单位', [{ field: 'into', message: '请选择另一个单位' }])
    for (let up: Row | undefined = b; up; up = up.parent_id ? all.get(up.parent_id) : undefined) {
      if (up.id === a.id) throw fail('VALIDATION', '不能并入本单位的下级单位', [{ field: 'into', message: `${b.name}是${a.name}的下级单位` }])
    }
    const kids = [...all.values()].filter((u) => u.parent_id === id && u.active)
    const misfit = kids.filter((k) => !parentLevels[k.level].includes(b.level))
    if (misfit.length) throw fail('VALIDATION', '下级单位不能随之并入', [{ field: 'into', message: `${misfit.map((k) => k.name).join('、')}不能隶属于${levelNames[b.level]}级单位` }])
    await this.knex.transaction(async (trx) => {
      if (kids.length) await trx('units').whereIn('id', kids.map((k) => k.id)).update({ parent_id: b.id })
      await trx('units').where({ id }).update({ active: false, deactivated_at: trx.fn.now(), merged_into: b.id })
    })
    this.log.info({ unit: id, into, by: p.userId, moved: kids.map((k) => k.id) }, 'unit merged')
    return this.one(id)
  }

  /**
   * Names a unit's admin: an existing person of the unit gets the unit_admin role, or a new account
   * is made (username, name, password) holding it.
   */
  async addAdmin(p: Principal, unitId: string, input: { userId?: string; username?: string; name?: string; password?: string }) {
    platformAdmin(p)
    const unit = await this.knex('units').where({ id: unitId }).first('id', 'name', 'active')
    if (!unit) throw fail('NOT_FOUND', '未找到该单位')
    if (!unit.active) throw fail('CONFLICT', `${unit.name}已停用，不能再指定管理员`)
    if (input.userId) {
      const person = await this.knex('users').where({ id: input.userId, unit_id: unitId }).first('id', 'password_hash')
      if (!person) throw fail('VALIDATION', '该人员不在此单位', [{ field: 'userId', message: `${unit.name}没有编号为“${input.userId}”的人员` }])
      if (!String(person.password_hash).startsWith('$2')) throw fail('VALIDATION', '接口账号不能做管理员', [{ field: 'userId', message: '接口账号用 API 密钥访问，不能登录' }])
      await this.knex('user_roles').insert({ user_id: input.userId, role: 'unit_admin' }).onConflict(['user_id', 'role']).ignore()
    } else {
      const problems: FieldProblem[] = []
      if (!input.username) problems.push({ field: 'username', message: '请填写用户名，或选择本单位已有人员（userId）' })
      if (!input.name?.trim()) problems.push({ field: 'name', message: '请填写姓名' })
      if (!input.password) problems.push({ field: 'password', message: '请填写初始密码' })
      if (problems.length) throw fail('VALIDATION', problems[0].message, problems)
      await checkPassword(this.knex, unitId, input.password!, 'password')
      const taken = await this.knex('users').where({ username: input.username }).orWhere({ id: input.username }).first('id')
      if (taken) throw fail('VALIDATION', '该用户名已被使用', [{ field: 'username', message: `用户名“${input.username}”已被使用，请换一个` }])
      const hash = await bcrypt.hash(input.password!, 10)
      await this.knex.transaction(async (trx) => {
        await trx('users').insert({ id: input.username, unit_id: unitId, username: input.username, name: input.name!.trim(), password_hash: hash })
        await trx('user_roles').insert({ user_id: input.username, role: 'unit_admin' })
      })
    }
    this.log.info({ unit: unitId, admin: input.userId ?? input.username, by: p.userId }, 'unit admin named')
    return this.one(unitId)
  }

  /** Takes the unit_admin role from a person of the unit. */
  async removeAdmin(p: Principal, unitId: string, userId: string) {
    platformAdmin(p)
    const held = await this.knex('user_roles as r').join('users as u', 'u.id', 'r.user_id').where({ 'u.unit_id': unitId, 'r.role': 'unit_admin' }).select('u.id')
    if (!held.some((h) => h.id === userId)) throw fail('NOT_FOUND', '该人员不是此单位的管理员')
    await this.knex('user_roles').where({ user_id: userId, role: 'unit_admin' }).delete()
    this.log.info({ unit: unitId, admin: userId, by: p.userId }, 'unit admin removed')
    return this.one(unitId)
  }
}
