// The pinned Zeebe distribution: fetch it from Maven Central, verify it, unpack it into the
// user's cache, and build our exporter jar against its libraries. Nothing here is committed.
import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream, existsSync } from 'node:fs'
import { mkdir, readFile, rename, rm } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { Logger } from 'pino'
import { findJava } from './java.ts'

const run = promisify(execFile)

/**
 * 8.6.0 is the newest camunda-zeebe tar.gz that Maven Central serves to this machine (8.7+ are
 * not there). The sha512 is pinned here; the published .sha1 is checked as well.
 */
export const ZEEBE_VERSION = '8.6.0'
const ZEEBE_SHA512 =
  'a0a90be168c7f831adf8d46489e5311c524fffca776bf715f17e2a3dedc44dc3013930611f84d892442b9bc070514dc2f13f88be5a9a2626e332daa97d65fdc8'
const MAVEN_CENTRAL = 'https://repo1.maven.org/maven2'
const EXPORTER_SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'exporter', 'GongwenExporter.java')

/** Where downloads are cached: ZEEBE_CACHE_DIR, else $XDG_CACHE_HOME/gongwen, else ~/.cache/gongwen. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ZEEBE_CACHE_DIR) return resolve(env.ZEEBE_CACHE_DIR)
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache')
  return join(base, 'gongwen', 'zeebe')
}

export interface Distribution {
  home: string
  exporterJar: string
}

/** Ensures the distribution is unpacked and the exporter built; downloads only when missing. */
export async function ensureDistribution(log: Logger, env = process.env): Promise<Distribution> {
  const dir = cacheDir(env)
  const home = join(dir, `camunda-zeebe-${ZEEBE_VERSION}`)
  await mkdir(dir, { recursive: true })
  if (!existsSync(join(home, 'bin', 'broker'))) {
    const archive = join(dir, `camunda-zeebe-${ZEEBE_VERSION}.tar.gz`)
    if (!existsSync(archive) || (await sha(archive, 'sha512')) !== ZEEBE_SHA512) {
      await download(log, archive)
    }
    log.info({ archive }, 'unpacking Zeebe')
    const staging = `${home}.partial`
    await rm(staging, { recursive: true, force: true })
    await mkdir(staging, { recursive: true })
    await run('tar', ['xzf', archive, '-C', staging, '--strip-components=1'])
    await rename(staging, home)
  }
  const exporterJar = await buildExporter(log, home, dir)
  return { home, exporterJar }
}

async function download(log: Logger, archive: string): Promise<void> {
  const url = `${MAVEN_CENTRAL}/io/camunda/camunda-zeebe/${ZEEBE_VERSION}/camunda-zeebe-${ZEEBE_VERSION}.tar.gz`
  log.info({ url }, 'downloading Zeebe from Maven Central (about 300 MB, once per machine)')
  const res = await fetch(url)
  if (!res.ok || !res.body) throw new Error(`download of ${url} failed: HTTP ${res.status}`)
  const total = Number(res.headers.get('content-length') ?? 0)
  let received = 0
  let lastReport = 0
  const body = Readable.fromWeb(res.body as never)
  body.on('data', (chunk: Buffer) => {
    received += chunk.length
    if (total && received - lastReport > total / 10) {
      lastReport = received
      log.info({ percent: Math.round((received / total) * 100) }, 'downloading Zeebe')
    }
  })
  const partial = `${archive}.partial`
  await pipeline(body, createWriteStream(partial))
  const sha512 = await sha(partial, 'sha512')
  if (sha512 !== ZEEBE_SHA512) {
    await rm(partial, { force: true })
    throw new Error(`Zeebe archive checksum mismatch (sha512 ${sha512}); the download was removed, run again`)
  }
  const published = (await (await fetch(`${url}.sha1`)).text()).trim().split(/\s+/)[0]
  if (published !== (await sha(partial, 'sha1'))) {
    await rm(partial, { force: true })
    throw new Error('Zeebe archive does not match the .sha1 published on Maven Central; run again')
  }
  await rename(partial, archive)
  log.info({ archive }, 'Zeebe downloaded and verified')
}

async function sha(file: string, algorithm: 'sha1' | 'sha512'): Promise<string> {
  const hash = createHash(algorithm)
  await pipeline(createReadStream(file), hash)
  return hash.digest('hex')
}

/** Compiles the exporter with javac against the distribution's own jars; cached by source hash. */
async function buildExporter(log: Logger, home: string, dir: string): Promise<string> {
  const source = await readFile(EXPORTER_SOURCE)
  const digest = createHash('sha256').update(source).update(ZEEBE_VERSION).digest('hex').slice(0, 16)
  const jar = join(dir, `gongwen-exporter-${digest}.jar`)
  if (existsSync(jar)) return jar
  const java = await findJava()
  const out = join(dir, `exporter-classes-${digest}`)
  await rm(out, { recursive: true, force: true })
  log.info('compiling the gongwen exporter')
  await run(join(java.home, 'bin', 'javac'), ['--release', '21', '-nowarn', '-cp', join(home, 'lib', '*'), '-d', out, EXPORTER_SOURCE])
  await run(join(java.home, 'bin', 'jar'), ['cf', `${jar}.partial`, '-C', out, '.'])
  await rename(`${jar}.partial`, jar)
  await rm(out, { recursive: true, force: true })
  return jar
}
