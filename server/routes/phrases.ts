// 常用意见: the caller's saved opinion phrases.
import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../app.ts'
import { Phrases } from '../forms/phrases.ts'
import { errorResponses } from '../schemas.ts'

const phrase = { type: 'object', properties: { id: { type: 'string' }, text: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' } } }

const routes: FastifyPluginAsync<Services> = async (app, { knex }) => {
  const phrases = new Phrases(knex)

  app.get('/people/me/phrases', {
    schema: { tags: ['people'], summary: '我的常用意见', response: { 200: { type: 'array', items: phrase }, ...errorResponses } },
  }, async (req) => phrases.list(req.principal))

  app.post<{ Body: { text: string } }>('/people/me/phrases', {
    schema: {
      tags: ['people'], summary: '保存一条常用意见（1–500 字，每人最多 50 条，不可重复）',
      body: { type: 'object', required: ['text'], additionalProperties: false, properties: { text: { type: 'string', maxLength: 2000, description: '意见文字' } } },
      response: { 201: phrase, ...errorResponses },
    },
  }, async (req, reply) => reply.status(201).send(await phrases.add(req.principal, req.body.text)))

  app.delete<{ Params: { id: string } }>('/people/me/phrases/:id', {
    schema: { tags: ['people'], summary: '删除一条常用意见', params: { type: 'object', properties: { id: { type: 'string', maxLength: 100 } } }, response: { 204: { type: 'null' }, ...errorResponses } },
  }, async (req, reply) => {
    await phrases.remove(req.principal, req.params.id)
    return reply.status(204).send()
  })
}

export default routes
