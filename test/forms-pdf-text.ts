// Test helper: the text of a PDF as Chromium (Skia) writes it — pages, their fonts' ToUnicode
// maps, and the hex strings shown by Tj/TJ (or a span's ActualText). Enough to check that words
// are in a PDF without poppler; not a general PDF reader.
import { inflateSync } from 'node:zlib'

type Obj = { dict: string; data: Buffer | null }
type Objects = Map<number, Obj>

/** Objects by number; a stream's bytes are cut by its /Length, so binary data cannot confuse the parse. */
function objects(pdf: Buffer): Objects {
  const text = pdf.toString('latin1')
  const out: Objects = new Map()
  const re = /(\d+) 0 obj\b/g
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const end = text.indexOf('endobj', re.lastIndex)
    const at = text.indexOf('stream', re.lastIndex)
    if (at === -1 || at > end) {
      out.set(Number(m[1]), { dict: text.slice(re.lastIndex, end), data: null })
      re.lastIndex = end
      continue
    }
    const dict = text.slice(re.lastIndex, at)
    let start = at + 'stream'.length
    if (text[start] === '\r') start++
    if (text[start] === '\n') start++
    const length = Number(/\/Length\s+(\d+)/.exec(dict)?.[1] ?? 0)
    const data = pdf.subarray(start, start + length)
    out.set(Number(m[1]), { dict, data: /\/FlateDecode/.test(dict) ? inflateSync(data) : data })
    re.lastIndex = text.indexOf('endobj', start + length)
  }
  return out
}

const stream = (obj: Obj | undefined) => obj?.data?.toString('latin1') ?? ''

const utf16 = (hex: string) => {
  const units = hex.match(/.{4}/g)?.map((h) => parseInt(h, 16)) ?? []
  return String.fromCharCode(...units)
}

function cmap(text: string): Map<number, string> {
  const map = new Map<number, string>()
  for (const block of text.matchAll(/beginbfchar([\s\S]*?)endbfchar/g)) {
    for (const m of block[1].matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>/g)) map.set(parseInt(m[1], 16), utf16(m[2]))
  }
  for (const block of text.matchAll(/beginbfrange([\s\S]*?)endbfrange/g)) {
    for (const m of block[1].matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*(<[0-9a-fA-F]+>|\[[^\]]*\])/g)) {
      const lo = parseInt(m[1], 16)
      const hi = parseInt(m[2], 16)
      if (m[3].startsWith('[')) {
        ;[...m[3].matchAll(/<([0-9a-fA-F]+)>/g)].forEach((d, i) => map.set(lo + i, utf16(d[1])))
      } else {
        const start = parseInt(m[3].slice(1, -1), 16)
        for (let c = lo; c <= hi; c++) map.set(c, String.fromCharCode(start + c - lo))
      }
    }
  }
  return map
}

const ref = (body: string, key: string) => Number(new RegExp(`/${key}\\s+(\\d+) 0 R`).exec(body)?.[1] ?? NaN)

/** The pages of the PDF, each as its text (runs joined by spaces). */
export function pdfPages(pdf: Buffer): string[] {
  const objs = objects(pdf)
  const pages = [...objs.values()].map((o) => o.dict).filter((b) => /\/Type\s*\/Page\b/.test(b))
  return pages.map((page) => {
    let resources = /\/Resources\s*<<([\s\S]*)>>/.exec(page)?.[1] ?? ''
    if (!resources && ref(page, 'Resources')) resources = objs.get(ref(page, 'Resources'))?.dict ?? ''
    const fonts = new Map<string, { map: Map<number, string>; bytes: number }>()
    const fontDict = /\/Font\s*<<([\s\S]*?)>>/.exec(resources)?.[1] ?? ''
    for (const m of fontDict.matchAll(/\/(\S+?)\s+(\d+) 0 R/g)) {
      const font = objs.get(Number(m[2]))?.dict ?? ''
      const tu = ref(font, 'ToUnicode')
      fonts.set(m[1], { map: cmap(stream(objs.get(tu))), bytes: /\/Subtype\s*\/Type0/.test(font) ? 2 : 1 })
    }
    const contents = /\/Contents\s*\[([^\]]*)\]/.exec(page)?.[1] ?? /\/Contents\s+(\d+ 0 R)/.exec(page)?.[1] ?? ''
    const content = [...contents.matchAll(/(\d+) 0 R/g)].map((m) => stream(objs.get(Number(m[1])))).join('\n')
    let font = fonts.values().next().value
    let actual: string | null = null
    let out = ''
    const tokens = /\/(\S+)\s+[\d.]+\s+Tf|\/ActualText\s*<([0-9a-fA-F]*)>[\s\S]*?BDC|\bEMC\b|\bBT\b|<([0-9a-fA-F]*)>\s*Tj|\[([^\]]*)\]\s*TJ/g
    for (const m of content.matchAll(tokens)) {
      if (m[1]) font = fonts.get(m[1]) ?? font
      else if (m[2] !== undefined) { actual = utf16(m[2].replace(/^FEFF/i, '')); out += actual }
      else if (m[0] === 'EMC') actual = null
      else if (m[0] === 'BT') out += ' '
      else if (actual === null && font) {
        const hex = m[3] ?? [...(m[4] ?? '').matchAll(/<([0-9a-fA-F]*)>/g)].map((x) => x[1]).join('')
        for (let i = 0; i < hex.length; i += font.bytes * 2) out += font.map.get(parseInt(hex.slice(i, i + font.bytes * 2), 16)) ?? ''
      }
    }
    return out
  })
}
