// Test harness: a fresh PostgreSQL database per test file and the server started on it through the
// same startSystem() the README's start command uses, which starts and supervises the real engine.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import type { EngineNode } from '../../engine/index.ts'
import { loadConfig } from '../../server/config.ts'
import { startSystem } from '../../server/main.ts'
import { createScratchDatabase } from './database.ts'
import { freeRange } from './ports.ts'
import { cleanSlate, runEngine, testJavaOptions } from './run-engine.ts'

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'warn' })

export interface Stack {
  url: string
  port: number
  databaseUrl: string
  /** The engine node the running server uses (it supervises it unless it is the run's shared one). */
  readonly engine: EngineNode
  server: Awaited<ReturnType<typeof startSystem>> | null
  startServer(): Promise<void>
  stopServer(): Promise<void>
  close(): Promise<void>
}

/**
 * Starts the server on a clean database. Under tap the server uses the run's one engine node
 * (run-engine.ts) and the run's database, wiped for this file; a file that stops or kills its
 * engine asks for `ownEngine`, and then gets a scratch database and an engine node of its own, as
 * does a file run on its own.
 */
export async function startStack(options: { env?: Record<string, string>; ownEngine?: boolean } = {}): Promise<Stack> {
  const dir = await mkdtemp(join(tmpdir(), 'gongwen-test-'))
  const shared = options.ownEngine ? null : await runEngine()
  if (shared) await cleanSlate(shared)
  const database = shared ? { url: shared.databaseUrl, drop: async () => {} } : await createScratchDatabase('gw_test')
  const databaseUrl = database.url
  const base = await freeRange(2)
  const port = base
  const config = loadConfig({
    PORT: String(port),
    ...(shared ? { ENGINE_URL: shared.url, ENGINE_TOKEN: shared.token } : { ENGINE_PORT: String(base + 1), ENGINE_TOKEN: 'test-engine-token' }),
    ENGINE_JAVA_OPTS: testJavaOptions.join(' '),
    DATABASE_URL: databaseUrl,
    GONGWEN_DATA_DIR: dir,
    AUTH_SECRET: 'test-secret',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    ...options.env,
  })

  const stack: Stack = {
    url: `http://127.0.0.1:${port}`,
    port,
    databaseUrl,
    get engine() {
      if (!stack.server) throw new Error('the server is not running')
      return stack.server.engineNode
    },
    server: null,
    async startServer() {
      stack.server = await startSystem(config, log)
    },
    async stopServer() {
      await stack.server?.shutdown()
      stack.server = null
    },
    async close() {
      await stack.stopServer()
      await database.drop()
      await rm(dir, { recursive: true, force: true })
    },
  }
  try {
    await stack.startServer()
  } catch (err) {
    // A server that fails to start must not leave an orphaned engine, database or folder behind.
    await stack.close().catch(() => undefined)
    throw err
  }
  return stack
}

/** A small REST client for tests: logs in demo people and calls the API as them. */
export class Api {
  private tokens = new Map<string, string>()
  constructor(private readonly stack: Stack) {}

  async token(username: string): Promise<string> {
    let token = this.tokens.get(username)
    if (!token) {
      const res = await this.call('POST', '/auth/login', { body: { username, password: 'gongwen123' } })
      if (res.status !== 200) throw new Error(`login ${username} failed: ${res.status} ${JSON.stringify(res.body)}`)
      token = res.body.token as string
      this.tokens.set(username, token)
    }
    return token
  }

  async call(method: string, path: string, opts: { as?: string; apiKey?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {}) {
    const headers: Record<string, string> = { ...opts.headers }
    if (opts.as) headers.authorization = `Bearer ${await this.token(opts.as)}`
    if (opts.apiKey) headers['x-api-key'] = opts.apiKey
    if (opts.body !== undefined || opts.raw !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(this.stack.url + path, { method, headers, body: opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)) })
    const text = await res.text()
    let body: any = null
    try {
      body = text ? JSON.parse(text) : null
    } catch {
      body = text
    }
    return { status: res.status, body }
  }

  /** Uploads a file as multipart/form-data (the files routes). */
  async upload(as: string, path: string, file: { bytes: Buffer; name: string; type?: string }, fields: Record<string, string> = {}) {
    const form = new FormData()
    for (const [k, v] of Object.entries(fields)) form.append(k, v)
    form.append('file', new Blob([new Uint8Array(file.bytes)], { type: file.type ?? '' }), file.name)
    const res = await fetch(this.stack.url + path, { method: 'POST', headers: { authorization: `Bearer ${await this.token(as)}` }, body: form })
    return { status: res.status, body: await res.json() }
  }

  as(username: string) {
    return {
      get: (path: string) => this.call('GET', path, { as: username }),
      post: (path: string, body?: unknown, headers?: Record<string, string>) => this.call('POST', path, { as: username, body, headers }),
    }
  }
}

export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const value = await fn()
      if (value) return value
    } catch (err) {
      last = err
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`)
}

export const draft = (overrides: Record<string, unknown> = {}) => ({
  title: '关于做好冬季安全生产工作的通知',
  docKind: '通知',
  mainRecipients: ['liuzhou-edu'],
  ccRecipients: ['liuzhou-fin'],
  urgency: '平件',
  publicity: '主动公开',
  body: '各有关单位：请认真做好冬季安全生产工作。',
  ...overrides,
})

/** The open tasks of a person, as the inbox shows them. */
export async function inbox(api: Api, username: string) {
  const res = await api.as(username).get('/tasks')
  if (res.status !== 200) throw new Error(`inbox of ${username}: ${res.status}`)
  return res.body.items as Array<{ taskKey: string; step: string; documentId: string; title: string }>
}

/** Waits until the person's inbox holds a task at `step` for the document, and returns it. */
export async function taskFor(api: Api, username: string, documentId: string, step: string) {
  return waitFor(`${username}'s ${step} task`, async () => (await inbox(api, username)).find((t) => t.documentId === documentId && t.step === step))
}

export async function startFawen(api: Api, username = 'zhangwei', data = draft()) {
  const res = await api.as(username).post('/documents', { kind: 'fawen', data })
  if (res.status !== 201) throw new Error(`start failed: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.id as string
}
