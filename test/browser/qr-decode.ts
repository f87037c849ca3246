/**
 * A small QR code decoder for the tests, written from the QR code standard (ISO/IEC 18004) and
 * independent of the `qrcode` package that draws the codes: it reads a module matrix back to text, so a
 * test can check what a rendered code says instead of how it was made. It handles clean images (no
 * error correction is applied: every Reed-Solomon block must check with zero syndromes) of any version,
 * in numeric, alphanumeric and byte (UTF-8) mode.
 *
 * The block structure is not looked up in the standard's table: every (blocks, EC codewords per block)
 * split of the symbol's codewords is tried with every mask, and the one whose blocks are all valid
 * Reed-Solomon codewords wins. A wrong split or mask passing every block's check by chance is
 * practically impossible (each block has at least 7 check symbols).
 */

type Matrix = boolean[][]

/** GF(256) with the QR code's polynomial x^8 + x^4 + x^3 + x^2 + 1. */
const EXP = new Uint8Array(512)
const LOG = new Uint8Array(256)
{
  let x = 1
  for (let i = 0; i < 255; i++) {
    EXP[i] = x
    LOG[x] = i
    x <<= 1
    if (x & 0x100) x ^= 0x11d
  }
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255] as number
}
const multiply = (a: number, b: number) =>
  a === 0 || b === 0 ? 0 : (EXP[(LOG[a] as number) + (LOG[b] as number)] as number)

/** A Reed-Solomon block is valid when c(α^k) = 0 for k = 0 .. ecCount-1 (the generator's roots). */
function blockValid(block: number[], ecCount: number): boolean {
  for (let k = 0; k < ecCount; k++) {
    const root = EXP[k] as number
    let value = 0
    for (const coefficient of block) value = multiply(value, root) ^ coefficient
    if (value !== 0) return false
  }
  return true
}

/** Centres of the alignment patterns of a version (the standard's table, as its known closed form). */
function alignmentCentres(version: number, size: number): number[] {
  if (version === 1) return []
  const count = Math.floor(version / 7) + 2
  const step = version === 32 ? 26 : Math.ceil((version * 4 + 4) / (count * 2 - 2)) * 2
  const centres = [6]
  for (let position = size - 7; centres.length < count; position -= step) centres.splice(1, 0, position)
  return centres
}

/** Modules that are not data: finders with separators, timing, alignment, format and version areas. */
function functionModules(version: number, size: number): Matrix {
  const used: Matrix = Array.from({ length: size }, () => new Array<boolean>(size).fill(false))
  const mark = (top: number, left: number, height: number, width: number) => {
    for (let r = Math.max(0, top); r < Math.min(size, top + height); r++) {
      for (let c = Math.max(0, left); c < Math.min(size, left + width); c++) (used[r] as boolean[])[c] = true
    }
  }
  mark(0, 0, 9, 9) // top-left finder, separator and format area
  mark(0, size - 8, 9, 8) // top-right finder, separator and format area
  mark(size - 8, 0, 8, 9) // bottom-left finder, separator, format area and the dark module
  mark(6, 0, 1, size) // timing
  mark(0, 6, size, 1)
  const centres = alignmentCentres(version, size)
  for (const r of centres) {
    for (const c of centres) {
      const onFinder = (r === 6 && c === 6) || (r === 6 && c === size - 7) || (r === size - 7 && c === 6)
      if (!onFinder) mark(r - 2, c - 2, 5, 5)
    }
  }
  if (version >= 7) {
    mark(0, size - 11, 6, 3)
    mark(size - 11, 0, 3, 6)
  }
  return used
}

const MASKS: Array<(r: number, c: number) => boolean> = [
  (r, c) => (r + c) % 2 === 0,
  (r) => r % 2 === 0,
  (_r, c) => c % 3 === 0,
  (r, c) => (r + c) % 3 === 0,
  (r, c) => (Math.floor(r / 2) + Math.floor(c / 3)) % 2 === 0,
  (r, c) => ((r * c) % 2) + ((r * c) % 3) === 0,
  (r, c) => (((r * c) % 2) + ((r * c) % 3)) % 2 === 0,
  (r, c) => (((r + c) % 2) + ((r * c) % 3)) % 2 === 0,
]

/** The data modules in reading order: column pairs from the right, up and down in turn, skipping column 6. */
function readingOrder(size: number, used: Matrix): Array<[number, number]> {
  const order: Array<[number, number]> = []
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5
    const upward = ((right + 1) & 2) === 0
    for (let step = 0; step < size; step++) {
      const row = upward ? size - 1 - step : step
      for (const column of [right, right - 1]) if (!used[row]?.[column]) order.push([row, column])
    }
  }
  return order
}

const ALPHANUMERIC = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:'

/** The segments of the data codewords: numeric, alphanumeric and byte mode, up to the terminator. */
function parseSegments(data: number[], version: number): string {
  let position = 0
  const total = data.length * 8
  const read = (bits: number) => {
    let value = 0
    for (let i = 0; i < bits; i++, position++) {
      value = (value << 1) | (((data[position >> 3] as number) >> (7 - (position & 7))) & 1)
    }
    return value
  }
  const band = version <= 9 ? 0 : version <= 26 ? 1 : 2
  let text = ''
  while (total - position >= 4) {
    const mode = read(4)
    if (mode === 0) break
    if (mode === 1) {
      let count = read([10, 12, 14][band] as number)
      for (; count >= 3; count -= 3) text += String(read(10)).padStart(3, '0')
      if (count === 2) text += String(read(7)).padStart(2, '0')
      if (count === 1) text += String(read(4))
    } else if (mode === 2) {
      let count = read([9, 11, 13][band] as number)
      for (; count >= 2; count -= 2) {
        const pair = read(11)
        text += (ALPHANUMERIC[Math.floor(pair / 45)] as string) + (ALPHANUMERIC[pair % 45] as string)
      }
      if (count === 1) text += ALPHANUMERIC[read(6)] as string
    } else if (mode === 4) {
      const count = read([8, 16, 16][band] as number)
      const bytes = Buffer.alloc(count)
      for (let i = 0; i < count; i++) bytes[i] = read(8)
      text += new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    } else {
      throw new Error(`mode ${mode} is not supported by this decoder`)
    }
  }
  return text
}

/** Reads a clean QR code's module matrix (dark = true, no quiet zone) back to its text. */
export function decodeQr(matrix: Matrix): string {
  const size = matrix.length
  const version = (size - 17) / 4
  if (!Number.isInteger(version) || version < 1 || version > 40) throw new Error(`no QR size: ${size}`)
  const used = functionModules(version, size)
  const order = readingOrder(size, used)
  const codewordCount = Math.floor(order.length / 8)
  for (let mask = 0; mask < 8; mask++) {
    const maskAt = MASKS[mask] as (r: number, c: number) => boolean
    const codewords: number[] = []
    for (let i = 0; i < codewordCount; i++) {
      let byte = 0
      for (let bit = 0; bit < 8; bit++) {
        const [r, c] = order[i * 8 + bit] as [number, number]
        byte = (byte << 1) | (((matrix[r] as boolean[])[c] as boolean) !== maskAt(r, c) ? 1 : 0)
      }
      codewords.push(byte)
    }
    for (let blocks = 1; blocks <= 81; blocks++) {
      for (let ec = 7; ec <= 30; ec++) {
        const dataCount = codewordCount - blocks * ec
        if (dataCount < blocks) continue
        const shortLength = Math.floor(dataCount / blocks)
        const longBlocks = dataCount % blocks
        const split: number[][] = Array.from({ length: blocks }, () => [])
        let at = 0
        for (let i = 0; i <= shortLength; i++) {
          for (let b = 0; b < blocks; b++) {
            const length = b >= blocks - longBlocks ? shortLength + 1 : shortLength
            if (i < length) (split[b] as number[]).push(codewords[at++] as number)
          }
        }
        const data = split.flat()
        for (let i = 0; i < ec; i++) for (const block of split) block.push(codewords[at++] as number)
        if (split.every((block) => blockValid(block, ec))) return parseSegments(data, version)
      }
    }
  }
  throw new Error('no mask and block structure gives valid Reed-Solomon blocks: not a readable QR code')
}
