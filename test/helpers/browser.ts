// Browser tests: Debian's chromium driven by playwright-core against a running stack. Builds the
// web UI first when dist/web is missing or older than web/, so a plain `npx tap` tests current code.
import { mkdirSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { webBuildOptions, webEntries } from '../../scripts/build-web.ts'
import { chromiumArgs } from '../../server/forms/pdf.ts'
import t from 'tap'
import { Api, startStack, type Stack } from './stack.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
export const screenshotDir = join(root, 'test-artifacts', 'screenshots')

function newest(dir: string): number {
  let latest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return latest
}

/** Builds the bundles unless every page's bundle is newer than everything under web/. */
export async function ensureWebBuilt(): Promise<void> {
  const source = newest(join(root, 'web'))
  const stale = Object.keys(webEntries()).some((page) => {
    try {
      return statSync(join(root, 'dist', 'web', `${page}.js`)).mtimeMs < source
    } catch {
      return true
    }
  })
  if (stale) await esbuild.build(webBuildOptions())
}

export interface Ui {
  browser: Browser
  /** Uncaught script errors of every page opened, to assert there were none. */
  errors: string[]
  /** A logged-in page for a demo person (token placed as the login page would). */
  as(username: string, viewport?: { width: number; height: number }): Promise<Page>
  /** A fresh, logged-out page. */
  page(viewport?: { width: number; height: number }): Promise<Page>
  screenshot(page: Page, name: string): Promise<string>
  close(): Promise<void>
}

export const desktop = { width: 1280, height: 860 }
export const tablet = { width: 768, height: 1024 }
export const phone = { width: 390, height: 844 }

export async function startBrowser(stack: Stack): Promise<Ui> {
  await ensureWebBuilt()
  mkdirSync(screenshotDir, { recursive: true })
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: chromiumArgs })
  const contexts: BrowserContext[] = []
  const errors: string[] = []
  const open = async (viewport = desktop) => {
    const context = await browser.newContext({ viewport, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', baseURL: stack.url, acceptDownloads: true })
    context.setDefaultTimeout(20_000)
    contexts.push(context)
    const page = await context.newPage()
    page.on('pageerror', (err) => errors.push(`${page.url()}: ${err.message}`))
    return page
  }
  return {
    browser,
    errors,
    page: open,
    async as(username, viewport) {
      const res = await fetch(`${stack.url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: 'gongwen123' }) })
      if (!res.ok) throw new Error(`login ${username}: ${res.status}`)
      const { token, user } = (await res.json()) as { token: string; user: unknown }
      const page = await open(viewport)
      await page.context().addInitScript(([t, u]) => {
        localStorage.setItem('gongwen.token', t)
        localStorage.setItem('gongwen.user', u)
      }, [token, JSON.stringify(user)] as const)
      return page
    },
    async screenshot(page, name) {
      const path = join(screenshotDir, `${name}.png`)
      await page.screenshot({ path, fullPage: true })
      return path
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined)
      await browser.close()
    },
  }
}

/**
 * A browser test's set-up: the stack, a browser on it and an API client; both are closed when
 * the test file ends.
 */
export async function startBrowserStack(options: Parameters<typeof startStack>[0] = {}): Promise<{ stack: Stack; ui: Ui; api: Api }> {
  const stack = await startStack(options)
  const ui = await startBrowser(stack)
  t.teardown(async () => {
    await ui.close()
    await stack.close()
  })
  return { stack, ui, api: new Api(stack) }
}
