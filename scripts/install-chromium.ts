// Installs what printing 笺 to PDF needs: Debian's chromium and a CJK font (without one, Chinese
// prints as empty boxes). Runs on `npm ci` (postinstall) and does nothing when both are present.
// It needs root and apt-get; elsewhere it says what to install and the rest of the system works
// without PDF export. Set SKIP_CHROMIUM_INSTALL=1 to skip.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import pino from 'pino'

const log = pino({ name: 'install-chromium' })
const packages = ['chromium', 'fonts-noto-cjk']
const installed = (pkg: string) => {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' }).includes('install ok installed')
  } catch {
    return false
  }
}

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const missing = packages.filter((p) => !installed(p))
if (process.env.SKIP_CHROMIUM_INSTALL || (existsSync(chromium) && missing.length === 0)) {
  log.info({ chromium }, 'chromium and a CJK font are present')
} else if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
  log.warn({ missing }, `PDF export needs ${missing.join(' and ')}: install them (apt-get install ${missing.join(' ')}) or set CHROMIUM_PATH`)
} else {
  log.info({ packages: missing }, 'installing Debian packages for PDF export (once per machine)')
  try {
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
  } catch {
    // A fresh machine may have no package lists yet.
    execFileSync('apt-get', ['update'], { stdio: 'inherit' })
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
  }
  log.info('chromium and fonts installed')
}
