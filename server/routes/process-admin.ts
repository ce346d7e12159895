// Placeholder: routes of the web UI work.
import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../app.ts'

const routes: FastifyPluginAsync<Services> = async () => {}

export default routes
