// Health of the two things the system cannot work without: the broker and the database.
import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../app.ts'

const routes: FastifyPluginAsync<Services> = async (app, { knex, engine }) => {
  app.get('/health', {
    config: { public: true },
    schema: {
      tags: ['operations'], summary: '引擎与数据库状态',
      response: { 200: { type: 'object', additionalProperties: true }, 503: { type: 'object', additionalProperties: true } },
    },
  }, async (_req, reply) => {
    const [database, broker] = await Promise.all([
      knex.raw('select 1').then(() => 'up', () => 'down'),
      engine.healthy().then((ok) => (ok ? 'up' : 'down')),
    ])
    const exporter = await knex('engine_progress').select('partition_id as partition', 'position').catch(() => [])
    const status = database === 'up' && broker === 'up' ? 'up' : 'down'
    return reply.status(status === 'up' ? 200 : 503).send({ status, broker, database, exporter })
  })
}

export default routes
