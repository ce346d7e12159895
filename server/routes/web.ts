// The web UI: the bundles built by scripts/build-web.ts (dist/web) under /assets/, and one HTML
// shell per page at /app/<page>/... that loads /assets/<page>.js. All public: the pages log in
// themselves and call the API with the token they keep.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import type { Services } from '../app.ts'

export const webDist = fileURLToPath(new URL('../../dist/web/', import.meta.url))
const buildCommand = 'node --import tsx scripts/build-web.ts'
const pageName = /^[a-z][a-z0-9-]{0,40}$/
const security = {
  'content-security-policy': "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; frame-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`)

function shell(dist: string, page: string): string {
  const css = existsSync(`${dist}${page}.css`) ? `<link rel="stylesheet" href="/assets/${page}.css">` : ''
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>公文流转</title>
<link rel="icon" href="data:,">
${css}
</head>
<body>
<div id="app"><p class="loading">正在加载……</p></div>
<noscript>公文流转需要启用 JavaScript。</noscript>
<script type="module" src="/assets/${page}.js"></script>
</body>
</html>
`
}

function notice(reply: FastifyReply, status: number, title: string, text: string) {
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .headers({ ...security, 'cache-control': 'no-store' })
    .send(`<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1><p>${text}</p></body></html>`)
}

/** `webDist` (a folder path ending in /) is for tests; the server serves dist/web. */
const routes: FastifyPluginAsync<Services & { webDist?: string }> = async (app, opts) => {
  const dist = opts.webDist ?? webDist
  // serve: false — our own /assets/* route below is public; the plugin only lends sendFile.
  await app.register(fastifyStatic, { root: dist, serve: false, suppressWarning: true })
  const notBuilt = (reply: FastifyReply) =>
    notice(reply, 503, '前端尚未构建', `请在项目目录运行 <code>${escape(buildCommand)}</code> 构建前端（<code>npm start</code> 与 <code>npm test</code> 会先自动构建），然后刷新本页。`)

  app.get('/', { config: { public: true }, schema: { tags: ['web'], summary: '前端入口：转到待办', hide: true } }, async (_req, reply) => reply.redirect('/app/inbox'))

  app.get<{ Params: { '*': string } }>('/assets/*', {
    config: { public: true },
    schema: { tags: ['web'], summary: '前端静态资源（由 scripts/build-web.ts 构建）', hide: true },
  }, async (req, reply) => {
    if (!existsSync(dist)) return notBuilt(reply)
    return reply.header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').sendFile(req.params['*'], dist)
  })

  const page = async (req: { params: { page: string } }, reply: FastifyReply) => {
    if (!existsSync(dist)) return notBuilt(reply)
    const name = req.params.page
    if (!pageName.test(name) || !existsSync(`${dist}${name}.js`)) {
      return notice(reply, 404, '页面不存在', '没有这个页面。<a href="/app/inbox">返回待办</a>')
    }
    return reply.type('text/html; charset=utf-8').headers({ ...security, 'cache-control': 'no-cache' }).send(shell(dist, name))
  }
  const pageSchema = { tags: ['web'], summary: '前端页面（HTML 外壳，加载 /assets/<page>.js）', hide: true }
  app.get<{ Params: { page: string } }>('/app/:page', { config: { public: true }, schema: pageSchema }, page)
  app.get<{ Params: { page: string } }>('/app/:page/*', { config: { public: true }, schema: pageSchema }, page)
}

export default routes
