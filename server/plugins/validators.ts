// JSON bodies are taken as typed: an opinion sent as the number 123 is refused, not turned into
// "123". Path params, query strings and headers arrive as text, so they (only) are coerced to the
// numbers, booleans and arrays their schemas declare. Both validators share the app's schemas,
// formats and options; they differ only in coerceTypes.
import AjvCompiler from '@fastify/ajv-compiler'

type BuildValidator = ReturnType<typeof AjvCompiler>
type RouteSchema = { schema: unknown; method: string; url: string; httpPart?: string }

/** Fastify's `schemaController.compilersFactory.buildValidator`: no coercion for the body. */
export function typedBodyValidator(): BuildValidator {
  const pool = AjvCompiler()
  const build = (externalSchemas: unknown, options: any) => {
    const coercing = pool(externalSchemas as any, options)
    const typed = pool(externalSchemas as any, { ...options, customOptions: { ...options.customOptions, coerceTypes: false } })
    return (route: RouteSchema) => (route.httpPart === 'body' ? typed : coercing)(route as any)
  }
  return build as unknown as BuildValidator
}
