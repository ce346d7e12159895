// Free loopback ports for the servers and engine nodes that tests start.
import { createServer } from 'node:net'

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => srv.close(() => resolve(true)))
  })
}

/** The first of `count` consecutive free ports, picked at random in 20000–39999. */
export async function freeRange(count: number): Promise<number> {
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 20000)
    const checks = await Promise.all(Array.from({ length: count }, (_, i) => portFree(base + i)))
    if (checks.every(Boolean)) return base
  }
}
