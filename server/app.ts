// buildApp: the Fastify server with its plugins, schemas and routes, given ready services.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import addFormats from 'ajv-formats'
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import type { LoginSettings } from './config.ts'
import type { WorkflowEngine } from '../engine/port.ts'
import auditPlugin from './plugins/audit.ts'
import authPlugin from './plugins/auth.ts'
import errorPlugin from './plugins/errors.ts'
import inputPlugin, { strictDateFormat } from './plugins/input.ts'
import { typedBodyValidator } from './plugins/validators.ts'
import { registerSchemas } from './schemas.ts'
import { Audit } from './services/audit.ts'
import { Conversion } from './services/conversion.ts'
import { Documents } from './services/documents.ts'
import type { OutboundPolicy } from './notify/outbound.ts'
import { Notifications } from './services/notifications.ts'
import { Org } from './services/org.ts'
import type { RetryPolicy } from './services/recovery.ts'
import type { ProcessModels } from './services/process-models.ts'
import { TaskActions } from './services/task-actions.ts'
import { TaskCompletion } from './services/task-completion.ts'
import { TaskQueries } from './services/tasks.ts'
import type { Forms } from './forms/forms.ts'
import authRoutes from './routes/auth.ts'
import documentRoutes from './routes/documents.ts'
import fileRoutes from './routes/files.ts'
import formRoutes from './routes/forms.ts'
import healthRoutes from './routes/health.ts'
import notificationRoutes from './routes/notifications.ts'
import statisticsRoutes from './routes/statistics.ts'
import peopleRoutes from './routes/people.ts'
import phraseRoutes from './routes/phrases.ts'
import taskRoutes from './routes/tasks.ts'
import unitSettingsRoutes from './routes/unit-settings.ts'
import webRoutes from './routes/web.ts'
import trackingRoutes from './routes/tracking.ts'
import processAdminRoutes from './routes/process-admin.ts'
import orgAdminRoutes from './routes/org-admin.ts'
import auditRoutes from './routes/audit.ts'
import deadLetterRoutes from './routes/dead-letters.ts'
import apiKeyRoutes from './routes/api-keys.ts'
import delegationRoutes from './routes/delegation.ts'
import refusalRoutes from './routes/refusal.ts'
import jiaqianRoutes from './routes/jiaqian.ts'
import { ApiKeys } from './services/api-keys.ts'
import orgTreeRoutes from './routes/org-tree.ts'
import recipientRoutes from './routes/recipients.ts'
import circulationRoutes from './routes/circulation.ts'
import operationsRoutes from './routes/operations.ts'
import supervisionRoutes from './routes/supervision.ts'

export interface AppDeps {
  knex: Knex
  engine: WorkflowEngine
  models: ProcessModels
  forms: Forms
  log: Logger
  authSecret: string
  tokenTtl: string
  /** Login defences; the defaults of config.ts when absent. */
  login?: LoginSettings
  bodyLimit: number
  dataDir: string
  /** Backoff and dead letters of stored completions and outbox deliveries. */
  retry?: RetryPolicy
  /** What outbound calls (webhook, SMS gateway) may reach beyond public https:// addresses. */
  outbound?: OutboundPolicy
}

export interface Services {
  knex: Knex
  engine: WorkflowEngine
  org: Org
  documents: Documents
  conversion: Conversion
  tasks: TaskQueries
  completion: TaskCompletion
  actions: TaskActions
  notifications: Notifications
  forms: Forms
  models: ProcessModels
  audit: Audit
  dataDir: string
}

export async function buildApp(deps: AppDeps): Promise<{ app: FastifyInstance; services: Services }> {
  const { knex, engine, models, forms, log } = deps
  const actions = new TaskActions(knex, engine, models, log)
  const documents = new Documents(knex, engine, models, forms, log)
  const services: Services = {
    knex,
    engine,
    org: new Org(knex, deps.login),
    documents,
    conversion: new Conversion(knex, engine, documents, models, forms, log),
    tasks: new TaskQueries(knex, models, forms, actions),
    completion: new TaskCompletion(knex, engine, models, forms, log, deps.retry),
    actions,
    notifications: new Notifications(knex, log, deps.retry, deps.outbound),
    forms,
    models,
    audit: new Audit(knex),
    dataDir: deps.dataDir,
  }
  const app: FastifyInstance = Fastify({
    loggerInstance: log as unknown as FastifyBaseLogger,
    bodyLimit: deps.bodyLimit,
    ajv: {
      customOptions: { allErrors: true, removeAdditional: false, coerceTypes: 'array', useDefaults: true },
      // ajv-formats first (so Fastify does not add it again after), then the strict `date`.
      plugins: [addFormats as unknown as typeof strictDateFormat, strictDateFormat],
    },
    // coerceTypes above applies to params, query and headers only: a JSON body is taken as typed.
    schemaController: { compilersFactory: { buildValidator: typedBodyValidator() } },
  })
  registerSchemas(app)
  await app.register(errorPlugin)
  await app.register(inputPlugin)
  await app.register(swagger, {
    openapi: {
      info: { title: '公文流转 API', version: '0.1.0', description: '发文等公文流程的 REST 接口。人员用登录令牌（Authorization: Bearer），集成方用单位 API 密钥（X-API-Key）。' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
      security: [{ bearer: [] }, { apiKey: [] }],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
  })
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } })
  await app.register(authPlugin, { secret: deps.authSecret, tokenTtl: deps.tokenTtl, org: services.org, apiKeys: new ApiKeys(knex) })
  await app.register(auditPlugin, { knex, audit: services.audit })
  await app.register(healthRoutes, services)
  await app.register(authRoutes, services)
  await app.register(documentRoutes, services)
  await app.register(taskRoutes, services)
  await app.register(peopleRoutes, services)
  await app.register(unitSettingsRoutes, services)
  await app.register(trackingRoutes, services)
  await app.register(processAdminRoutes, services)
  await app.register(orgAdminRoutes, services)
  await app.register(auditRoutes, services)
  await app.register(apiKeyRoutes, services)
  await app.register(deadLetterRoutes, services)
  await app.register(refusalRoutes, services)
  await app.register(webRoutes, services)
  await app.register(fileRoutes, services)
  await app.register(notificationRoutes, services)
  await app.register(statisticsRoutes, services)
  await app.register(formRoutes, services)
  await app.register(phraseRoutes, services)
  await app.register(orgTreeRoutes, services)
  await app.register(recipientRoutes, services)
  await app.register(circulationRoutes, services)
  await app.register(delegationRoutes, services)
  await app.register(operationsRoutes, services)
  await app.register(supervisionRoutes, services)
  await app.register(jiaqianRoutes, services)
  return { app, services }
}
