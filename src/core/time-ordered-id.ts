import { randomFillSync } from 'node:crypto'

const pool = Buffer.alloc(10 * 256)
let offset = pool.length

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits. Rows keyed by it are
 * inserted at the end of their primary-key index instead of at a random page, so a receipt dirties a few
 * pages less and the database stays compact. Random bytes are drawn in blocks: one call per id costs more
 * than the rest of the id.
 */
export function timeOrderedId(now: number = Date.now()): string {
  if (offset === pool.length) {
    randomFillSync(pool)
    offset = 0
  }
  const random = pool.subarray(offset, offset + 10)
  offset += 10
  const hex = now.toString(16).padStart(12, '0') + random.toString('hex')
  // version 7 in the 13th digit, variant 10xx in the 17th
  const variant = ((Number.parseInt(hex[15] as string, 16) & 0x3) | 0x8).toString(16)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${hex.slice(12, 15)}-${variant}${hex.slice(16, 19)}-${hex.slice(19, 31)}`
}
