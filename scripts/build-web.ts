// Builds the web UI with esbuild: every web/pages/<name>.tsx is an entry, bundled with its CSS
// (bpmn-js's too) and fonts into dist/web/<name>.js + <name>.css; nothing is loaded from a CDN.
// Runs before `npm start` and `npm test`; `--watch` rebuilds on change while developing.
import { existsSync, readdirSync } from 'node:fs'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const pagesDir = join(root, 'web', 'pages')
const outdir = join(root, 'dist', 'web')

export function webEntries(): Record<string, string> {
  if (!existsSync(pagesDir)) return {}
  const pages = readdirSync(pagesDir).filter((f) => f.endsWith('.tsx')).sort()
  return Object.fromEntries(pages.map((f) => [basename(f, '.tsx'), join(pagesDir, f)]))
}

export function webBuildOptions(): esbuild.BuildOptions {
  return {
    entryPoints: webEntries(),
    outdir,
    bundle: true,
    format: 'esm',
    target: ['es2022'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: 'linked',
    legalComments: 'linked',
    // Fonts and images referenced from CSS (bpmn-js's icon font) are copied beside the bundles.
    loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.eot': 'file', '.svg': 'file', '.png': 'file' },
    assetNames: 'files/[name]-[hash]',
    publicPath: '/assets/',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  }
}

async function main() {
  const entries = webEntries()
  if (!Object.keys(entries).length) throw new Error(`no pages in ${pagesDir}`)
  if (process.argv.includes('--watch')) {
    const ctx = await esbuild.context({ ...webBuildOptions(), minify: false, logLevel: 'info' })
    await ctx.watch()
    console.log(`watching web/ → ${outdir}`)
    return
  }
  const started = Date.now()
  const result = await esbuild.build({ ...webBuildOptions(), metafile: true })
  const outputs = Object.entries(result.metafile!.outputs).filter(([f]) => /\.(js|css)$/.test(f))
  const kb = (n: number) => `${Math.round(n / 1024)} KB`
  console.log(`web UI built in ${Date.now() - started} ms → ${outdir}`)
  for (const [file, info] of outputs) console.log(`  ${basename(file).padEnd(20)} ${kb(info.bytes)}`)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err)
    process.exit(1)
  })
}
