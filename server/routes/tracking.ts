// 跟踪: a document's process diagram (the BPMN of the version it runs on) with the steps done and
// the steps open now, for the web UI's tracking view.
import type { FastifyPluginAsync } from 'fastify'
import type { Services } from '../app.ts'
import { fail } from '../errors.ts'
import { errorResponses } from '../schemas.ts'

const ids = { type: 'array', items: { type: 'string' } }

const routes: FastifyPluginAsync<Services> = async (app, { knex, documents }) => {
  app.get<{ Params: { id: string } }>('/documents/:id/diagram', {
    schema: {
      tags: ['documents'],
      summary: '公文的流程图（该公文所用流程版本的 BPMN XML）及已办步骤、当前步骤的元素编号',
      params: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } } },
      response: {
        200: {
          type: 'object',
          properties: {
            processId: { type: 'string' },
            version: { type: 'integer' },
            xml: { type: 'string' },
            current: { ...ids, description: '正在办理的步骤（待办未结）' },
            done: { ...ids, description: '已完成的步骤（已办结的待办与系统步骤，如编号、盖章、分发）' },
          },
        },
        ...errorResponses,
      },
    },
  }, async (req) => {
    const id = req.params.id
    if (!(await documents.canRead(req.principal, id))) throw fail('NOT_FOUND', '未找到该公文')
    const doc = await knex('documents').where({ id, unit_id: req.principal.unitId }).first('process_definition_key')
    // A document whose start was not yet linked falls back to the version its tasks run on.
    const key = doc?.process_definition_key ?? (await knex('tasks').where({ document_id: id }).first('process_definition_key'))?.process_definition_key
    const definition = key ? await knex('process_definitions').where({ key }).first('bpmn_process_id', 'version', 'xml') : null
    if (!definition) throw fail('NOT_FOUND', '该公文尚无流程图')
    const [tasks, system] = await Promise.all([
      knex('tasks').where({ document_id: id, process_definition_key: key }).distinct('element_id', 'state'),
      // Automated steps leave only their log entry; entries carried over by 转笺/合并 belong to another flow.
      knex('routing_log').where({ document_id: id, channel: 'system' }).whereNot('dedup_key', 'like', 'carried:%').distinct('step'),
    ])
    const current = [...new Set(tasks.filter((t) => t.state === 'open').map((t) => t.element_id as string))]
    const done = new Set([...tasks.filter((t) => t.state === 'completed' || t.state === 'completing').map((t) => t.element_id as string), ...system.map((s) => s.step as string)])
    return { processId: definition.bpmn_process_id, version: definition.version, xml: definition.xml, current, done: [...done].filter((s) => !current.includes(s)) }
  })
}

export default routes
