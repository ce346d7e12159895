// A real engine node for adapter tests: a scratch PostgreSQL database with stand-ins for the app's
// inbox functions (each call recorded), the engine started on it through EngineProcess, and BPMN text.
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import type { Logger } from 'pino'
import { EngineProcess } from '../../engine/operaton/process.ts'

/** A model in the camunda: dialect; this engine refuses one without camunda:historyTimeToLive. */
export function bpmn(id: string, body: string, rootElements = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="${id}-definitions" targetNamespace="http://gongwen.test/bpmn">
  ${rootElements}
  <process id="${id}" isExecutable="true" camunda:historyTimeToLive="P30D">${body}
  </process>
</definitions>
`
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await fn()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** A database of its own, with stand-ins for the app's inbox functions that record each call. */
export async function scratchDatabase() {
  const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
  const name = `gw_operaton_${process.pid}_${Date.now()}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`create database ${name}`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  const client = new pg.Client({ connectionString: url.toString() })
  await client.connect()
  await client.query('create table public.engine_calls (id serial primary key, fn text not null, args text[] not null)')
  const record = (fn: string, params: string[], args: string[]) =>
    client.query(`create function public.gongwen_${fn}(${params.join(', ')}) returns void language sql
      as $$ insert into public.engine_calls (fn, args) values ('${fn}', array[${args.join(', ')}]) $$`)
  const texts = (n: number) => Array.from({ length: n }, () => 'text')
  const refs = (n: number) => Array.from({ length: n }, (_, i) => `$${i + 1}`)
  await record('task_created', texts(11), refs(11))
  await record('task_assigned', texts(2), refs(2))
  await record('task_completed', texts(1), refs(1))
  await record('task_deleted', texts(1), refs(1))
  await record('instance_ended', ['text', 'boolean'], ['$1', '$2::text'])
  return {
    url: url.toString(),
    async calls(fn: string): Promise<string[][]> {
      return (await client.query('select args from public.engine_calls where fn = $1 order by id', [fn])).rows.map((r) => r.args)
    },
    async drop() {
      await client.end()
      await admin.query(`drop database if exists ${name} with (force)`)
      await admin.end()
    },
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo
      srv.close(() => resolve(port))
    })
  })
}

/** Starts an engine node through the server's own supervisor; `rest` reads the engine for assertions. */
export async function startNode(databaseUrl: string, token: string, log: Logger) {
  const dataDir = await mkdtemp(join(tmpdir(), 'gongwen-engine-'))
  const supervisor = new EngineProcess({ dataDir, port: await freePort(), token, database: { url: databaseUrl }, log })
  await supervisor.start().catch(async (err) => {
    await rm(dataDir, { recursive: true, force: true })
    throw err
  })
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  return {
    url: supervisor.url,
    token,
    async rest<T>(method: string, path: string, body?: unknown): Promise<T> {
      const res = await fetch(supervisor.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
      return (await res.json()) as T
    },
    async stop() {
      await supervisor.stop()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}
