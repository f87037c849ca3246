import type { onRouteHookHandler, preValidationAsyncHookHandler } from 'fastify'
import { invalid } from '../../../core/errors.ts'

interface JsonSchema {
  type?: string
  properties?: Record<string, JsonSchema>
  additionalProperties?: boolean | JsonSchema
  required?: string[]
  anyOf?: JsonSchema[]
  items?: JsonSchema
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** The first property that the schema does not allow, as a path, or undefined. */
export function unknownProperty(schema: JsonSchema, value: unknown, path: string): string | undefined {
  if (schema.anyOf) {
    // The branch the value means: the first whose required properties are all there.
    const branch =
      schema.anyOf.find((s) => isObject(value) && (s.required ?? []).every((key) => key in value)) ??
      schema.anyOf[0]
    return branch ? unknownProperty(branch, value, path) : undefined
  }
  if (Array.isArray(value) && schema.items) {
    for (const [i, item] of value.entries()) {
      const found = unknownProperty(schema.items, item, `${path}[${i}]`)
      if (found) return found
    }
    return undefined
  }
  if (!isObject(value) || !schema.properties) return undefined
  for (const [key, item] of Object.entries(value)) {
    const field = path ? `${path}.${key}` : key
    const property = schema.properties[key]
    if (!property) {
      if (schema.additionalProperties === false) return field
      continue
    }
    const found = unknownProperty(property, item, field)
    if (found) return found
  }
  return undefined
}

/**
 * The app's Ajv drops properties a schema does not allow (removeAdditional); the SIGN DE API refuses
 * them instead ("no other properties"). Checked before validation, while the body is still as sent.
 */
export const rejectUnknownProperties: onRouteHookHandler = (route) => {
  const schema = route.schema?.body as JsonSchema | undefined
  if (!schema) return
  const check: preValidationAsyncHookHandler = async (request) => {
    const field = unknownProperty(schema, request.body, '')
    if (field) throw invalid(field, 'is not a property of this request')
  }
  route.preValidation = [...[route.preValidation ?? []].flat(), check] as never
}
