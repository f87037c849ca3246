/**
 * A minimal DER reader for the verifier, written from X.690 independently of the producer's encoder:
 * single-byte and high tag numbers, definite lengths only (DER forbids the indefinite form).
 */

export class DerError extends Error {}

export interface Tlv {
  /** The identifier octet(s) as one number: class and constructed bits included, e.g. 0x30, 0x80, 0xa1. */
  tag: number
  /** Offset of the identifier octet in the buffer. */
  start: number
  /** Offset of the first content byte. */
  contentStart: number
  /** Offset just after the last content byte. */
  end: number
}

/** Reads one TLV at `offset`, checking that it lies within `limit`. */
export function readTlv(bytes: Uint8Array, offset: number, limit = bytes.length): Tlv {
  let p = offset
  if (p >= limit) throw new DerError(`truncated: no tag at byte ${offset}`)
  let tag = bytes[p++] as number
  if ((tag & 0x1f) === 0x1f) {
    // high tag number form: base-128 digits, kept with the first octet for a unique number
    let more = true
    while (more) {
      if (p >= limit) throw new DerError(`truncated tag at byte ${offset}`)
      const b = bytes[p++] as number
      tag = tag * 256 + b
      more = (b & 0x80) !== 0
    }
  }
  if (p >= limit) throw new DerError(`truncated: no length at byte ${offset}`)
  const first = bytes[p++] as number
  let length = first
  if (first === 0x80) throw new DerError(`indefinite length at byte ${offset} is not DER`)
  if (first > 0x80) {
    const count = first & 0x7f
    if (count > 6) throw new DerError(`length of ${count} bytes at byte ${offset} is too large`)
    length = 0
    for (let i = 0; i < count; i++) {
      if (p >= limit) throw new DerError(`truncated length at byte ${offset}`)
      length = length * 256 + (bytes[p++] as number)
    }
    if (length < 0x80 || (count > 1 && bytes[p - count] === 0))
      throw new DerError(`length at byte ${offset} is not in its shortest form`)
  }
  const end = p + length
  if (end > limit) throw new DerError(`element at byte ${offset} runs past its container`)
  return { tag, start: offset, contentStart: p, end }
}

/** All TLVs directly inside the content [start, end). */
export function readChildren(bytes: Uint8Array, start: number, end: number): Tlv[] {
  const children: Tlv[] = []
  let p = start
  while (p < end) {
    const tlv = readTlv(bytes, p, end)
    children.push(tlv)
    p = tlv.end
  }
  return children
}

export function contentOf(bytes: Uint8Array, tlv: Tlv): Uint8Array {
  return bytes.subarray(tlv.contentStart, tlv.end)
}

/** An INTEGER's content as a bigint (two's complement, big-endian). */
export function integerOf(content: Uint8Array): bigint {
  if (content.length === 0) throw new DerError('empty INTEGER')
  let value = 0n
  for (const b of content) value = (value << 8n) | BigInt(b)
  if ((content[0] as number) & 0x80) value -= 1n << BigInt(content.length * 8)
  return value
}

/** An OBJECT IDENTIFIER's content in dotted form. */
export function oidOf(content: Uint8Array): string {
  if (content.length === 0) throw new DerError('empty OBJECT IDENTIFIER')
  const arcs: number[] = []
  let value = 0
  for (const b of content) {
    value = value * 128 + (b & 0x7f)
    if ((b & 0x80) === 0) {
      arcs.push(value)
      value = 0
    }
  }
  if ((content[content.length - 1] as number) & 0x80) throw new DerError('truncated OBJECT IDENTIFIER')
  const first = arcs.shift() as number
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80]
  return [...head, ...arcs].join('.')
}
