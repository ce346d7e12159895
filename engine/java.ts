// Finds a Java runtime new enough for Operaton (17+): JAVA_HOME first, then `java` on PATH and
// the JDKs under /usr/lib/jvm.
import { execFile } from 'node:child_process'
import { existsSync, readdirSync, realpathSync } from 'node:fs'
import { delimiter, dirname, join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
export const MIN_JAVA = 17

export interface Java {
  home: string
  major: number
}

export interface FindJavaOptions {
  /** Also require javac: building the engine jar needs a JDK, running it only a JRE. */
  compiler?: boolean
}

async function majorOf(home: string): Promise<number | null> {
  const bin = join(home, 'bin', 'java')
  if (!existsSync(bin)) return null
  try {
    const { stderr, stdout } = await run(bin, ['-version'])
    const match = /version "(\d+)(?:\.(\d+))?/.exec(stderr + stdout)
    if (!match) return null
    const first = Number(match[1])
    return first === 1 ? Number(match[2]) : first
  } catch {
    return null
  }
}

export async function findJava(env: NodeJS.ProcessEnv = process.env, options: FindJavaOptions = {}): Promise<Java> {
  const candidates: string[] = []
  if (env.JAVA_HOME) candidates.push(env.JAVA_HOME)
  // `java` on PATH is usually a link (/usr/bin/java → …/jvm/x/bin/java); its home is two levels up.
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const bin = join(dir, 'java')
    if (existsSync(bin)) candidates.push(dirname(dirname(realpathSync(bin))))
  }
  for (const root of ['/usr/lib/jvm', '/opt/java', '/usr/local/lib/jvm']) {
    if (!existsSync(root)) continue
    for (const name of readdirSync(root).sort().reverse()) candidates.push(join(root, name))
  }
  const seen: string[] = []
  let best: Java | null = null
  for (const home of new Set(candidates)) {
    const major = await majorOf(home)
    if (major === null) continue
    const hasCompiler = existsSync(join(home, 'bin', 'javac'))
    seen.push(`${home} (Java ${major}${options.compiler && !hasCompiler ? ', no javac' : ''})`)
    if (options.compiler && !hasCompiler) continue
    if (major >= MIN_JAVA && (!best || major > best.major)) best = { home, major }
    if (best && home === env.JAVA_HOME) break
  }
  if (!best) {
    const what = options.compiler ? `a JDK (with javac) of Java ${MIN_JAVA} or newer to build it` : `Java ${MIN_JAVA} or newer`
    const pkg = options.compiler ? `openjdk-${MIN_JAVA}-jdk-headless` : `openjdk-${MIN_JAVA}-jre-headless`
    throw new Error(
      `The Operaton engine needs ${what}; found ${seen.length ? seen.join(', ') : 'no Java'}. ` +
        `Install one (on Debian/Ubuntu: apt-get install ${pkg}; or Temurin ${MIN_JAVA}+) ` +
        'and set JAVA_HOME to it if it is not under /usr/lib/jvm.',
    )
  }
  return best
}
