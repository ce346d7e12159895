// Renders a 笺 as an HTML page for screen and print: the version's template with the shared
// stylesheet, each opinion (a routing-log entry) in the box of its step, names for ids, times in
// Asia/Shanghai, and the QR code of the 发文.
import Handlebars from 'handlebars'
import QRCode from 'qrcode'
import { channelLabel, roleLabel } from '../labels.ts'
import type { FormVersion, Picker } from './compile.ts'

/** One routing-log entry as the 笺 shows it. `box` is the `opinion` header of its step. */
export interface OpinionEntry {
  box: string | null
  step: string
  stepName: string
  actorName: string
  actorRole: string | null
  opinion: string | null
  blankSignature: boolean
  channel: string
  at: Date | string
}

/** Facts of the document row, not fields of the 笺. */
export interface JianDocument {
  id: string
  title: string
  docNumber: string | null
  unitName: string
  departmentName: string | null
  createdByName: string | null
  createdAt: Date | string
  sealName: string | null
  sealedAt: Date | string | null
  sealedSha256: string | null
  /** 联合发文: the co-issuers' seals on the document (the lead's is sealName). */
  coSeals?: Array<{ unitName: string; sealName: string }>
}

export interface JianContext {
  document: JianDocument
  data: Record<string, unknown>
  opinions: OpinionEntry[]
  /** Names of the ids the 笺 holds, per kind of picker. */
  names: Record<Picker, Record<string, string>>
}

interface Root {
  form: { key: string; version: number; title: string }
  document: JianDocument
  data: Record<string, unknown>
  print: boolean
  qr: string
  $form: FormVersion
  $names: JianContext['names']
  $opinions: OpinionEntry[]
}

export const jianHandlebars = Handlebars.create()
const esc = (v: unknown) => jianHandlebars.escapeExpression(v == null ? '' : String(v))
const safe = (html: string) => new jianHandlebars.SafeString(html)
const root = (options: Handlebars.HelperOptions) => options.data.root as Root

/** 上行文: the kinds GB/T 9704 gives a 签发人 in the 版头 (7.2.5). */
export const upwardKinds = ['请示', '报告']

const shanghai = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
})
function parts(value: Date | string): Record<string, string> {
  return Object.fromEntries(shanghai.formatToParts(new Date(value)).map((p) => [p.type, p.value]))
}
/** 2026-01-31 09:05, in Beijing time. */
export function dateTime(value: unknown): string {
  if (!value) return ''
  const p = parts(value as string)
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`
}
/** 2026年1月31日; a plain date (2026-01-31) is taken as written. */
export function dateCn(value: unknown): string {
  if (!value) return ''
  const plain = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(value))
  const p = plain ? { year: plain[1], month: plain[2], day: plain[3] } : parts(value as string)
  return `${p.year}年${Number(p.month)}月${Number(p.day)}日`
}

function entryHtml(e: OpinionEntry): string {
  const text = e.opinion?.trim()
  const body = text ? `<p class="text">${esc(text)}</p>` : e.blankSignature ? '<p class="text blank">空白签名</p>' : ''
  const role = roleLabel(e.actorRole)
  return `<div class="entry" data-step="${esc(e.step)}">${body}<p class="sign"><span class="name">${esc(e.actorName)}</span>`
    + (role ? `<span class="role">${esc(role)}</span>` : '')
    + `<time datetime="${esc(new Date(e.at).toISOString())}">${esc(dateTime(e.at))}</time><span class="channel">${esc(channelLabel(e.channel))}</span></p></div>`
}

/** An entry belongs on the sheet when it says something: an opinion or a blank signature. */
const signed = (e: OpinionEntry) => Boolean(e.opinion?.trim()) || e.blankSignature

jianHandlebars.registerHelper({
  /** {{opinionBox "shenhe" "审核意见" colspan=2}}: a cell with the box's entries, in time order. */
  opinionBox(id: string, label: string, options: Handlebars.HelperOptions) {
    const entries = root(options).$opinions.filter((e) => e.box === id && signed(e))
    const colspan = Number(options.hash.colspan ?? 1)
    return safe(`<td class="opinion-box" data-box="${esc(id)}" colspan="${colspan}"><div class="box-label">${esc(label)}</div>${entries.map(entryHtml).join('')}</td>`)
  },
  /** A row for opinions of steps whose box the template lacks, so no opinion ever vanishes. */
  otherOpinions(label: string, options: Handlebars.HelperOptions) {
    const r = root(options)
    const entries = r.$opinions.filter((e) => (!e.box || !r.$form.boxes.has(e.box)) && signed(e))
    if (!entries.length) return ''
    return safe(`<tr><td class="opinion-box other" data-box="" colspan="${Number(options.hash.colspan ?? 1)}"><div class="box-label">${esc(label)}</div>${entries.map(entryHtml).join('')}</td></tr>`)
  },
  /** Who signed in a box, e.g. the 签发人. */
  signers(id: string, options: Handlebars.HelperOptions) {
    return [...new Set(root(options).$opinions.filter((e) => e.box === id && signed(e)).map((e) => e.actorName))].join('、')
  },
  label(field: string, options: Handlebars.HelperOptions) {
    return root(options).$form.labels[field] ?? field
  },
  /** A field's value as a reader sees it: names for ids, file names, dates in Beijing time. */
  field(field: string, options: Handlebars.HelperOptions) {
    const r = root(options)
    const value = r.data[field]
    if (value == null || value === '') return ''
    const picker = r.$form.pickers[field]
    const list = Array.isArray(value) ? value : [value]
    if (picker) return list.map((id) => r.$names[picker][String(id)] ?? String(id)).join('、')
    if (list.every((v) => v && typeof v === 'object')) return list.map((f) => (f as { name?: string }).name ?? '文件').join('、')
    if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)) return dateTime(value)
    if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) return dateCn(value)
    return list.join('、')
  },
  excerpt(text: unknown, length: number) {
    const s = String(text ?? '').trim()
    return s.length > length ? `${s.slice(0, length)}……` : s
  },
  dateCn: (v: unknown) => dateCn(v),
  dateTime: (v: unknown) => dateTime(v),
  or: (a: unknown, b: unknown) => a || b,
  /** {{#if (upward data.docKind)}}: whether the kind is a 上行文 (请示, 报告). */
  upward: (kind: unknown) => upwardKinds.includes(String(kind ?? '')),
  qrCode(options: Handlebars.HelperOptions) {
    const r = root(options)
    return r.qr ? safe(`<img class="qr" src="${r.qr}" alt="二维码：发文字号、标题、发文机关">`) : ''
  },
})

/** The text the 发文's QR code carries: 发文字号, title and issuing unit. */
export function qrText(doc: JianDocument, title: string): string {
  return `发文字号：${doc.docNumber ?? '（待编号）'}\n标题：${title}\n发文机关：${doc.unitName}`
}

export async function renderJian(form: FormVersion, ctx: JianContext, opts: { print: boolean; css: string }): Promise<string> {
  const title = String(ctx.data.title ?? ctx.document.title)
  const qr = form.source.template.includes('{{qrCode')
    ? `data:image/svg+xml;base64,${Buffer.from(await QRCode.toString(qrText(ctx.document, title), { type: 'svg', margin: 0, errorCorrectionLevel: 'M' })).toString('base64')}`
    : ''
  const opinions = [...ctx.opinions].sort((a, b) => new Date(a.at).getTime() - new Date(b.at).getTime())
  const rootCtx: Root = {
    form: { key: form.key, version: form.version, title: form.title },
    document: ctx.document,
    data: ctx.data,
    print: opts.print,
    qr,
    $form: form,
    $names: ctx.names,
    $opinions: opinions,
  }
  const body = form.template(rootCtx, { allowProtoPropertiesByDefault: false })
  const toolbar = opts.print
    ? ''
    : `<nav class="toolbar"><a href="jian?print=1">打印视图</a><a href="jian.pdf">下载 PDF</a></nav>`
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} — ${esc(form.title)}</title><style>${opts.css}</style></head>
<body class="${opts.print ? 'print' : 'screen'}">${toolbar}
<main class="page" data-form="${esc(form.key)}" data-version="${form.version}">${body}</main>
<footer class="meta">${esc(form.title)} · 第 ${form.version} 版 · 公文编号 ${esc(ctx.document.id)}</footer>
</body></html>`
}
