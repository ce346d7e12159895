// The platform administrator's organisation tree: list units, create, rename or move, deactivate,
// merge, import from CSV/XLSX (with a dry run), name each unit's admins. Platform admins only:
// unit admins, staff and integrator keys get 403.
import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../app.ts'
import { errorResponses } from '../schemas.ts'
import { UnitImport } from '../org-tree/import.ts'
import { levelNames, PlatformUnits, type UnitInput, type UnitPatch } from '../org-tree/units.ts'

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 100 } } }
const text = (maxLength: number, description: string) => ({ type: 'string', minLength: 1, maxLength, description })
const fields = {
  name: text(100, '单位名称'),
  creditCode: { type: 'string', maxLength: 40, description: '统一社会信用代码（18 位，GB 32100，末位为校验码）' },
  level: { type: 'string', maxLength: 20, description: `层级：${Object.entries(levelNames).map(([k, v]) => `${k}（${v}）`).join('、')}` },
  parentId: { type: ['string', 'null'], maxLength: 100, description: '上级单位编号；市级单位为 null' },
  docNumberPrefix: text(20, '发文字号前缀，如 柳政发'),
  sealName: text(100, '印章名称，缺省为“单位名称印章”'),
}
const unit = {
  type: 'object',
  properties: {
    id: { type: 'string' }, name: { type: 'string' }, creditCode: { type: ['string', 'null'] }, level: { type: 'string' }, parentId: { type: ['string', 'null'] },
    active: { type: 'boolean' }, mergedInto: { type: ['string', 'null'], description: '已并入的单位' }, deactivatedAt: { type: ['string', 'null'], format: 'date-time' },
    docNumberPrefix: { type: 'string' }, sealName: { type: 'string' }, peopleCount: { type: 'integer' },
    admins: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } } },
  },
}
const report = {
  type: 'object',
  properties: {
    dryRun: { type: 'boolean' }, ok: { type: 'boolean', description: '无问题（试导入时：可以正式导入）' }, rows: { type: 'integer' },
    created: { type: 'array', items: { type: 'string' } }, updated: { type: 'array', items: { type: 'string' } },
    problems: { type: 'array', items: { type: 'object', properties: { row: { type: 'integer' }, field: { type: 'string' }, message: { type: 'string' } } } },
  },
}

const routes: FastifyPluginAsync<Services> = async (app, { knex, models }) => {
  const units = new PlatformUnits(knex, models, app.log as never)
  const importer = new UnitImport(knex, units)

  app.get('/platform/units', {
    schema: { tags: ['platform'], summary: '全部单位及其在组织树中的位置、状态和管理员（平台管理员）', response: { 200: { type: 'array', items: unit }, ...errorResponses } },
  }, async (req) => units.list(req.principal))

  app.post<{ Body: UnitInput }>('/platform/units', {
    schema: {
      tags: ['platform'], summary: '新建单位（平台管理员）：新单位的流程随即部署，可立即起草和接收公文',
      body: {
        type: 'object', required: ['id', 'name', 'creditCode', 'level', 'docNumberPrefix'], additionalProperties: false,
        properties: { id: { type: 'string', maxLength: 40, description: '单位编号：小写字母开头，3–40 位小写字母、数字或 -' }, ...fields },
      },
      response: { 201: unit, ...errorResponses },
    },
  }, async (req, reply) => reply.status(201).send(await units.create(req.principal, req.body)))

  app.patch<{ Params: { id: string }; Body: UnitPatch }>('/platform/units/:id', {
    schema: {
      tags: ['platform'], summary: '单位改名、改统一社会信用代码、调整上级或层级（平台管理员）', params: idParams,
      body: { type: 'object', minProperties: 1, additionalProperties: false, properties: fields },
      response: { 200: unit, ...errorResponses },
    },
  }, async (req) => units.update(req.principal, req.params.id, req.body))

  app.post<{ Params: { id: string } }>('/platform/units/:id/deactivate', {
    schema: {
      tags: ['platform'], summary: '停用单位（平台管理员）：公文和历史仍可查阅，不能再起草新公文，也不再接收分发', params: idParams,
      response: { 200: unit, ...errorResponses },
    },
  }, async (req) => units.deactivate(req.principal, req.params.id))

  app.post<{ Params: { id: string }; Body: { into: string } }>('/platform/units/:id/merge', {
    schema: {
      tags: ['platform'], summary: '将单位并入另一单位（平台管理员）：原单位停用并标记“已并入”，其下级单位移至并入单位；此前选定的分发改送并入单位', params: idParams,
      body: { type: 'object', required: ['into'], additionalProperties: false, properties: { into: { type: 'string', minLength: 1, maxLength: 100, description: '并入的单位编号' } } },
      response: { 200: unit, ...errorResponses },
    },
  }, async (req) => units.merge(req.principal, req.params.id, req.body.into))

  app.post<{ Body: { format: 'csv' | 'xlsx'; content: string; dryRun: boolean } }>('/platform/units/import', {
    bodyLimit: 8 * 1024 * 1024,
    schema: {
      tags: ['platform'],
      summary: '从表格导入单位（平台管理员）：试导入（dryRun）逐行报告问题而不做任何修改；正式导入要么全部成功，要么一行也不导入',
      description: '列名（第一行）：单位编号、单位名称、统一社会信用代码、层级（市/区县/部门/乡镇）、上级单位编号、发文字号前缀、印章名称（可空）。已有的单位编号为修改，其余为新建。',
      body: {
        type: 'object', required: ['format', 'content'], additionalProperties: false,
        properties: {
          format: { type: 'string', enum: ['csv', 'xlsx'] },
          content: { type: 'string', minLength: 1, maxLength: 8_000_000, description: 'CSV 为文本（UTF-8）；XLSX 为文件内容的 base64' },
          dryRun: { type: 'boolean', default: false },
        },
      },
      response: { 200: report, ...errorResponses },
    },
  }, async (req) => importer.run(req.principal, req.body))

  app.post<{ Params: { id: string }; Body: { userId?: string; username?: string; name?: string; password?: string } }>('/platform/units/:id/admins', {
    schema: {
      tags: ['platform'], summary: '指定单位管理员（平台管理员）：本单位已有人员（userId），或新建账号（username、name、password）', params: idParams,
      body: {
        type: 'object', additionalProperties: false, minProperties: 1,
        properties: {
          userId: { type: 'string', minLength: 1, maxLength: 100 },
          username: { type: 'string', pattern: '^[a-z][a-z0-9_.-]{2,39}$', description: '登录用户名：小写字母开头，3–40 位字母、数字、_ . -' },
          name: text(50, '姓名'),
          password: { type: 'string', minLength: 8, maxLength: 72, description: '初始密码，至少 8 位' },
        },
      },
      response: { 200: unit, ...errorResponses },
    },
  }, async (req) => units.addAdmin(req.principal, req.params.id, req.body))

  app.delete<{ Params: { id: string; userId: string } }>('/platform/units/:id/admins/:userId', {
    schema: {
      tags: ['platform'], summary: '取消某人的单位管理员角色（平台管理员）',
      params: { type: 'object', required: ['id', 'userId'], properties: { id: { type: 'string', minLength: 1, maxLength: 100 }, userId: { type: 'string', minLength: 1, maxLength: 100 } } },
      response: { 200: unit, ...errorResponses },
    },
  }, async (req) => units.removeAdmin(req.principal, req.params.id, req.params.userId))
}

export default routes
