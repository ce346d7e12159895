// The unit admin's directory: departments (list, add, rename) and people (list, add, change
// name, department, roles or password, unlock, revoke their login tokens). Unit admins only;
// another unit's rows answer 404.
import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../app.ts'
import { errorResponses } from '../schemas.ts'
import { OrgAdmin, roleNames, type PersonInput } from '../services/org-admin.ts'

const name = { type: 'string', minLength: 1, maxLength: 50, pattern: '\\S', description: '名称' }
const id = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 100 } } }
const department = { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, peopleCount: { type: 'integer' } } }
const roles = { type: 'array', maxItems: 10, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 40 }, description: `角色：${Object.entries(roleNames).map(([k, v]) => `${k}（${v}）`).join('、')}` }
const password = { type: 'string', minLength: 8, maxLength: 72, description: '登录密码，至少 8 位，并须符合本单位的密码规则' }
const person = {
  type: 'object',
  properties: {
    id: { type: 'string' }, username: { type: 'string' }, name: { type: 'string' },
    departmentId: { type: ['string', 'null'] }, department: { type: ['string', 'null'] },
    roles: { type: 'array', items: { type: 'string' } },
    integrator: { type: 'boolean', description: '集成方接口账号（用 API 密钥，不能登录）' },
    lockedUntil: { type: ['string', 'null'], format: 'date-time', description: '因连续密码错误锁定至此时；null 为未锁定' },
  },
}

const routes: FastifyPluginAsync<Services> = async (app, { knex }) => {
  const org = new OrgAdmin(knex)
  const trim = (s: string) => s.trim()

  app.get('/admin/departments', {
    schema: { tags: ['admin'], summary: '本单位的科室（单位管理员）', response: { 200: { type: 'array', items: department }, ...errorResponses } },
  }, async (req) => org.departments(req.principal))

  app.post<{ Body: { name: string } }>('/admin/departments', {
    schema: {
      tags: ['admin'], summary: '新增科室（单位管理员）',
      body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name } },
      response: { 201: department, ...errorResponses },
    },
  }, async (req, reply) => reply.status(201).send(await org.addDepartment(req.principal, trim(req.body.name))))

  app.patch<{ Params: { id: string }; Body: { name: string } }>('/admin/departments/:id', {
    schema: {
      tags: ['admin'], summary: '科室改名（单位管理员）', params: id,
      body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name } },
      response: { 200: department, ...errorResponses },
    },
  }, async (req) => org.renameDepartment(req.principal, req.params.id, trim(req.body.name)))

  app.get('/admin/people', {
    schema: { tags: ['admin'], summary: '本单位人员及其角色（单位管理员）', response: { 200: { type: 'array', items: person }, ...errorResponses } },
  }, async (req) => org.people(req.principal))

  app.post<{ Body: PersonInput }>('/admin/people', {
    schema: {
      tags: ['admin'], summary: '新增人员（单位管理员）：用户名、姓名、科室、初始密码、角色',
      body: {
        type: 'object', required: ['username', 'name', 'departmentId', 'password'], additionalProperties: false,
        properties: {
          username: { type: 'string', pattern: '^[a-z][a-z0-9_.-]{2,39}$', description: '登录用户名：小写字母开头，3–40 位字母、数字、_ . -' },
          name, departmentId: { type: 'string', minLength: 1, maxLength: 100 }, password, roles: { ...roles, default: [] },
        },
      },
      response: { 201: person, ...errorResponses },
    },
  }, async (req, reply) => reply.status(201).send(await org.addPerson(req.principal, { ...req.body, name: trim(req.body.name) })))

  app.patch<{ Params: { id: string }; Body: Partial<Omit<PersonInput, 'username'>> }>('/admin/people/:id', {
    schema: {
      tags: ['admin'], summary: '修改人员的姓名、科室、角色（整组替换）或密码（单位管理员）；改密码即解锁账号并使其原有登录令牌失效', params: id,
      body: { type: 'object', minProperties: 1, additionalProperties: false, properties: { name, departmentId: { type: 'string', minLength: 1, maxLength: 100 }, roles, password } },
      response: { 200: person, ...errorResponses },
    },
  }, async (req) => org.updatePerson(req.principal, req.params.id, { ...req.body, name: req.body.name === undefined ? undefined : trim(req.body.name) }, { ip: req.ip, log: req.log }))

  app.post<{ Params: { id: string } }>('/admin/people/:id/unlock', {
    schema: { tags: ['admin'], summary: '解锁因连续密码错误被锁定的账号（单位管理员）', params: id, response: { 200: person, ...errorResponses } },
  }, async (req) => org.unlock(req.principal, req.params.id, { ip: req.ip, log: req.log }))

  app.post<{ Params: { id: string } }>('/admin/people/:id/revoke-sessions', {
    schema: { tags: ['admin'], summary: '使该人员的所有登录令牌失效，须重新登录（单位管理员）', params: id, response: { 200: person, ...errorResponses } },
  }, async (req) => org.revokeSessions(req.principal, req.params.id, { ip: req.ip, log: req.log }))
}

export default routes
