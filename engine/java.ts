// Finds a Java runtime new enough for Zeebe (21+): JAVA_HOME first, then the JDKs under /usr/lib/jvm.
import { execFile } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
export const MIN_JAVA = 21

export interface Java {
  home: string
  major: number
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

export async function findJava(env: NodeJS.ProcessEnv = process.env): Promise<Java> {
  const candidates: string[] = []
  if (env.JAVA_HOME) candidates.push(env.JAVA_HOME)
  for (const root of ['/usr/lib/jvm', '/opt/java', '/usr/local/lib/jvm']) {
    if (!existsSync(root)) continue
    for (const name of readdirSync(root).sort().reverse()) candidates.push(join(root, name))
  }
  const seen: string[] = []
  let best: Java | null = null
  for (const home of candidates) {
    const major = await majorOf(home)
    if (major === null) continue
    seen.push(`${home} (Java ${major})`)
    if (major >= MIN_JAVA && (!best || major > best.major)) best = { home, major }
    if (best && home === env.JAVA_HOME) break
  }
  if (!best) {
    throw new Error(
      `Zeebe needs Java ${MIN_JAVA} or newer; found ${seen.length ? seen.join(', ') : 'no JDK'}. ` +
        `Install one (for example Debian's openjdk-${MIN_JAVA}-jre-headless or Temurin ${MIN_JAVA}+) ` +
        'and set JAVA_HOME to it, or set ZEEBE_ADDRESS to use a running cluster.',
    )
  }
  return best
}
