import { ErrorCode, FiscalError, invalid } from '../core/errors.ts'

/**
 * JSON bodies, parsed with JSON.parse but without losing digits: an unquoted integer of 16 or more digits
 * (a 64-bit case code sent as a number) would be rounded by a double, so it is turned into a string of its
 * exact digits first. Only integers outside strings are touched; the case-code parser accepts both forms.
 * A member named twice in one object is refused: JSON.parse keeps the last one, another parser (a proxy,
 * the POS's own log) the first, so the two would read different receipts.
 */
// The look-behind leaves the digits of a fraction or an exponent alone (0.1000000000000000001,
// 1e-1234567890123456): quoting them would break a valid number.
const BIG_INTEGER_OR_STRING = /"(?:[^"\\]|\\.)*"|(?<![\d.eE+-])-?\d{16,}(?![\d.eE])/g
const HAS_BIG_INTEGER = /\d{16}/
const MAX_DEPTH = 32

export function parseJsonBody(text: string): unknown {
  const safe = HAS_BIG_INTEGER.test(text)
    ? text.replace(BIG_INTEGER_OR_STRING, (token) => (token.startsWith('"') ? token : `"${token}"`))
    : text
  let value: unknown
  try {
    value = JSON.parse(safe)
  } catch (error) {
    throw invalid('body', `is not valid JSON (${(error as Error).message})`)
  }
  if (depthOf(value, 0) > MAX_DEPTH) throw invalid('body', `must not nest deeper than ${MAX_DEPTH} levels`)
  const duplicate = firstDuplicateKey(text)
  if (duplicate) throw invalid(duplicate, 'is given more than once in its object: send each member once')
  return value
}

/** The strings and the punctuation of a JSON text; numbers and literals lie between them and are skipped. */
const JSON_TOKEN = /"(?:[^"\\]|\\.)*"|[{}[\],:]/g

type Open = { keys: Set<string>; key: string } | { index: number }

/**
 * The path (`cbChargeItems[0].Amount`) of the first member named twice in one object of a text that
 * JSON.parse accepted, or undefined.
 */
export function firstDuplicateKey(text: string): string | undefined {
  const open: Open[] = []
  let expectingKey = false
  for (const [token] of text.matchAll(JSON_TOKEN)) {
    const top = open.at(-1)
    switch (token) {
      case '{':
        open.push({ keys: new Set(), key: '' })
        expectingKey = true
        break
      case '[':
        open.push({ index: 0 })
        break
      case '}':
      case ']':
        open.pop()
        break
      case ',':
        if (top && 'index' in top) top.index += 1
        else expectingKey = true
        break
      case ':':
        expectingKey = false
        break
      default:
        if (!expectingKey || !top || !('keys' in top)) break
        top.key = token.includes('\\') ? (JSON.parse(token) as string) : token.slice(1, -1)
        if (top.keys.has(top.key)) return pathOf(open) || 'body'
        top.keys.add(top.key)
    }
  }
  return undefined
}

const pathOf = (open: Open[]): string =>
  open.reduce<string>(
    (path, level) =>
      'index' in level ? `${path}[${level.index}]` : path ? `${path}.${level.key}` : level.key,
    '',
  )

function depthOf(value: unknown, depth: number): number {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return depth
  let max = depth
  for (const child of Object.values(value)) max = Math.max(max, depthOf(child, depth + 1))
  return max
}

// Strict decoding: a heuristic on U+FFFD would let invalid bytes through next to a real U+FFFD.
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

export function rejectInvalidUtf8(buffer: Buffer): string {
  try {
    return STRICT_UTF8.decode(buffer)
  } catch {
    throw new FiscalError(ErrorCode.ValidationError, 'body: is not valid UTF-8', {
      field: 'body',
      reason: 'must be UTF-8 encoded JSON',
    })
  }
}
