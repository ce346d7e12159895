// tap `after`: stops the run's engine node and drops its database (see run-engine.ts).
import { stopRunEngine } from './run-engine.ts'

await stopRunEngine()
process.exit(0)
