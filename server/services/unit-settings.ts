// A unit's own settings, kept by its unit admin: 办理时限 per 紧急程度, whether 签发 may be a blank
// signature, the 发文字号 prefixes (default and per 文种), and the seal. New documents use them;
// a running document keeps the time limits it started with.
import type { Knex } from 'knex'
import { fail } from '../errors.ts'
import type { Principal } from './principal.ts'
import type { TimeLimits } from './documents.ts'

export interface UnitSettings {
  timeLimits: TimeLimits
  allowBlankSignature: boolean
  docNumberPrefix: string
  docNumberPrefixes: Record<string, string>
  sealName: string
}

export class UnitSettingsService {
  constructor(private readonly knex: Knex) {}

  async get(p: Principal): Promise<UnitSettings> {
    const unit = await this.knex('units').where({ id: p.unitId }).first()
    const prefixes = await this.knex('doc_number_prefixes').where({ unit_id: p.unitId }).orderBy('doc_kind').select('doc_kind', 'prefix')
    return {
      timeLimits: unit.time_limits,
      allowBlankSignature: unit.allow_blank_signature,
      docNumberPrefix: unit.doc_number_prefix,
      docNumberPrefixes: Object.fromEntries(prefixes.map((r) => [r.doc_kind, r.prefix])),
      sealName: unit.seal_name,
    }
  }

  async update(p: Principal, input: Partial<UnitSettings>): Promise<UnitSettings> {
    if (!p.roles.includes('unit_admin')) throw fail('FORBIDDEN', '只有本单位的单位管理员可以修改单位设置')
    for (const [urgency, limit] of Object.entries(input.timeLimits ?? {})) {
      const seconds = await this.knex.raw(`select extract(epoch from ?::interval) as l, extract(epoch from ?::interval) as r`, [limit.limit, limit.remindBefore])
      const { l, r } = seconds.rows[0]
      if (!(Number(l) > Number(r) && Number(r) > 0)) {
        throw fail('VALIDATION', undefined, [{ field: `timeLimits.${urgency}.remindBefore`, message: '提醒提前量须大于零且小于办理时限' }])
      }
    }
    await this.knex.transaction(async (trx) => {
      const patch: Record<string, unknown> = {}
      if (input.timeLimits) {
        const current = (await trx('units').where({ id: p.unitId }).first('time_limits')).time_limits
        patch.time_limits = JSON.stringify({ ...current, ...input.timeLimits })
      }
      if (input.allowBlankSignature !== undefined) patch.allow_blank_signature = input.allowBlankSignature
      if (input.docNumberPrefix) patch.doc_number_prefix = input.docNumberPrefix
      if (input.sealName) patch.seal_name = input.sealName
      if (Object.keys(patch).length) await trx('units').where({ id: p.unitId }).update(patch)
      if (input.docNumberPrefixes) {
        await trx('doc_number_prefixes').where({ unit_id: p.unitId }).delete()
        const rows = Object.entries(input.docNumberPrefixes).map(([doc_kind, prefix]) => ({ unit_id: p.unitId, doc_kind, prefix }))
        if (rows.length) await trx('doc_number_prefixes').insert(rows)
      }
    })
    return this.get(p)
  }
}
