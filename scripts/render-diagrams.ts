// Renders each processes/*.bpmn to docs/diagrams/<id>.png with bpmn-js in Debian's chromium, for
// the README: node --import tsx scripts/render-diagrams.ts
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

const require = createRequire(import.meta.url)
const root = join(import.meta.dirname, '..')
const out = join(root, 'docs', 'diagrams')
mkdirSync(out, { recursive: true })
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
})
try {
  const page = await browser.newPage({ viewport: { width: 1800, height: 900 }, deviceScaleFactor: 1 })
  for (const file of readdirSync(join(root, 'processes')).filter((f) => f.endsWith('.bpmn'))) {
    await page.setContent('<!doctype html><meta charset="utf-8"><body style="margin:0;background:#fff"><div id="canvas" style="width:1800px;height:900px"></div></body>')
    await page.addStyleTag({ path: require.resolve('bpmn-js/dist/assets/bpmn-js.css') })
    await page.addScriptTag({ path: require.resolve('bpmn-js/dist/bpmn-viewer.production.min.js') })
    const xml = readFileSync(join(root, 'processes', file), 'utf8')
    // The canvas takes the diagram's own size, so a long flow is drawn at full scale.
    const size = await page.evaluate(async (xml) => {
      const viewer = new (window as any).BpmnJS({ container: '#canvas' })
      await viewer.importXML(xml)
      const { inner } = viewer.get('canvas').viewbox()
      const el = document.getElementById('canvas')!
      el.style.width = `${Math.ceil(inner.width + 40)}px`
      el.style.height = `${Math.ceil(inner.height + 40)}px`
      viewer.get('canvas').resized()
      viewer.get('canvas').zoom('fit-viewport')
      return { width: Math.ceil(inner.width + 40), height: Math.ceil(inner.height + 40) }
    }, xml)
    await page.setViewportSize({ width: Math.max(size.width, 400), height: Math.max(size.height, 200) })
    const target = join(out, file.replace(/\.bpmn$/, '.png'))
    await page.locator('#canvas').screenshot({ path: target })
    console.log(`${file} → ${target}`)
  }
} finally {
  await browser.close()
}
