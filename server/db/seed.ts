// Demo data for a first start: two units with a person for every role of the 发文 flow, and an
// API key per unit for integrators. Loaded once; an existing database is left as it is.
import bcrypt from 'bcryptjs'
import type { Knex } from 'knex'
import { hashApiKey } from '../services/org.ts'

export const DEMO_PASSWORD = 'gongwen123'

/** The demo keys start, read and follow documents and read statistics; events:receive is for the admin to grant. */
export const demoKeyScopes = ['documents:start', 'documents:read', 'statistics:read']

export const demoUnits = [
  {
    id: 'liuzhou-gov', name: '柳州市人民政府办公室', doc_number_prefix: '柳政办发', seal_name: '柳州市人民政府办公室印章',
    apiKey: 'demo-key-liuzhou-gov', creditCode: '11450200007565434N', level: 'city', parentId: null,
    departments: [{ id: 'liuzhou-gov-zonghe', name: '综合科' }, { id: 'liuzhou-gov-mishu', name: '秘书科' }, { id: 'liuzhou-gov-lingdao', name: '办领导' }],
    people: [
      { id: 'zhangwei', name: '张伟', department: 'liuzhou-gov-zonghe', roles: ['drafter'] },
      { id: 'liuyang', name: '刘洋', department: 'liuzhou-gov-zonghe', roles: ['drafter'] },
      { id: 'lina', name: '李娜', department: 'liuzhou-gov-zonghe', roles: ['dept_head'] },
      { id: 'zhaolei', name: '赵磊', department: 'liuzhou-gov-mishu', roles: ['dept_head', 'office_head'] },
      { id: 'wangqiang', name: '王强', department: 'liuzhou-gov-lingdao', roles: ['leader'] },
      { id: 'sunli', name: '孙丽', department: 'liuzhou-gov-lingdao', roles: ['leader'] },
      { id: 'chenjing', name: '陈静', department: 'liuzhou-gov-mishu', roles: ['registry', 'office_reviewer'] },
      { id: 'zhouadmin', name: '周敏', department: 'liuzhou-gov-mishu', roles: ['unit_admin'] },
    ],
  },
  {
    id: 'liuzhou-edu', name: '柳州市教育局', doc_number_prefix: '柳教发', seal_name: '柳州市教育局印章',
    apiKey: 'demo-key-liuzhou-edu', creditCode: '11450200007565442H', level: 'department', parentId: 'liuzhou-gov',
    departments: [
      { id: 'liuzhou-edu-bangong', name: '办公室' }, { id: 'liuzhou-edu-lingdao', name: '局领导' },
      { id: 'liuzhou-edu-jichu', name: '基础教育科' }, { id: 'liuzhou-edu-jiaoyan', name: '教研室' },
    ],
    people: [
      { id: 'huangmei', name: '黄梅', department: 'liuzhou-edu-bangong', roles: ['drafter'] },
      { id: 'wugang', name: '吴刚', department: 'liuzhou-edu-bangong', roles: ['dept_head', 'office_head'] },
      { id: 'zhengyu', name: '郑宇', department: 'liuzhou-edu-lingdao', roles: ['leader'] },
      { id: 'maqing', name: '马青', department: 'liuzhou-edu-lingdao', roles: ['leader'] },
      { id: 'tanglin', name: '唐林', department: 'liuzhou-edu-jichu', roles: ['dept_head'] },
      { id: 'songjia', name: '宋佳', department: 'liuzhou-edu-jiaoyan', roles: ['dept_head'] },
      { id: 'fengxue', name: '冯雪', department: 'liuzhou-edu-bangong', roles: ['registry'] },
    ],
  },
  {
    id: 'liuzhou-fin', name: '柳州市财政局', doc_number_prefix: '柳财发', seal_name: '柳州市财政局印章',
    apiKey: 'demo-key-liuzhou-fin', creditCode: '114502000075654774', level: 'department', parentId: 'liuzhou-gov',
    departments: [{ id: 'liuzhou-fin-bangong', name: '办公室' }],
    people: [{ id: 'hejun', name: '何军', department: 'liuzhou-fin-bangong', roles: ['registry', 'drafter', 'dept_head', 'leader', 'office_head', 'office_reviewer'] }],
  },
]

/** The demo platform administrator (password DEMO_PASSWORD). */
export const platformAdmin = { id: 'platform', name: '平台管理员' }

export async function seedDemo(knex: Knex): Promise<boolean> {
  const existing = await knex('units').first('id')
  if (existing) return false
  const hash = await bcrypt.hash(DEMO_PASSWORD, 10)
  await knex.transaction(async (trx) => {
    for (const u of demoUnits) {
      await trx('units').insert({ id: u.id, name: u.name, doc_number_prefix: u.doc_number_prefix, seal_name: u.seal_name, credit_code: u.creditCode, level: u.level, parent_id: u.parentId })
      await trx('departments').insert(u.departments.map((d) => ({ ...d, unit_id: u.id })))
      for (const p of u.people) {
        await trx('users').insert({ id: p.id, unit_id: u.id, department_id: p.department, username: p.id, name: p.name, password_hash: hash })
        await trx('user_roles').insert(p.roles.map((role) => ({ user_id: p.id, role })))
      }
      const integrator = `${u.id}-api`
      await trx('users').insert({ id: integrator, unit_id: u.id, username: integrator, name: `${u.name}接口`, password_hash: '!' })
      await trx('user_roles').insert({ user_id: integrator, role: 'drafter' })
      await trx('api_keys').insert({
        id: `${u.id}-demo`, unit_id: u.id, user_id: integrator, name: '演示密钥', key_hash: hashApiKey(u.apiKey),
        prefix: u.apiKey.slice(0, 10), scopes: demoKeyScopes,
      })
    }
    // The platform administrator keeps the organisation tree (units, their admins); an account of the city's unit holding no other role.
    await trx('users').insert({ id: platformAdmin.id, unit_id: 'liuzhou-gov', username: platformAdmin.id, name: platformAdmin.name, password_hash: hash })
    await trx('user_roles').insert({ user_id: platformAdmin.id, role: 'platform_admin' })
  })
  return true
}
