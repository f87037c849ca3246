/**
 * JSON text like JSON.stringify, with one addition: a bigint is written as its exact digits. A 64-bit
 * case code answered as a JSON number must keep every digit, which a double (and so JSON.stringify of a
 * number) cannot promise above 2^53. Key order is kept, so a response keeps its documented field order.
 */
export function exactJson(value: unknown): string {
  if (typeof value === 'bigint') return value.toString()
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (value instanceof Date) return JSON.stringify(value)
  if (Array.isArray(value))
    return `[${value.map((item) => (item === undefined ? 'null' : exactJson(item))).join(',')}]`
  const members = Object.entries(value as Record<string, unknown>)
    .filter(([, member]) => member !== undefined && typeof member !== 'function')
    .map(([key, member]) => `${JSON.stringify(key)}:${exactJson(member)}`)
  return `{${members.join(',')}}`
}
