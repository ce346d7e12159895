// Choosing 分发 recipients from the organisation tree: the groups (e.g. 各区县人民政府), the unit's
// saved lists, and resolving a selection {units, groups, lists} to unit ids. The recipient fields
// of a 发文 accept the same selection.
import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../app.ts'
import { errorResponses } from '../schemas.ts'
import { deleteList, recipientGroups, resolveSelection, saveList, savedLists, type Selection } from '../org-tree/recipients.ts'

const ids = (what: string) => ({ type: 'array', maxItems: 2000, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 100 }, description: what })
const selection = {
  type: 'object', additionalProperties: false,
  properties: { units: ids('单位编号'), groups: ids('分组编号（见 /recipient-groups）'), lists: ids('本单位常用名单编号') },
}
const list = { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, unitIds: { type: 'array', items: { type: 'string' } }, createdBy: { type: ['string', 'null'] }, createdAt: { type: 'string', format: 'date-time' } } }

const routes: FastifyPluginAsync<Services> = async (app, { knex }) => {
  app.get('/recipient-groups', {
    schema: {
      tags: ['people'], summary: '收文单位分组：某上级单位下同一层级的全部在用单位，如“各区县人民政府”“市直各部门”',
      response: { 200: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, parentId: { type: 'string' }, level: { type: 'string' }, count: { type: 'integer' } } } }, ...errorResponses },
    },
  }, async () => recipientGroups(knex))

  app.get('/recipient-lists', {
    schema: { tags: ['people'], summary: '本单位的常用收文名单', response: { 200: { type: 'array', items: list }, ...errorResponses } },
  }, async (req) => savedLists(knex, req.principal))

  app.post<{ Body: Selection & { name: string } }>('/recipient-lists', {
    schema: {
      tags: ['people'], summary: '保存常用收文名单（本单位共用）：所选单位、分组和名单展开为单位',
      body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 50, pattern: '\\S' }, ...selection.properties } },
      response: { 201: list, ...errorResponses },
    },
  }, async (req, reply) => {
    const { name, ...sel } = req.body
    return reply.status(201).send(await saveList(knex, req.principal, name.trim(), sel))
  })

  app.delete<{ Params: { id: string } }>('/recipient-lists/:id', {
    schema: { tags: ['people'], summary: '删除本单位的常用收文名单', params: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } } }, response: { 204: { type: 'null' }, ...errorResponses } },
  }, async (req, reply) => {
    await deleteList(knex, req.principal, req.params.id)
    return reply.status(204).send()
  })

  app.post<{ Body: Selection }>('/recipients/resolve', {
    schema: {
      tags: ['people'], summary: '把所选单位、分组和常用名单展开为收文单位（去重）；已停用的单位不能选，名单中已并入他单位的改为并入单位',
      body: selection,
      response: { 200: { type: 'object', properties: { unitIds: { type: 'array', items: { type: 'string' } }, units: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } } }, notes: { type: 'array', items: { type: 'string' } } } }, ...errorResponses },
    },
  }, async (req) => resolveSelection(knex, req.principal, req.body))
}

export default routes
