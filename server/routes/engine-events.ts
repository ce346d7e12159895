// Receives the records the broker's exporter posts. Not part of the public API: it answers only
// to the exporter's token, and a 2xx tells the broker the batch is safely stored.
import { timingSafeEqual } from 'node:crypto'
import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../app.ts'
import { fail } from '../errors.ts'
import type { EngineRecord } from '../services/engine-events.ts'

const routes: FastifyPluginAsync<Services & { exporterToken: string }> = async (app, { engineEvents, exporterToken }) => {
  const expected = Buffer.from(exporterToken)
  app.post<{ Body: { partitionId: number; records: EngineRecord[] } }>('/internal/engine-events', {
    config: { public: true },
    bodyLimit: 64 * 1024 * 1024,
    schema: {
      hide: true,
      body: {
        type: 'object', required: ['partitionId', 'records'],
        properties: { partitionId: { type: 'integer' }, records: { type: 'array', items: { type: 'object', required: ['position', 'valueType', 'intent', 'value'] } } },
      },
    },
  }, async (req) => {
    const given = Buffer.from(String(req.headers['x-exporter-token'] ?? ''))
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw fail('UNAUTHENTICATED', 'exporter token mismatch')
    return engineEvents.apply(req.body.partitionId, req.body.records)
  })
}

export default routes
