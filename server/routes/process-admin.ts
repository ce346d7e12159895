// A unit admin's flows: the unit's versions (standard and its own) with the documents running on
// each, a version's BPMN, checking a changed model, and deploying it for the unit only.
import type { FastifyPluginAsync } from 'fastify'
import type { Logger } from 'pino'
import type { Services } from '../app.ts'
import { errorResponses } from '../schemas.ts'
import { ProcessAdmin } from '../services/process-admin.ts'

const problem = { type: 'object', properties: { field: { type: 'string', description: '元素编号，或 元素编号.字段' }, message: { type: 'string' } } }
const baseParams = { type: 'object', required: ['baseId'], properties: { baseId: { type: 'string', pattern: '^[a-z]{1,40}$', description: '流程：fawen（发文）、fenwen（分文报批）或 chengyue（呈阅笺）' } } }
const xmlBody = { type: 'object', required: ['xml'], additionalProperties: false, properties: { xml: { type: 'string', minLength: 1, maxLength: 1_000_000, description: 'BPMN 2.0 XML' } } }
const version = {
  type: 'object',
  properties: {
    key: { type: 'string', description: '流程定义编号（引擎给出的不透明编号）' },
    processId: { type: 'string' },
    version: { type: 'integer' },
    scope: { type: 'string', enum: ['standard', 'unit'], description: 'standard：系统随附的标准流程；unit：本单位管理员部署的版本' },
    current: { type: 'boolean', description: '本单位的新公文按此版本办理（版本号最高者）' },
    deployedAt: { type: 'string', format: 'date-time' },
    deployedBy: { type: ['string', 'null'] },
    runningCount: { type: 'integer', description: '本单位按此版本办理中的公文数' },
    running: {
      type: 'array', description: '本单位按此版本办理中的公文（processVersion，最多 100 件）',
      items: { type: 'object', properties: { id: { type: 'string' }, title: { type: 'string' }, status: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' } } },
    },
  },
}
const flow = {
  type: 'object',
  properties: {
    baseId: { type: 'string' }, name: { type: 'string' }, form: { type: 'string', description: '该流程各步骤使用的笺' },
    processId: { type: 'string', description: '流程编号（各单位相同，版本按单位分开）' },
    versions: { type: 'array', items: version },
  },
}

const routes: FastifyPluginAsync<Services> = async (app, { knex, engine, models, forms }) => {
  const admin = new ProcessAdmin(knex, engine, models, forms, app.log as unknown as Logger)

  app.get('/processes', {
    schema: { tags: ['processes'], summary: '本单位可修改的流程及本单位的各版本（标准版本与本单位部署的版本），每个版本上办理中的公文（单位管理员）', response: { 200: { type: 'array', items: flow }, ...errorResponses } },
  }, async (req) => admin.list(req.principal))

  app.get<{ Params: { key: string } }>('/processes/:key/xml', {
    schema: {
      tags: ['processes'], summary: '本单位某流程版本的 BPMN XML（单位管理员）',
      params: { type: 'object', required: ['key'], properties: { key: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,200}$' } } },
      response: { 200: { description: 'BPMN XML', content: { 'application/xml': { schema: { type: 'string' } } } }, ...errorResponses },
    },
  }, async (req, reply) => reply.type('application/xml; charset=utf-8').header('cache-control', 'no-store').send(await admin.xml(req.principal, req.params.key)))

  app.post<{ Params: { baseId: string }; Body: { xml: string } }>('/processes/:baseId/lint', {
    schema: {
      tags: ['processes'], summary: '校验流程模型（Camunda 7 兼容性、笺的绑定、本系统规则与表达式），不部署',
      params: baseParams, body: xmlBody,
      response: { 200: { type: 'object', properties: { problems: { type: 'array', items: problem } } }, ...errorResponses },
    },
  }, async (req) => ({ problems: await admin.lint(req.principal, req.params.baseId, req.body.xml) }))

  app.post<{ Params: { baseId: string }; Body: { xml: string } }>('/processes/:baseId/deploy', {
    schema: {
      tags: ['processes'], summary: '部署为本单位的新版本：本单位新公文按新版本办理，办理中的公文按原版本办结；有问题时不部署（400，逐项列出）',
      params: baseParams, body: xmlBody,
      response: { 201: { type: 'object', properties: { processDefinitionKey: { type: 'string' }, version: { type: 'integer' }, processId: { type: 'string' } } }, ...errorResponses },
    },
  }, async (req, reply) => reply.status(201).send(await admin.deploy(req.principal, req.params.baseId, req.body.xml)))
}

export default routes
