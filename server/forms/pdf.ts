// PDF (and PNG) of a rendered 笺 through Debian's headless Chromium, driven by playwright-core.
// One browser per server, started on first use and closed on shutdown; each job gets its own
// context with JavaScript and the network off, so a 笺 can only show what its HTML holds.
// Printing is heavy, so it is bounded: a few prints at once (`concurrency`), a short queue of
// prints waiting for a slot (`queue`, each waiting at most `timeoutMs`), and a time limit per
// print; beyond that the answer is 503 with Retry-After, and the server stays responsive.
import { chromium, type Browser, type BrowserContext } from 'playwright-core'
import { AppError } from '../errors.ts'

export interface PrintLimits {
  /** Prints at once. */
  concurrency: number
  /** Prints that may wait for a free slot. */
  queue: number
  /** The longest a print may take, and the longest it may wait for a slot. */
  timeoutMs: number
}

const defaultLimits: PrintLimits = { concurrency: 2, queue: 8, timeoutMs: 30_000 }

export const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']

export class PdfPrinter {
  private browser: Promise<Browser> | null = null
  private readonly limits: PrintLimits
  private active = 0
  private readonly waiting: Array<{ resolve: () => void }> = []
  /** A running average of how long a print takes, for Retry-After. */
  private averageMs = 2000

  constructor(private readonly executablePath = '/usr/bin/chromium', limits: Partial<PrintLimits> = {}) {
    const l = { ...defaultLimits, ...limits }
    this.limits = { concurrency: Math.max(1, l.concurrency), queue: Math.max(0, l.queue), timeoutMs: Math.max(1000, l.timeoutMs) }
  }

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

  /** Runs one print in a free slot, waiting in the queue for one if need be. */
  private async withPage<T>(html: string, work: (page: import('playwright-core').Page) => Promise<T>): Promise<T> {
    await this.acquire()
    const started = Date.now()
    try {
      const result = await this.print(html, work)
      this.averageMs = this.averageMs * 0.8 + (Date.now() - started) * 0.2
      return result
    } finally {
      this.release()
    }
  }

  private async print<T>(html: string, work: (page: import('playwright-core').Page) => Promise<T>): Promise<T> {
    let context: BrowserContext | null = null
    let timer: NodeJS.Timeout | undefined
    let timedOut = false
    const run = async () => {
      const browser = await this.launch()
      context = await browser.newContext({ javaScriptEnabled: false, offline: true })
      if (timedOut) {
        await context.close().catch(() => undefined)
        throw new Error('timed out')
      }
      const page = await context.newPage()
      await page.route('**/*', (route) => (route.request().url().startsWith('data:') ? route.continue() : route.abort()))
      await page.setContent(html, { waitUntil: 'load', timeout: this.limits.timeoutMs })
      return await work(page)
    }
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true
        reject(this.busy(`生成 PDF 超时（超过 ${Math.round(this.limits.timeoutMs / 1000)} 秒），请稍后重试`))
      }, this.limits.timeoutMs)
    })
    try {
      return await Promise.race([run(), limit])
    } finally {
      clearTimeout(timer)
      // Closing the context also ends a print that ran out of time.
      await (context as BrowserContext | null)?.close().catch(() => undefined)
    }
  }

  /** Takes a slot, or a place in the queue; refuses when the queue is full or the wait too long. */
  private async acquire(): Promise<void> {
    if (this.active < this.limits.concurrency) {
      this.active++
      return
    }
    if (this.waiting.length >= this.limits.queue) throw this.busy('正在生成的 PDF 较多，请稍后重试')
    await new Promise<void>((resolve, reject) => {
      const entry = { resolve: () => { clearTimeout(timer); resolve() } }
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(entry)
        if (i >= 0) this.waiting.splice(i, 1)
        reject(this.busy('正在生成的 PDF 较多，等待超时，请稍后重试'))
      }, this.limits.timeoutMs)
      this.waiting.push(entry)
    })
  }

  /** Hands the slot to the next waiting print, or frees it. */
  private release(): void {
    const next = this.waiting.shift()
    if (next) next.resolve()
    else this.active--
  }

  private busy(message: string): AppError {
    const err = new AppError('BUSY', message)
    // About when a slot frees up for a newcomer: the queue ahead, shared by the slots.
    err.retryAfter = Math.max(1, Math.ceil((this.averageMs * (this.waiting.length + 1)) / this.limits.concurrency / 1000))
    return err
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
