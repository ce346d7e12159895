// Fetches, verifies and unpacks the pinned Zeebe distribution into the cache, and builds the
// exporter. Runs on `npm ci` (postinstall); safe to run again — it reuses what is cached.
// Set SKIP_ZEEBE_FETCH=1 to skip (for example when ZEEBE_ADDRESS points at a running cluster).
import pino from 'pino'
import { cacheDir, ensureDistribution, ZEEBE_VERSION } from '../engine/distribution.ts'

const log = pino({ name: 'fetch-zeebe' })
if (process.env.SKIP_ZEEBE_FETCH) {
  log.info('SKIP_ZEEBE_FETCH set: not fetching Zeebe')
} else {
  ensureDistribution(log)
    .then((d) => log.info({ version: ZEEBE_VERSION, home: d.home, exporter: d.exporterJar, cache: cacheDir() }, 'Zeebe ready'))
    .catch((err) => {
      log.error({ err }, `could not prepare Zeebe ${ZEEBE_VERSION}: ${err.message}`)
      process.exit(1)
    })
}
