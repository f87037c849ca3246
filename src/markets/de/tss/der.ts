/**
 * The few DER encodings a TR-03151 log message needs. Lengths use the definite form (short below 128
 * bytes, long above), integers the minimal two's complement form, as DER requires.
 */

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n])
  const bytes: number[] = []
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}

export function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content])
}

/** Minimal two's complement content of a non-negative integer. */
export function integerContent(value: bigint | number): Buffer {
  let v = BigInt(value)
  if (v < 0n) throw new RangeError('only non-negative integers are encoded')
  const bytes: number[] = []
  do {
    bytes.unshift(Number(v & 0xffn))
    v >>= 8n
  } while (v > 0n)
  // A leading byte with the high bit set would read as negative.
  if ((bytes[0] as number) & 0x80) bytes.unshift(0)
  return Buffer.from(bytes)
}

export const integer = (value: bigint | number): Buffer => tlv(0x02, integerContent(value))
export const octetString = (content: Buffer): Buffer => tlv(0x04, content)
export const sequence = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items))
export const boolean = (value: boolean): Buffer => tlv(0x01, Buffer.from([value ? 0xff : 0x00]))

/** Context-specific primitive tag [n] with IMPLICIT content (0x80 | n). */
export const contextPrimitive = (n: number, content: Buffer): Buffer => tlv(0x80 | n, content)

export function objectIdentifier(dotted: string): Buffer {
  const arcs = dotted.split('.').map((arc) => BigInt(arc))
  const [first = 0n, second = 0n, ...rest] = arcs
  const out: number[] = []
  for (const arc of [first * 40n + second, ...rest]) {
    const chunk: number[] = [Number(arc & 0x7fn)]
    for (let v = arc >> 7n; v > 0n; v >>= 7n) chunk.unshift(Number(v & 0x7fn) | 0x80)
    out.push(...chunk)
  }
  return tlv(0x06, Buffer.from(out))
}

export interface Tlv {
  tag: number
  /** Offset of the tag byte in the input. */
  start: number
  /** Offset just past the value. */
  end: number
  content: Buffer
}

/** Reads the TLVs inside one constructed value (one level, no recursion). */
export function readTlvs(input: Buffer): Tlv[] {
  const out: Tlv[] = []
  let at = 0
  while (at < input.length) {
    const start = at
    const tag = input[at++] as number
    let len = input[at++] as number
    if (len & 0x80) {
      const count = len & 0x7f
      len = 0
      for (let i = 0; i < count; i++) len = len * 256 + (input[at++] as number)
    }
    const end = at + len
    if (end > input.length) throw new Error('DER value runs past its container')
    out.push({ tag, start, end, content: input.subarray(at, end) })
    at = end
  }
  return out
}
