// Builds the engine jar (engine/operaton/engine) with the Maven Wrapper when it is missing or
// older than its sources. Run by npm postinstall; the supervisor calls ensureEngineJar on demand.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { findJava } from '../java.ts'

export const engineProject = join(dirname(fileURLToPath(import.meta.url)), 'engine')
export const engineJar = join(engineProject, 'target', 'gongwen-engine.jar')

/** What the build reports progress to: a pino logger or the console. */
export interface BuildLog {
  info(message: string): void
}

const lockFile = join(engineProject, 'target', '.build-lock')
const staleLockMs = 15 * 60_000

/** Returns the path of an up-to-date engine jar, building it first when needed. */
export async function ensureEngineJar(log: BuildLog): Promise<string> {
  if (await upToDate()) return engineJar
  await withLock(log, async () => {
    if (await upToDate()) return // built by whoever held the lock
    const java = await findJava(process.env, { compiler: true })
    log.info(`building the Operaton engine jar with Java ${java.major} (${java.home})`)
    log.info('the first build downloads Maven and about 60 MB of libraries from Maven Central; later ones take ~30 s')
    // Unlinked, not overwritten: an engine running from the old jar keeps reading its open file.
    await rm(engineJar, { force: true })
    const started = Date.now()
    await mavenPackage(java.home)
    if (!existsSync(engineJar)) throw new Error(`the engine build finished without producing ${engineJar}`)
    log.info(`engine jar built in ${Math.round((Date.now() - started) / 1000)} s: ${engineJar}`)
  })
  return engineJar
}

async function upToDate(): Promise<boolean> {
  if (!existsSync(engineJar)) return false
  const built = (await stat(engineJar)).mtimeMs
  const inputs = [join(engineProject, 'pom.xml'), join(engineProject, '.mvn', 'wrapper', 'maven-wrapper.properties')]
  inputs.push(...(await filesUnder(join(engineProject, 'src'))))
  for (const file of inputs) if ((await stat(file)).mtimeMs > built) return false
  return true
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true })
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name))
}

function mavenPackage(javaHome: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const mvnw = process.platform === 'win32' ? 'mvnw.cmd' : './mvnw'
    const child = spawn(mvnw, ['-B', '-q', '-DskipTests', 'package'], {
      cwd: engineProject,
      env: { ...process.env, JAVA_HOME: javaHome },
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: process.platform === 'win32',
    })
    // -q keeps a good build silent; a failed one prints why, which the error below carries.
    let output = ''
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8000)
    }
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    child.once('error', (err) => reject(new Error(`cannot run the Maven Wrapper in ${engineProject}: ${err.message}`)))
    child.once('exit', (code, signal) => {
      if (code === 0) resolve()
      else reject(new Error(`the engine build failed (${signal ?? `exit code ${code}`}):\n${output.trim()}`))
    })
  })
}

/** One build at a time across processes (npm postinstall and a starting server, say). */
async function withLock(log: BuildLog, build: () => Promise<void>): Promise<void> {
  await mkdir(dirname(lockFile), { recursive: true })
  let waiting = false
  for (;;) {
    try {
      await writeFile(lockFile, String(process.pid), { flag: 'wx' })
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const age = Date.now() - (await stat(lockFile).then((s) => s.mtimeMs, () => Date.now()))
      if (age > staleLockMs) {
        await rm(lockFile, { force: true }) // left by a build that was killed
        continue
      }
      if (!waiting) log.info('another process is building the engine jar; waiting for it')
      waiting = true
      await new Promise((r) => setTimeout(r, 1000))
    }
  }
  try {
    await build()
  } finally {
    await rm(lockFile, { force: true })
  }
}

// As a script (npm postinstall): plain progress lines, and a clear message instead of a stack.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const log: BuildLog = { info: (message) => console.log(`[engine] ${message}`) }
  ensureEngineJar(log).then(
    (jar) => log.info(`engine jar ready: ${jar}`),
    (err: Error) => {
      console.error(`[engine] ${err.message}`)
      process.exit(1)
    },
  )
}
