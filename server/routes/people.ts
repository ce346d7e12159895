// The caller's unit directory (people, roles, departments) and the list of units for choosing recipients.
import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../app.ts'
import { errorResponses } from '../schemas.ts'

const person = { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, department: { type: ['string', 'null'] }, roles: { type: 'array', items: { type: 'string' } } } }

const routes: FastifyPluginAsync<Services> = async (app, { org }) => {
  app.get<{ Querystring: { role?: string } }>('/people', {
    schema: { tags: ['people'], summary: '本单位人员（可按角色筛选）', querystring: { type: 'object', properties: { role: { type: 'string', maxLength: 40 } }, additionalProperties: false }, response: { 200: { type: 'array', items: person }, ...errorResponses } },
  }, async (req) => org.people(req.principal, req.query.role))

  app.get<{ Params: { id: string } }>('/people/:id', {
    schema: { tags: ['people'], summary: '本单位某人员', params: { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 100 } } }, response: { 200: person, ...errorResponses } },
  }, async (req) => org.person(req.principal, req.params.id))

  app.get('/departments', {
    schema: { tags: ['people'], summary: '本单位部门（选择会签、主办、协办部门用）', response: { 200: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } } }, ...errorResponses } },
  }, async (req) => org.departments(req.principal))

  app.get('/units', {
    schema: { tags: ['people'], summary: '单位名录（选择主送、抄送机关用）；已停用的单位 active 为 false，不能再选', response: { 200: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, level: { type: 'string' }, parentId: { type: ['string', 'null'] }, active: { type: 'boolean' } } } }, ...errorResponses } },
  }, async () => org.units())
}

export default routes
