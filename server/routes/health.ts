// Health of the two things the system cannot work without: the engine and the database.
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
    const [database, engineState] = await Promise.all([
      knex.raw('select 1').then(() => 'up', () => 'down'),
      engine.healthy().then((ok) => (ok ? 'up' : 'down')),
    ])
    const status = database === 'up' && engineState === 'up' ? 'up' : 'down'
    return reply.status(status === 'up' ? 200 : 503).send({ status, engine: engineState, database })
  })
}

export default routes
