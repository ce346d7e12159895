// PDF (and PNG) of a rendered 笺 through Debian's headless Chromium, driven by playwright-core.
// One browser per server, started on first use and closed on shutdown; each job gets its own
// context with JavaScript and the network off, so a 笺 can only show what its HTML holds.
import { chromium, type Browser } from 'playwright-core'
import { AppError } from '../errors.ts'

export const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']

export class PdfPrinter {
  private browser: Promise<Browser> | null = null

  constructor(private readonly executablePath = '/usr/bin/chromium') {}

  async pdf(html: string): Promise<Buffer> {
    return this.withPage(html, (page) => page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true }))
  }

  /** A PNG of the page's main element (used for the README's screenshots). */
  async png(html: string, selector = 'main'): Promise<Buffer> {
    return this.withPage(html, (page) => page.locator(selector).screenshot({ type: 'png' }))
  }

  async close(): Promise<void> {
    const browser = this.browser
    this.browser = null
    if (browser) await browser.then((b) => b.close()).catch(() => undefined)
  }

  private async withPage<T>(html: string, work: (page: import('playwright-core').Page) => Promise<T>): Promise<T> {
    const browser = await this.launch()
    const context = await browser.newContext({ javaScriptEnabled: false, offline: true })
    try {
      const page = await context.newPage()
      await page.route('**/*', (route) => (route.request().url().startsWith('data:') ? route.continue() : route.abort()))
      await page.setContent(html, { waitUntil: 'load' })
      return await work(page)
    } finally {
      await context.close().catch(() => undefined)
    }
  }

  private launch(): Promise<Browser> {
    if (!this.browser) {
      // The server's own signal handlers shut everything down in order (the browser last);
      // playwright's would end the process at the first Ctrl-C, leaving the engine node running.
      const started = chromium.launch({ executablePath: this.executablePath, args: chromiumArgs, handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false })
      this.browser = started
      started.then(
        (b) => b.on('disconnected', () => { if (this.browser === started) this.browser = null }),
        () => { if (this.browser === started) this.browser = null },
      )
    }
    return this.browser.catch((err) => {
      throw new AppError('INTERNAL', `无法启动 Chromium 生成 PDF（${this.executablePath}）`, undefined, { cause: err })
    })
  }
}
