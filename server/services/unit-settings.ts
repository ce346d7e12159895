// A unit's own settings, kept by its unit admin: 办理时限 per 紧急程度, whether 签发 may be a blank
// signature, the 发文字号 prefixes (default and per 文种), and the seal. New documents use them;
// a running document keeps the time limits it started with. Also the unit's optional password policy,
// checked whenever a password of the unit's people is set or changed.
import type { Knex } from 'knex'
import { fail, type FieldProblem } from '../errors.ts'
import type { Principal } from './principal.ts'
import type { TimeLimits } from './documents.ts'

export interface UnitSettings {
  timeLimits: TimeLimits
  allowBlankSignature: boolean
  docNumberPrefix: string
  docNumberPrefixes: Record<string, string>
  sealName: string
  /** null: no policy beyond the 8 characters every password needs. */
  passwordPolicy: PasswordPolicy | null
}

/** Rules for the passwords of a unit's people; each flag absent or false is not required. */
export interface PasswordPolicy {
  minLength?: number
  requireLetter?: boolean
  requireDigit?: boolean
  requireSymbol?: boolean
  /** Both an upper-case and a lower-case letter. */
  requireMixedCase?: boolean
}

/** The unit's password policy, or null when it has none. */
export async function passwordPolicy(knex: Knex, unitId: string): Promise<PasswordPolicy | null> {
  const row = await knex('units').where({ id: unitId }).first('password_policy')
  return row?.password_policy ?? null
}

/** Each rule of the policy the password breaks, in words (empty: it keeps them all). */
export function brokenRules(policy: PasswordPolicy | null, password: string): string[] {
  if (!policy) return []
  const broken: string[] = []
  if (policy.minLength && [...password].length < policy.minLength) broken.push(`至少 ${policy.minLength} 位`)
  if (policy.requireLetter && !/[A-Za-z]/.test(password)) broken.push('须包含字母')
  if (policy.requireDigit && !/\d/.test(password)) broken.push('须包含数字')
  if (policy.requireMixedCase && !(/[A-Z]/.test(password) && /[a-z]/.test(password))) broken.push('须同时包含大写和小写字母')
  if (policy.requireSymbol && !/[^A-Za-z0-9]/.test(password)) broken.push('须包含符号（字母和数字以外的字符）')
  return broken
}

/** Throws a 400 naming `field` when the password breaks the unit's policy. */
export async function checkPassword(knex: Knex, unitId: string, password: string, field: string): Promise<void> {
  const broken = brokenRules(await passwordPolicy(knex, unitId), password)
  if (!broken.length) return
  const problems: FieldProblem[] = broken.map((rule) => ({ field, message: `密码不符合本单位的密码规则：${rule}` }))
  throw fail('VALIDATION', `密码不符合本单位的密码规则：${broken.join('；')}`, problems)
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
      passwordPolicy: unit.password_policy ?? null,
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
      // An empty policy ({} or every rule off) is no policy.
      if (input.passwordPolicy !== undefined) patch.password_policy = policyOrNull(input.passwordPolicy)
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

function policyOrNull(policy: PasswordPolicy | null): string | null {
  if (!policy) return null
  const kept = Object.fromEntries(Object.entries(policy).filter(([, v]) => v))
  return Object.keys(kept).length ? JSON.stringify(kept) : null
}
