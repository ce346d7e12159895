// JS values <-> the engine's typed variables. Lists and records travel as String variables holding
// JSON text: this engine has no Spin JSON type, and the models read lists through ${json.list(x)}.
import { EngineError, type Variables } from '../port.ts'

/** A variable as the REST API writes it: `{value, type, valueInfo}`. */
export interface TypedValue {
  value: unknown
  type: string
  valueInfo?: Record<string, unknown>
}

const INT_MIN = -(2 ** 31)
const INT_MAX = 2 ** 31 - 1

export function encodeValue(name: string, value: unknown): TypedValue {
  if (value === null || value === undefined) return { value: null, type: 'Null' }
  switch (typeof value) {
    case 'string':
      return { value, type: 'String' }
    case 'boolean':
      return { value, type: 'Boolean' }
    case 'bigint':
      return { value: value.toString(), type: 'Long' }
    case 'number':
      if (!Number.isFinite(value)) throw new EngineError('rejected', `variable ${name}: ${value} is not a finite number`)
      // Integer when it fits 32 bits, as the engine's own expressions produce; Long beyond.
      if (Number.isInteger(value)) return { value, type: value >= INT_MIN && value <= INT_MAX ? 'Integer' : 'Long' }
      return { value, type: 'Double' }
    case 'object':
      // A Date would become a quoted JSON string; give its ISO text as a plain String instead.
      if (value instanceof Date) return { value: value.toISOString(), type: 'String' }
      return { value: JSON.stringify(value), type: 'String' }
    default:
      throw new EngineError('rejected', `variable ${name}: a ${typeof value} cannot be stored in the engine`)
  }
}

export function encodeVariables(variables: Variables | undefined): Record<string, TypedValue> {
  const out: Record<string, TypedValue> = {}
  for (const [name, value] of Object.entries(variables ?? {})) out[name] = encodeValue(name, value)
  return out
}

/** A String holding a JSON list or record is given parsed; everything else as it is. */
export function decodeValue(typed: TypedValue | null | undefined): unknown {
  if (!typed) return null
  const { value, type } = typed
  if (value === null || value === undefined) return null
  if (typeof value === 'string' && (type === 'String' || type === 'Json' || type === 'Object')) {
    const head = value.trimStart()[0]
    if (head === '[' || head === '{') {
      try {
        return JSON.parse(value)
      } catch {
        return value
      }
    }
  }
  return value
}

export function decodeVariables(variables: Record<string, TypedValue> | null | undefined): Variables {
  const out: Variables = {}
  for (const [name, typed] of Object.entries(variables ?? {})) out[name] = decodeValue(typed)
  return out
}
