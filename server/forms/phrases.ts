// 常用意见: each person's saved opinion phrases (1–500 characters, at most 50, no two alike).
import type { Knex } from 'knex'
import { fail } from '../errors.ts'
import type { Principal } from '../services/principal.ts'

export const MAX_PHRASES = 50
export const MAX_PHRASE_LENGTH = 500

const columns = ['id', 'text', 'created_at as createdAt']

export class Phrases {
  constructor(private readonly knex: Knex) {}

  list(p: Principal) {
    return this.knex('phrases').where({ user_id: p.userId }).orderBy('id').select(columns)
  }

  async add(p: Principal, input: string) {
    const text = input.trim()
    const bad = (message: string) => fail('VALIDATION', message, [{ field: 'text', message }])
    if (!text) throw bad('常用意见不能为空')
    if ([...text].length > MAX_PHRASE_LENGTH) throw bad(`常用意见不能超过 ${MAX_PHRASE_LENGTH} 个字`)
    return this.knex.transaction(async (trx) => {
      // Locking the person's row makes the count and the insert one step for concurrent requests.
      await trx('users').where({ id: p.userId }).forUpdate().first('id')
      const [{ count }] = await trx('phrases').where({ user_id: p.userId }).count<{ count: string }[]>('* as count')
      if (Number(count) >= MAX_PHRASES) throw bad(`最多保存 ${MAX_PHRASES} 条常用意见，请先删除不用的`)
      const [row] = await trx('phrases').insert({ user_id: p.userId, text }).onConflict(['user_id', 'text']).ignore().returning(columns)
      if (!row) throw bad('已有相同的常用意见')
      return row
    })
  }

  async remove(p: Principal, id: string): Promise<void> {
    const deleted = /^\d{1,18}$/.test(id) ? await this.knex('phrases').where({ id, user_id: p.userId }).del() : 0
    if (!deleted) throw fail('NOT_FOUND', '未找到该常用意见')
  }
}
