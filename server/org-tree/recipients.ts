// Choosing 分发 recipients from the tree: by unit, by group (the active units of one level under one
// parent, e.g. 各区县人民政府) or by a list the unit saved. A selection resolves to unit ids; the
// recipient fields of a 笺 accept a selection and store the ids. Deactivated units receive nothing:
// naming one is refused; a saved list skips it, and sends to the unit a merged one went into.
import { randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import { fail } from '../errors.ts'
import type { Principal } from '../services/principal.ts'

export interface Selection {
  units?: string[]
  groups?: string[]
  lists?: string[]
}

export interface Resolved {
  unitIds: string[]
  units: Array<{ id: string; name: string }>
  /** Units of a saved list that receive nothing now, with why (merged ones are sent to their successor). */
  notes: string[]
}

type UnitRow = { id: string; name: string; level: string; parent_id: string | null; active: boolean; merged_into: string | null }

/** The 笺 fields that name recipient units and accept a selection. */
export const recipientFields = ['mainRecipients', 'ccRecipients'] as const

const groupLabels: Record<string, Record<string, string>> = {
  city: { county: '各区县人民政府', department: '市直各部门' },
  county: { department: '各部门', township: '各乡镇（街道）' },
}

/** A group's id is <parent>:<level>: the active units of that level directly under the parent. */
export async function recipientGroups(knex: Knex) {
  const rows: Array<{ parent_id: string; level: string; count: number; parent_name: string; parent_level: string }> = await knex('units as u')
    .join('units as p', 'p.id', 'u.parent_id')
    .where({ 'u.active': true, 'p.active': true })
    .groupBy('u.parent_id', 'u.level', 'p.name', 'p.level')
    .orderBy([{ column: 'p.level' }, { column: 'u.parent_id' }, { column: 'u.level' }])
    .select('u.parent_id', 'u.level', 'p.name as parent_name', 'p.level as parent_level', knex.raw('count(*)::int as count'))
  const cities = new Set(rows.filter((r) => r.parent_level === 'city').map((r) => r.parent_id))
  return rows.map((r) => {
    const label = groupLabels[r.parent_level]?.[r.level] ?? `所属${r.level}`
    // One city: its groups read as the city's own ("各区县人民政府"); a county's carry its name.
    const name = r.parent_level === 'city' && cities.size === 1 ? label : `${r.parent_name}${label}`
    return { id: `${r.parent_id}:${r.level}`, name, parentId: r.parent_id, level: r.level, count: r.count }
  })
}

export async function savedLists(knex: Knex, p: Principal) {
  return knex('recipient_lists').where({ unit_id: p.unitId }).orderBy('name').select('id', 'name', 'unit_ids as unitIds', 'created_by as createdBy', 'created_at as createdAt')
}

/** Saves a named list for the caller's unit; its units are the selection resolved now. */
export async function saveList(knex: Knex, p: Principal, name: string, selection: Selection) {
  personOnly(p)
  const { unitIds } = await resolveSelection(knex, p, selection)
  if (!unitIds.length) throw fail('VALIDATION', '常用名单不能为空', [{ field: 'units', message: '请至少选择一个单位' }])
  if (await knex('recipient_lists').where({ unit_id: p.unitId, name }).first('id')) {
    throw fail('VALIDATION', '常用名单名称重复', [{ field: 'name', message: `本单位已有名为“${name}”的常用名单` }])
  }
  const id = randomUUID()
  await knex('recipient_lists').insert({ id, unit_id: p.unitId, name, unit_ids: unitIds, created_by: p.userId })
  return (await savedLists(knex, p)).find((l) => l.id === id)
}

export async function deleteList(knex: Knex, p: Principal, id: string) {
  personOnly(p)
  const n = await knex('recipient_lists').where({ id, unit_id: p.unitId }).delete()
  if (!n) throw fail('NOT_FOUND', '未找到该常用名单')
}

/** The units a selection names, in order, each once. Bad parts are refused, naming the field. */
export async function resolveSelection(knex: Knex, p: Principal, sel: Selection, field = ''): Promise<Resolved> {
  const at = (f: string) => (field ? `${field}.${f}` : f)
  const all: UnitRow[] = await knex('units').select('id', 'name', 'level', 'parent_id', 'active', 'merged_into')
  const byId = new Map(all.map((u) => [u.id, u]))
  const ids: string[] = []
  const notes: string[] = []
  const problems: Array<{ field: string; message: string }> = []
  for (const id of sel.units ?? []) {
    const u = byId.get(id)
    const problem = u ? inactiveProblem(u, byId) : `没有编号为“${id}”的单位`
    if (problem) problems.push({ field: at('units'), message: problem })
    else ids.push(id)
  }
  for (const g of sel.groups ?? []) {
    const [parent, level] = g.split(':')
    const members = all.filter((u) => u.parent_id === parent && u.level === level && u.active)
    if (!byId.get(parent)?.active || !members.length) problems.push({ field: at('groups'), message: `没有“${g}”这个分组（分组编号为“上级单位编号:层级”，见 /recipient-groups）` })
    ids.push(...members.sort((a, b) => a.id.localeCompare(b.id)).map((u) => u.id))
  }
  if (sel.lists?.length) {
    const lists = await knex('recipient_lists').whereIn('id', sel.lists.filter(isUuid)).where({ unit_id: p.unitId }).select('id', 'name', 'unit_ids')
    for (const id of sel.lists) {
      const list = lists.find((l) => l.id === id)
      if (!list) {
        problems.push({ field: at('lists'), message: `本单位没有编号为“${id}”的常用名单` })
        continue
      }
      for (const uid of list.unit_ids as string[]) {
        const { to, note } = successor(uid, byId)
        if (note) notes.push(`常用名单“${list.name}”中：${note}`)
        if (to) ids.push(to)
      }
    }
  }
  if (problems.length) throw fail('VALIDATION', problems.length === 1 ? problems[0].message : '所选收文单位有误', problems)
  const unitIds = [...new Set(ids)]
  return { unitIds, units: unitIds.map((id) => ({ id, name: byId.get(id)!.name })), notes }
}

/**
 * The caller's recipient fields, each a list of unit ids or a selection, as lists of unit ids;
 * every unit named must be active (a 4xx naming the field and the unit otherwise).
 */
export async function resolveRecipientFields(knex: Knex, p: Principal, data: Record<string, unknown> | undefined) {
  if (!data) return data
  let out = data
  for (const field of recipientFields) {
    const value = data[field]
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const sel = value as Record<string, unknown>
      const extra = Object.keys(sel).filter((k) => !['units', 'groups', 'lists'].includes(k))
      const bad = ['units', 'groups', 'lists'].find((k) => sel[k] !== undefined && !(Array.isArray(sel[k]) && (sel[k] as unknown[]).every((x) => typeof x === 'string')))
      if (extra.length || bad) throw fail('FORM_INVALID', undefined, [{ field, message: `收文单位的选择应为 {units, groups, lists}，各为编号的数组${extra.length ? `（不认识“${extra.join('、')}”）` : ''}` }])
      const { unitIds } = await resolveSelection(knex, p, sel as Selection, field)
      out = { ...out, [field]: unitIds }
    } else if (Array.isArray(value) && value.every((x) => typeof x === 'string')) {
      const rows: UnitRow[] = await knex('units').select('id', 'name', 'level', 'parent_id', 'active', 'merged_into')
      const byId = new Map(rows.map((u) => [u.id, u]))
      const problems = value.map((id) => byId.get(id)).filter((u): u is UnitRow => Boolean(u && !u.active)).map((u) => ({ field, message: inactiveProblem(u, byId)! }))
      if (problems.length) throw fail('FORM_INVALID', problems[0].message, problems)
    }
  }
  return out
}

/** Refuses a person of a deactivated unit starting a document. */
export async function assertUnitActive(knex: Knex, p: Principal) {
  const unit = await knex('units').where({ id: p.unitId }).first('name', 'active', 'merged_into')
  if (unit && !unit.active) {
    const into = unit.merged_into ? await knex('units').where({ id: unit.merged_into }).first('name') : null
    throw fail('FORBIDDEN', `${unit.name}已${into ? `并入${into.name}` : '停用'}，不能再起草新公文；已有公文仍可查阅和办完`)
  }
}

/**
 * At 分发, recipients chosen before a unit was deactivated: one merged into another unit is sent
 * to that unit instead (once), one deactivated receives nothing; both are written in the routing log.
 */
export async function redirectInactive(trx: Knex.Transaction, doc: { id: string; unit_id: string }, recipients: Array<{ unitId: string; kind: string }>) {
  const rows: UnitRow[] = await trx('units').select('id', 'name', 'level', 'parent_id', 'active', 'merged_into')
  const byId = new Map(rows.map((u) => [u.id, u]))
  if (recipients.every((r) => byId.get(r.unitId)?.active !== false)) return recipients
  const out: Array<{ unitId: string; kind: string }> = []
  for (const r of recipients) {
    const { to, note } = successor(r.unitId, byId)
    if (note) {
      await trx('routing_log')
        .insert({ document_id: doc.id, unit_id: doc.unit_id, dedup_key: `redirect:${doc.id}:${r.unitId}`, step: 'fenfa', step_name: '分发', actor_name: '系统', opinion: note, channel: 'system', at: new Date() })
        .onConflict('dedup_key')
        .ignore()
    }
    if (to && !out.some((o) => o.unitId === to)) out.push({ unitId: to, kind: r.kind })
  }
  return out
}

/** Where something sent to a unit goes now: itself, the active unit it was merged into, or nowhere. */
function successor(id: string, byId: Map<string, UnitRow>): { to: string | null; note: string | null } {
  let u = byId.get(id)
  if (!u) return { to: null, note: `单位“${id}”已不存在，未发送` }
  if (u.active) return { to: u.id, note: null }
  const first = u
  const seen = new Set<string>()
  while (u && !u.active && u.merged_into && !seen.has(u.id)) {
    seen.add(u.id)
    u = byId.get(u.merged_into)
  }
  if (u && u.active) return { to: u.id, note: `${first.name}已并入${u.name}，改送${u.name}` }
  return { to: null, note: `${first.name}已停用，不再向其分发` }
}

function inactiveProblem(u: UnitRow, byId: Map<string, UnitRow>): string | null {
  if (u.active) return null
  const into = u.merged_into ? byId.get(u.merged_into) : null
  return into ? `${u.name}已并入${into.name}，不再接收公文，请改选${into.name}` : `${u.name}已停用，不再接收公文`
}

const isUuid = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s)

function personOnly(p: Principal) {
  if (p.apiKey) throw fail('FORBIDDEN', '常用名单由本单位人员维护')
}
