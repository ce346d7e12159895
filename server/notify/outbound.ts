// Every call this server makes to an address someone typed in (a unit's webhook, its SMS gateway,
// and any channel added later) goes through here, so that nobody with an admin account can point the
// server at its own machine or network (SSRF):
// - https:// only, unless the operator allows http:// (OUTBOUND_ALLOW_HTTP);
// - only public unicast addresses: loopback, private, link-local, unique-local, CGNAT, multicast,
//   broadcast, unspecified, reserved, NAT64 / 6to4 / Teredo and IPv4-mapped forms of them are refused
//   unless the operator's allow-list (OUTBOUND_ALLOW) names the address, its range or the host name;
// - the host is resolved on every call, every address it resolves to is checked, and the connection
//   goes to the address that was checked (a lookup that returns only it), so a second resolution
//   cannot hand the connection elsewhere (DNS rebinding);
// - redirects are never followed: a 3xx is a failed delivery.
// Odd spellings of addresses (2130706433, 0x7f000001, 0177.0.0.1, 127.1, [::ffff:127.0.0.1]) are
// normalised by the WHATWG URL parser before the check, and what the resolver returns is checked too.
import { lookup as dnsLookup } from 'node:dns/promises'
import http from 'node:http'
import https from 'node:https'
import type { LookupFunction } from 'node:net'
import ipaddr from 'ipaddr.js'

/** What the operator allows beyond public https:// addresses. */
export interface OutboundPolicy {
  /** Plain http:// may be used. */
  allowHttp: boolean
  /** Addresses, CIDR ranges and host names that may be reached although not public. */
  allow: readonly string[]
}

/** Resolves a host name to all its addresses (dns.lookup with all: true). */
export type Resolver = (host: string) => Promise<Array<{ address: string; family: number }>>

type Address = ipaddr.IPv4 | ipaddr.IPv6
type Rule = { kind: 'range'; range: [Address, number] } | { kind: 'host'; name: string }

/** A call refused for good: retrying cannot help (a forbidden address or scheme, a redirect). */
export class PermanentFailure extends Error {
  readonly permanent = true
}

/** The URL may not be called under the operator's policy; `message` is the reason in Chinese. */
export class OutboundRefused extends PermanentFailure {
  constructor(message: string, readonly address?: string) {
    super(message)
  }
}

/** The host name did not resolve (now); may be temporary. */
export class Unresolved extends Error {}

const HOST_NAME = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/i

/** Parses OUTBOUND_ALLOW's entries; throws naming the entry that is neither address, range nor host name. */
export function parseAllowList(entries: readonly string[]): Rule[] {
  return entries.map((raw): Rule => {
    const entry = raw.trim().replace(/^\[([^\]]*)\]/, '$1')
    try {
      if (entry.includes('/')) return { kind: 'range', range: ipaddr.parseCIDR(entry) }
      if (ipaddr.isValid(entry)) {
        const address = ipaddr.parse(entry)
        return { kind: 'range', range: [address, address.kind() === 'ipv4' ? 32 : 128] }
      }
    } catch {
      throw new Error(`"${raw}" is not a valid CIDR range`)
    }
    const name = entry.toLowerCase().replace(/\.$/, '')
    if (!HOST_NAME.test(name) || /^[0-9.]+$/.test(name) || /^0x/i.test(name)) throw new Error(`"${raw}" is neither an IP address, a CIDR range nor a host name`)
    return { kind: 'host', name }
  })
}

/** Why an address is not public, in Chinese; null when it is a public unicast address. */
export function nonPublicReason(address: string): string | null {
  let ip: Address
  try {
    ip = ipaddr.parse(address)
  } catch {
    return '无法识别的地址'
  }
  if (ip instanceof ipaddr.IPv6 && ip.isIPv4MappedAddress()) ip = ip.toIPv4Address()
  const range = ip.range()
  if (ip instanceof ipaddr.IPv4) return range === 'unicast' ? null : (labels[range] ?? '非公网地址')
  // IPv6: global unicast (2000::/3) only; that also refuses the IPv4-compatible ::a.b.c.d forms.
  if (range === 'unicast' && ip.match(ipaddr.IPv6.parse('2000::'), 3)) return null
  return labels[range] ?? '非公网地址'
}

const labels: Record<string, string> = {
  loopback: '本机回环地址',
  private: '内网地址',
  linkLocal: '链路本地地址',
  uniqueLocal: '内网地址（IPv6 唯一本地）',
  unspecified: '未指定地址',
  multicast: '组播地址',
  broadcast: '广播地址',
  carrierGradeNat: '运营商级 NAT 地址',
  reserved: '保留地址',
  rfc6052: 'NAT64 地址',
  rfc6145: 'IPv4 转换地址',
  '6to4': '6to4 隧道地址',
  teredo: 'Teredo 隧道地址',
  deprecatedSiteLocal: '内网地址（IPv6 站点本地）',
}

const systemResolver: Resolver = (host) => dnsLookup(host, { all: true, verbatim: true })

/** A URL that passed the checks, with the one address to connect to. */
export interface Vetted {
  url: URL
  address: string
  family: 4 | 6
}

export class Outbound {
  private readonly rules: Rule[]

  constructor(
    readonly policy: OutboundPolicy,
    private readonly resolve: Resolver = systemResolver,
  ) {
    this.rules = parseAllowList(policy.allow)
  }

  /**
   * Checks a URL as called now: its form, its scheme, and every address its host resolves to.
   * Returns the address to connect to; throws OutboundRefused (for good), Unresolved (the name
   * does not resolve), or an abort error when `signal` fires first.
   */
  async vet(value: string, signal?: AbortSignal): Promise<Vetted> {
    let url: URL
    try {
      url = new URL(value)
    } catch {
      throw new OutboundRefused(this.shape())
    }
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.hostname === '') throw new OutboundRefused(this.shape())
    if (url.protocol === 'http:' && !this.policy.allowHttp) {
      throw new OutboundRefused('只允许 https:// 地址（如确需使用 http://，请由运维设置 OUTBOUND_ALLOW_HTTP=true）')
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase()
    const literal = ipaddr.isValid(host) && (host.includes(':') || ipaddr.IPv4.isValidFourPartDecimal(host))
    const addresses = literal ? [{ address: host, family: host.includes(':') ? 6 : 4 }] : await this.lookup(host, signal)
    const namedAllowed = !literal && this.rules.some((r) => r.kind === 'host' && r.name === host.replace(/\.$/, ''))
    if (!namedAllowed) {
      for (const { address } of addresses) {
        const reason = this.allowed(address) ? null : nonPublicReason(address)
        if (reason) {
          const shown = literal ? address : `${host} → ${address}`
          throw new OutboundRefused(`不允许向内网或本机地址发送：${shown}（${reason}；如确需，请由运维在 OUTBOUND_ALLOW 中放行）`, address)
        }
      }
    }
    const [first] = addresses
    return { url, address: first.address, family: first.family === 6 ? 6 : 4 }
  }

  /** The problem with a URL someone wants to save, in Chinese, or null when it may be called now. */
  async problem(value: string): Promise<string | null> {
    try {
      await this.vet(value, AbortSignal.timeout(5000))
      return null
    } catch (err) {
      if (err instanceof OutboundRefused || err instanceof Unresolved) return err.message
      if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `解析主机名超时：${new URL(value).hostname}，请检查地址`
      throw err
    }
  }

  /**
   * POSTs JSON to a vetted address and accepts any 2xx. A 3xx is not followed and fails for good;
   * other statuses and network errors fail for a retry.
   */
  async postJson(value: string, body: unknown, options: { headers?: Record<string, string>; timeoutMs: number }): Promise<void> {
    const signal = AbortSignal.timeout(options.timeoutMs)
    const target = await this.vet(value, signal)
    const bytes = Buffer.from(JSON.stringify(body))
    const { status, location, text } = await new Promise<{ status: number; location: string | undefined; text: string }>((resolve, reject) => {
      const request = (target.url.protocol === 'https:' ? https : http).request(target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(bytes.length), ...options.headers },
        // A fresh connection to the checked address; the TLS server name stays the URL's host.
        agent: false,
        lookup: pinned(target),
        signal,
      }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          if (text.length < 200) text += chunk
          else res.destroy()
        })
        const done = () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, text: text.slice(0, 200) })
        res.on('end', done)
        res.on('close', done)
        res.on('error', () => done())
      })
      request.on('error', reject)
      request.end(bytes)
    })
    if (status >= 300 && status < 400) {
      throw new PermanentFailure(`接收方返回重定向 HTTP ${status}${location ? `（→ ${location.slice(0, 200)}）` : ''}，不跟随重定向，未投递；请将地址改为最终地址`)
    }
    if (status < 200 || status >= 300) throw new Error(`HTTP ${status}${text ? `: ${text}` : ''}`)
  }

  private allowed(address: string): boolean {
    const ip = ipaddr.parse(address)
    const forms: Address[] = ip instanceof ipaddr.IPv6 && ip.isIPv4MappedAddress() ? [ip, ip.toIPv4Address()] : [ip]
    return this.rules.some((r) => r.kind === 'range' && forms.some((f) => f.kind() === r.range[0].kind() && f.match(r.range)))
  }

  private async lookup(host: string, signal?: AbortSignal) {
    let timer: (() => void) | undefined
    const aborted = new Promise<never>((_, reject) => {
      if (!signal) return
      if (signal.aborted) reject(signal.reason)
      timer = () => reject(signal.reason)
      signal.addEventListener('abort', timer, { once: true })
    })
    try {
      const addresses = await Promise.race([this.resolve(host), aborted])
      if (addresses.length === 0) throw Object.assign(new Error('no addresses'), { code: 'ENODATA' })
      return addresses
    } catch (err) {
      const code = (err as { code?: string }).code
      if (code) throw new Unresolved(`无法解析主机名：${host}（${code}），请检查地址`)
      throw err
    } finally {
      if (timer) signal?.removeEventListener('abort', timer)
    }
  }

  private shape(): string {
    return this.policy.allowHttp ? '须为以 http:// 或 https:// 开头的完整网址' : '须为以 https:// 开头的完整网址'
  }
}

/** A lookup that answers only the checked address, whatever is asked. */
function pinned(target: Vetted): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: target.address, family: target.family }])
    else callback(null, target.address, target.family)
  }
}
