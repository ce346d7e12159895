// One engine node for a whole test run. tap's `before` script starts it on a database of its own
// and writes where it listens into .tap/engine/<run>/run.json, <run> being the pid of the tap
// process that runs both the script and the test files (so runs side by side stay apart); each
// test file's server uses it through
// ENGINE_URL instead of starting its own engine (see stack.ts), and tap's `after` script stops it
// and drops the database. Files run one at a time (tap jobs: 1), and each file starts from a clean
// slate: the previous file's deployments, instances and history are deleted in the engine, and
// its app schema is dropped and built again by the migrations.
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import knexFactory from 'knex'
import pino from 'pino'
import { EngineProcess, alive } from '../../engine/operaton/process.ts'
import { createScratchDatabase, dropDatabase } from './database.ts'
import { freeRange } from './ports.ts'

const root = join(import.meta.dirname, '..', '..', '.tap', 'engine')
/** This run: the tap process that spawned the `before` script and every test file. */
const thisRun = String(process.ppid)
const runDir = (run: string) => join(root, run)
const runFile = (run: string) => join(runDir(run), 'run.json')

export interface RunEngine {
  /** The engine's REST API, e.g. http://127.0.0.1:31234/engine-rest */
  url: string
  token: string
  /** The run's database: the engine's tables in schema operaton, the app's in public. */
  databaseUrl: string
  databaseName: string
}

/** Java options for engine nodes in tests: start-up matters more than peak speed. */
export const testJavaOptions = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC']

function processOf(dir: string, run: Pick<RunEngine, 'databaseUrl' | 'token'>, port: number) {
  return new EngineProcess({
    dataDir: dir, port, token: run.token, database: { url: run.databaseUrl }, javaOptions: testJavaOptions,
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'warn' }),
  })
}

/** Starts the run's engine (tap `before`). Nodes left by aborted runs are stopped first. */
export async function startRunEngine(): Promise<RunEngine> {
  for (const run of existsSync(root) ? await readdir(root) : []) {
    if (/^\d+$/.test(run) && run !== thisRun && !alive(Number(run))) await stopRunEngine(run)
  }
  await mkdir(runDir(thisRun), { recursive: true })
  const database = await createScratchDatabase('gw_testrun')
  const token = randomBytes(16).toString('hex')
  const port = await freeRange(1)
  const node = processOf(runDir(thisRun), { databaseUrl: database.url, token }, port)
  await node.start()
  const run: RunEngine = { url: node.url, token, databaseUrl: database.url, databaseName: database.name }
  await writeFile(runFile(thisRun), JSON.stringify({ ...run, port }))
  return run
}

/** Stops a run's engine and drops its database (tap `after`, or a sweep of an aborted run). */
export async function stopRunEngine(id = thisRun): Promise<void> {
  if (existsSync(runFile(id))) {
    const run = JSON.parse(await readFile(runFile(id), 'utf8')) as RunEngine & { port: number }
    const node = processOf(runDir(id), run, run.port)
    // Adopts the node if it still answers, and stops it.
    if (await node.ready()) await node.start()
    await node.stop()
    await dropDatabase(run.databaseName)
  }
  await rm(runDir(id), { recursive: true, force: true })
}

/** The run's engine when one answers (tests run by tap), else null (a file run on its own). */
export async function runEngine(): Promise<RunEngine | null> {
  if (!existsSync(runFile(thisRun))) return null
  const run = JSON.parse(await readFile(runFile(thisRun), 'utf8')) as RunEngine & { port: number }
  return (await processOf(runDir(thisRun), run, run.port).ready()) ? run : null
}


/**
 * Gives the next test file a clean slate on the run's engine: every deployment is deleted with its
 * instances and history (the inbox listeners still find the previous file's functions), then the
 * app schema is dropped, for the server's migrations to build again.
 */
export async function cleanSlate(run: RunEngine): Promise<void> {
  const headers = { authorization: `Bearer ${run.token}` }
  for (let attempt = 1; ; attempt++) {
    const deployments = (await (await fetch(`${run.url}/deployment`, { headers })).json()) as Array<{ id: string }>
    if (!deployments.length) break
    const failed: string[] = []
    for (const { id } of deployments) {
      const res = await fetch(`${run.url}/deployment/${id}?cascade=true&skipCustomListeners=true&skipIoMappings=true`, { method: 'DELETE', headers })
      if (!res.ok && res.status !== 404) failed.push(`${id}: ${res.status} ${await res.text()}`)
    }
    // A job of the previous file may hold an instance for a moment (optimistic locking): try again.
    if (failed.length && attempt >= 5) throw new Error(`could not clear the run's engine: ${failed.join('; ')}`)
  }
  const knex = knexFactory({ client: 'pg', connection: run.databaseUrl, pool: { min: 0, max: 1 } })
  try {
    await knex.raw('drop schema if exists public cascade; create schema public')
  } finally {
    await knex.destroy()
  }
}
