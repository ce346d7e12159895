// Loading units from a spreadsheet (CSV or XLSX): one unit per row, headed by column names. A dry
// run checks every row and reports each problem (row number as the spreadsheet shows it, field,
// what is wrong) and changes nothing; the real import applies every row in one transaction or
// none. A row whose 单位编号 exists changes that unit; the others are created, with their flows.
import { parse } from 'csv-parse/sync'
import ExcelJS from 'exceljs'
import type { Knex } from 'knex'
import { fail } from '../errors.ts'
import type { Principal } from '../services/principal.ts'
import { levelNames, platformAdmin, unitProblems, unitRow, type PlatformUnits, type UnitInput } from './units.ts'

/** Accepted column headings for each field (Chinese as a registry writes them, or the API's names). */
const columns: Record<keyof UnitInput, string[]> = {
  id: ['单位编号', 'id'],
  name: ['单位名称', 'name'],
  creditCode: ['统一社会信用代码', 'creditcode'],
  level: ['层级', 'level'],
  parentId: ['上级单位编号', 'parentid'],
  docNumberPrefix: ['发文字号前缀', 'docnumberprefix'],
  sealName: ['印章名称', 'sealname'],
}
const required: Array<keyof UnitInput> = ['id', 'name', 'creditCode', 'level', 'docNumberPrefix']
const fieldNames: Record<string, string> = { id: '单位编号', name: '单位名称', creditCode: '统一社会信用代码', level: '层级', parentId: '上级单位编号', docNumberPrefix: '发文字号前缀', sealName: '印章名称' }
const levelByName = Object.fromEntries(Object.entries(levelNames).flatMap(([k, v]) => [[k, k], [v, k], [`${v}级`, k]]))

export const MAX_ROWS = 5000

export interface ImportProblem {
  row: number
  field: string
  message: string
}

export interface ImportReport {
  dryRun: boolean
  ok: boolean
  rows: number
  created: string[]
  updated: string[]
  problems: ImportProblem[]
}

/** The sheet as rows of cells (first row: headings), with the row number each has in the file. */
async function readSheet(format: 'csv' | 'xlsx', content: string): Promise<Array<{ row: number; cells: string[] }>> {
  if (format === 'csv') {
    let records: string[][]
    try {
      records = parse(content.replace(/^\uFEFF/, ''), { relax_column_count: true, skip_empty_lines: false, trim: true })
    } catch (err) {
      throw fail('VALIDATION', '无法读取 CSV 文件', [{ field: 'content', message: `CSV 格式有误：${(err as Error).message}` }])
    }
    return records.map((cells, i) => ({ row: i + 1, cells })).filter((r) => r.cells.some((c) => c !== ''))
  }
  const book = new ExcelJS.Workbook()
  try {
    await book.xlsx.load(Buffer.from(content, 'base64') as unknown as ArrayBuffer)
  } catch {
    throw fail('VALIDATION', '无法读取 XLSX 文件', [{ field: 'content', message: '不是有效的 XLSX 文件（content 应为文件的 base64）' }])
  }
  const sheet = book.worksheets[0]
  if (!sheet) throw fail('VALIDATION', 'XLSX 文件没有工作表', [{ field: 'content', message: '文件中没有工作表' }])
  const rows: Array<{ row: number; cells: string[] }> = []
  sheet.eachRow({ includeEmpty: false }, (r, n) => {
    const values = (r.values as unknown[]).slice(1)
    rows.push({ row: n, cells: values.map(cellText) })
  })
  return rows.filter((r) => r.cells.some((c) => c !== ''))
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return ''
  if (typeof v === 'object') {
    const o = v as { text?: string; richText?: Array<{ text: string }>; result?: unknown }
    if (o.richText) return o.richText.map((t) => t.text).join('').trim()
    if (o.text !== undefined) return String(o.text).trim()
    if (o.result !== undefined) return String(o.result).trim()
  }
  return String(v).trim()
}

export class UnitImport {
  constructor(
    private readonly knex: Knex,
    private readonly units: PlatformUnits,
  ) {}

  async run(p: Principal, input: { format: 'csv' | 'xlsx'; content: string; dryRun: boolean }): Promise<ImportReport> {
    platformAdmin(p)
    const sheet = await readSheet(input.format, input.content)
    if (!sheet.length) throw fail('VALIDATION', '表格是空的', [{ field: 'content', message: '第一行应为列名（单位编号、单位名称、统一社会信用代码、层级、上级单位编号、发文字号前缀、印章名称）' }])
    const [head, ...body] = sheet
    const index = new Map<keyof UnitInput, number>()
    head.cells.forEach((h, i) => {
      const key = (Object.keys(columns) as Array<keyof UnitInput>).find((k) => columns[k].includes(h.replace(/\s/g, '').toLowerCase()) || columns[k].includes(h.trim()))
      if (key && !index.has(key)) index.set(key, i)
    })
    const missing = required.filter((k) => !index.has(k))
    if (missing.length) throw fail('VALIDATION', `表格缺少列：${missing.map((k) => fieldNames[k]).join('、')}`, missing.map((k) => ({ field: 'content', message: `第 ${head.row} 行（列名）缺少“${fieldNames[k]}”列` })))
    if (body.length > MAX_ROWS) throw fail('VALIDATION', `一次最多导入 ${MAX_ROWS} 行`, [{ field: 'content', message: `表格有 ${body.length} 行数据` }])

    return this.knex.transaction(async (trx) => {
      // Locks the units so two imports (or an import and a change) cannot interleave.
      await trx.raw('lock table units in share row exclusive mode')
      const existing = await this.units.all(trx)
      const problems: ImportProblem[] = []
      const rows = body.map(({ row, cells }) => {
        const get = (k: keyof UnitInput) => (index.has(k) ? cells[index.get(k)!] ?? '' : '')
        const levelText = get('level')
        const u: UnitInput = {
          id: get('id'), name: get('name'), creditCode: get('creditCode').toUpperCase(), level: levelByName[levelText] ?? levelText,
          parentId: get('parentId') || null, docNumberPrefix: get('docNumberPrefix'), sealName: get('sealName') || undefined,
        }
        return { row, u, isNew: !existing.has(u.id) }
      })
      // The tree as the file would leave it: every row's unit over the existing ones.
      const after = new Map(existing)
      const seen = new Map<string, number>()
      for (const { row, u } of rows) {
        if (seen.has(u.id)) problems.push({ row, field: 'id', message: `单位编号“${u.id}”与第 ${seen.get(u.id)} 行重复` })
        else seen.set(u.id, row)
        const old = existing.get(u.id)
        if (old && !old.active) problems.push({ row, field: 'id', message: `单位“${old.name}”已停用，不能再导入修改` })
        after.set(u.id, { id: u.id, name: u.name, credit_code: u.creditCode, level: levelNames[u.level] ? u.level : '', parent_id: u.parentId ?? null, active: true, merged_into: null })
      }
      for (const { row, u, isNew } of rows) {
        // The unit itself stays in the tree it is checked against, so that a parent chain leading
        // back to it is found; its own id then reads as taken, which the duplicate check covers.
        for (const pr of unitProblems(u, after, isNew)) {
          if (pr.field === 'id' && pr.message.includes('已被使用')) continue
          const label = fieldNames[pr.field] ?? pr.field
          problems.push({ row, field: pr.field, message: pr.message.startsWith(label) ? pr.message : `${label}：${pr.message}` })
        }
      }
      problems.sort((a, b) => a.row - b.row)
      const created = rows.filter((r) => r.isNew).map((r) => r.u.id)
      const updated = rows.filter((r) => !r.isNew).map((r) => r.u.id)
      const report: ImportReport = { dryRun: input.dryRun, ok: problems.length === 0, rows: rows.length, created, updated, problems }
      if (input.dryRun) return report
      if (problems.length) {
        throw fail('VALIDATION', `表格有 ${problems.length} 处问题，未导入任何单位`, problems.map((x) => ({ field: `rows[${x.row}].${x.field}`, message: `第 ${x.row} 行 ${x.message}` })))
      }
      // Parents before their children (the foreign key), whatever the order of the rows.
      const pending = [...rows]
      const done = new Set(existing.keys())
      while (pending.length) {
        const i = pending.findIndex((r) => !r.u.parentId || done.has(r.u.parentId) || !pending.some((o) => o.u.id === r.u.parentId))
        const [{ u, isNew }] = pending.splice(i < 0 ? 0 : i, 1)
        const row = unitRow(u)
        if (isNew) await trx('units').insert(row)
        else await trx('units').where({ id: u.id }).update({ name: row.name, credit_code: row.credit_code, level: row.level, parent_id: row.parent_id, doc_number_prefix: row.doc_number_prefix, ...(u.sealName ? { seal_name: row.seal_name } : {}) })
        done.add(u.id)
      }
      return report
    }).then(async (report) => {
      if (!report.dryRun) await this.units.deploy(report.created)
      return report
    })
  }
}
