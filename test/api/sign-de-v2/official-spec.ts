import { readFileSync } from 'node:fs'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import formatsPlugin from 'ajv-formats'

/** fiskaly's published SIGN DE v2 specification (OpenAPI 3.0.3), API 2.1.35: see the vectors' README. */
export const SPEC_PATH = '/work/shared/vectors/de/fiskaly-sign-de-openapi-v2.1.35.json'
const SPEC_ID = 'https://fiskaly.test/sign-de-v2.1.35.json'
const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const

type Json = Record<string, unknown>
interface OpenApiOperation {
  operationId: string
  responses: Record<string, { content?: Record<string, { schema?: Json }> }>
}
export interface SpecOperation {
  method: string
  path: string
  operationId: string
  operation: OpenApiOperation
}

/** Annotation keywords of OpenAPI 3.0 Schema Objects that JSON Schema (and strict Ajv) does not know. */
const OPENAPI_ONLY = new Set([
  'example',
  'deprecated',
  'discriminator',
  'xml',
  'externalDocs',
  'readOnly',
  'writeOnly',
])
const SUBSCHEMA = new Set(['items', 'not', 'additionalProperties'])
const SUBSCHEMA_LIST = new Set(['allOf', 'anyOf', 'oneOf'])

/**
 * An OpenAPI 3.0 Schema Object as JSON Schema (draft-07, as Ajv reads it). Walked keyword by keyword,
 * so a property named like a keyword (`example`) is kept: `$ref` into components points at the spec
 * registered under SPEC_ID (siblings of a `$ref` are ignored, as OpenAPI 3.0 says); `nullable: true`
 * admits null; `discriminator` only names the `oneOf` branch, which `oneOf` decides anyway.
 */
export function toJsonSchema(schema: Json): Json {
  if (typeof schema.$ref === 'string')
    return { $ref: schema.$ref.replace(/^#\/components\/schemas\//, `${SPEC_ID}#/definitions/`) }
  const out: Json = {}
  for (const [keyword, value] of Object.entries(schema)) {
    if (OPENAPI_ONLY.has(keyword) || keyword === 'nullable') continue
    if (keyword === 'properties')
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, Json>).map(([name, s]) => [name, toJsonSchema(s)]),
      )
    else if (SUBSCHEMA.has(keyword) && typeof value === 'object') out[keyword] = toJsonSchema(value as Json)
    else if (SUBSCHEMA_LIST.has(keyword)) out[keyword] = (value as Json[]).map(toJsonSchema)
    else out[keyword] = value
  }
  if (schema.nullable !== true) return out
  if (typeof out.type === 'string') {
    out.type = [out.type, 'null']
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null]
    return out
  }
  return { anyOf: [out, { type: 'null' }] }
}

/**
 * The specification's "Known issues" section: `signature.counter` of a transaction is a string in the
 * schema, but fiskaly's middleware answers a number, and clients must accept both. fiscalbox answers a
 * number (docs/sign-de-v2.md); this is the only place the schemas are widened, wherever a transaction's
 * signature is described (the inline responses and the TxResponse of the lists).
 */
function acceptKnownIssues(node: unknown): void {
  if (!node || typeof node !== 'object') return
  const signature = (node as { properties?: { signature?: { properties?: Record<string, Json> } } })
    .properties?.signature?.properties
  if (signature?.counter)
    signature.counter = { anyOf: [signature.counter, { $ref: '#/components/schemas/Counter' }] }
  for (const child of Object.values(node)) acceptKnownIssues(child)
}

/** The body of every error, as the specification's "Errors and Status Codes" section shows it. */
const ERROR_BODY = {
  type: 'object',
  properties: {
    status_code: { type: 'integer' },
    error: { type: 'string' },
    code: { type: 'string', pattern: '^E_[A-Z_]+$' },
    message: { type: 'string' },
  },
  required: ['status_code', 'error', 'code', 'message'],
}

export class OfficialSpec {
  readonly operations: SpecOperation[] = []
  private readonly ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false })
  private readonly validators = new Map<string, ValidateFunction>()

  constructor() {
    const spec = JSON.parse(readFileSync(SPEC_PATH, 'utf8'))
    acceptKnownIssues(spec)
    ;(formatsPlugin as unknown as (ajv: Ajv) => void)(this.ajv)
    // 64-bit counters as decimal text (SignatureCounter, TransactionCounter).
    this.ajv.addFormat('bigint', /^-?\d+$/)
    const definitions = Object.fromEntries(
      Object.entries(spec.components.schemas as Record<string, Json>).map(([name, s]) => [
        name,
        toJsonSchema(s),
      ]),
    )
    this.ajv.addSchema({ $id: SPEC_ID, definitions })
    for (const [path, item] of Object.entries(spec.paths as Record<string, Record<string, OpenApiOperation>>))
      for (const method of METHODS) {
        const operation = item[method]
        if (operation)
          this.operations.push({
            method: method.toUpperCase(),
            path,
            operationId: operation.operationId,
            operation,
          })
      }
  }

  /** The operation a request hits: `/api/v2/tss/{tss_id}` matches any one path segment for `{tss_id}`. */
  operationOf(method: string, url: string): SpecOperation | undefined {
    const path = url.split('?')[0] as string
    return this.operations.find(
      (op) => op.method === method && new RegExp(`^${op.path.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path),
    )
  }

  /**
   * Checks one live response against the operation's response of that status. Answers the problems
   * (empty when the response is what the specification describes).
   */
  check(op: SpecOperation, response: { status: number; contentType: string; body: unknown }): string[] {
    const documented = op.operation.responses[String(response.status)]
    if (!documented) {
      // An error the operation does not list (400 for a broken body, 401, 413, 429): the general form.
      if (response.status < 400) return [`status ${response.status} is not documented for ${op.operationId}`]
      return this.problems('error', ERROR_BODY, response.body)
    }
    const media = Object.keys(documented.content ?? {})
    const type = response.contentType.split(';')[0]?.trim() ?? ''
    if (media.length && !media.includes(type))
      return [`content type ${type} where the specification says ${media.join(' or ')}`]
    const schema = documented.content?.[type]?.schema
    if (type !== 'application/json' || !schema) return []
    return this.problems(`${op.operationId} ${response.status}`, toJsonSchema(schema), response.body)
  }

  private problems(key: string, schema: Json, body: unknown): string[] {
    let validate = this.validators.get(key)
    if (!validate) {
      validate = this.ajv.compile(schema)
      this.validators.set(key, validate)
    }
    if (validate(body)) return []
    return (validate.errors ?? []).map(
      (e: ErrorObject) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`,
    )
  }
}
