import { ErrorCode, FiscalError, invalid } from '../core/errors.ts'

/**
 * JSON bodies, parsed with JSON.parse but without losing digits: an unquoted integer of 16 or more digits
 * (a 64-bit case code sent as a number) would be rounded by a double, so it is turned into a string of its
 * exact digits first. Only integers outside strings are touched; the case-code parser accepts both forms.
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
  return value
}

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
