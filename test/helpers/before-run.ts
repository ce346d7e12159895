// tap `before`: starts the one engine node the test files share (see run-engine.ts).
import { startRunEngine } from './run-engine.ts'

const started = Date.now()
const run = await startRunEngine()
console.log(`# the run's engine node answers at ${run.url} (database ${run.databaseName}, started in ${Math.round((Date.now() - started) / 1000)} s)`)
process.exit(0)
