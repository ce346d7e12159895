// The 笺: the list and schemas of the 笺, and a document's 笺 rendered for screen, print and PDF.
import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import type { Services } from '../app.ts'
import { Jian } from '../forms/jian.ts'
import { errorResponses } from '../schemas.ts'

const documentId = { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid' } } }
const formInfo = { type: 'object', properties: { key: { type: 'string' }, version: { type: 'integer' }, title: { type: 'string' } } }
// A 笺 page holds no script and loads nothing: styles inline, images (the QR code) as data URLs.
const pageHeaders = { 'cache-control': 'no-store', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:" }

const routes: FastifyPluginAsync<Services> = async (app, { knex, forms, models, documents }) => {
  // The registry learns its versions before the server serves (idempotent; main.ts may do it first).
  if (!forms.isSynced) await forms.sync(knex)
  app.addHook('onClose', () => forms.close())
  const jian = new Jian(knex, forms, models, documents)

  app.get('/forms', {
    schema: { tags: ['forms'], summary: '笺的列表及其当前版本', response: { 200: { type: 'array', items: formInfo }, ...errorResponses } },
  }, async () => forms.list())

  app.get<{ Params: { key: string }; Querystring: { version?: number } }>('/forms/:key', {
    schema: {
      tags: ['forms'], summary: '某笺的 JSON Schema（当前版本，或 ?version= 指定的版本）及其意见栏',
      params: { type: 'object', properties: { key: { type: 'string', pattern: '^[a-z0-9-]{1,100}$' } } },
      querystring: { type: 'object', properties: { version: { type: 'integer', minimum: 1 } }, additionalProperties: false },
      response: {
        200: {
          type: 'object',
          properties: {
            ...formInfo.properties,
            schema: { type: 'object', additionalProperties: true },
            boxes: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, label: { type: 'string' } } } },
          },
        },
        ...errorResponses,
      },
    },
  }, async (req) => forms.describe(req.params.key, req.query.version))

  const html = (reply: FastifyReply, page: string) => reply.type('text/html; charset=utf-8').headers(pageHeaders).send(page)

  app.get<{ Params: { id: string }; Querystring: { print?: string } }>('/documents/:id/jian', {
    schema: {
      tags: ['forms'], summary: '公文的笺（HTML）；?print=1 为打印视图。可查阅该公文者看到完整的笺',
      params: documentId,
      querystring: { type: 'object', properties: { print: { type: 'string', enum: ['1', '0', 'true', 'false'], description: '1：打印视图' } }, additionalProperties: false },
      response: { 200: { description: '笺的 HTML 页面', content: { 'text/html': { schema: { type: 'string' } } } }, ...errorResponses },
    },
  }, async (req, reply) => html(reply, (await jian.html(req.principal, req.params.id, req.query.print === '1' || req.query.print === 'true')).html))

  app.get<{ Params: { id: string } }>('/documents/:id/jian.pdf', {
    schema: {
      tags: ['forms'], summary: '公文的笺（PDF，A4，由无界面 Chromium 排版）',
      params: documentId,
      response: { 200: { description: 'PDF', content: { 'application/pdf': { schema: { type: 'string', format: 'binary' } } } }, ...errorResponses },
    },
  }, async (req, reply) => {
    const { pdf, title } = await jian.pdf(req.principal, req.params.id)
    return reply
      .type('application/pdf')
      .header('cache-control', 'no-store')
      .header('content-disposition', `inline; filename="jian.pdf"; filename*=UTF-8''${encodeURIComponent(title)}.pdf`)
      .send(pdf)
  })
}

export default routes
