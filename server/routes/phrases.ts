// Placeholder: routes of the 笺 forms work.
import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../app.ts'

const routes: FastifyPluginAsync<Services> = async () => {}

export default routes
