/**
 * A streaming reader of POSIX ustar archives for the verifier, written from the POSIX pax/ustar format
 * independently of the export writer: checks every header checksum, applies PAX `path` records (and GNU
 * 'L' long names, which other TSE exports use), skips directories and global headers. Holds one entry in
 * memory at a time.
 */

export class TarFormatError extends Error {}

export interface TarMember {
  name: string
  data: Buffer
  /** Offset of the member's header in the archive, for messages. */
  offset: number
}

const BLOCK = 512

function field(header: Buffer, start: number, length: number): string {
  const raw = header.subarray(start, start + length)
  const nul = raw.indexOf(0)
  return raw.subarray(0, nul === -1 ? length : nul).toString('utf8')
}

function octalField(header: Buffer, start: number, length: number, what: string, offset: number): number {
  const raw = header.subarray(start, start + length)
  if ((raw[0] as number) & 0x80)
    throw new TarFormatError(`${what} at byte ${offset} uses base-256, not ustar`)
  const text = raw
    .toString('latin1')
    .replace(/[\0 ]+$/g, '')
    .replace(/^ +/, '')
  if (text === '') return 0
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`${what} "${text}" at byte ${offset} is not octal`)
  return Number.parseInt(text, 8)
}

function checksumOk(header: Buffer, offset: number): boolean {
  const stored = octalField(header, 148, 8, 'checksum', offset)
  let sum = 0
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] as number)
  return stored === sum
}

function paxPath(data: Buffer): string | undefined {
  let path: string | undefined
  let p = 0
  while (p < data.length) {
    const space = data.indexOf(0x20, p)
    if (space === -1) throw new TarFormatError('malformed PAX record')
    const length = Number(data.subarray(p, space).toString('latin1'))
    if (!Number.isInteger(length) || length <= 0 || p + length > data.length)
      throw new TarFormatError('malformed PAX record length')
    const record = data.subarray(space + 1, p + length - 1).toString('utf8')
    const eq = record.indexOf('=')
    if (record.slice(0, eq) === 'path') path = record.slice(eq + 1)
    p += length
  }
  return path
}

/** Pulls exactly n bytes at a time out of a chunked stream. */
class ByteQueue {
  #chunks: AsyncIterator<Buffer>
  #buffer = Buffer.alloc(0)
  #position = 0
  /** Bytes handed out so far. */
  consumed = 0

  constructor(source: AsyncIterable<Buffer | Uint8Array>) {
    this.#chunks = (async function* () {
      for await (const chunk of source) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)
    })()
  }

  /** n bytes, or fewer only at the end of the stream. */
  async take(n: number): Promise<Buffer> {
    while (this.#buffer.length - this.#position < n) {
      const next = await this.#chunks.next()
      if (next.done) break
      this.#buffer = Buffer.concat([this.#buffer.subarray(this.#position), next.value])
      this.#position = 0
    }
    const end = Math.min(this.#position + n, this.#buffer.length)
    const out = this.#buffer.subarray(this.#position, end)
    this.#position = end
    this.consumed += out.length
    return out
  }
}

/** Regular files of the archive, in archive order. Throws TarFormatError on a damaged archive. */
export async function* readTar(source: AsyncIterable<Buffer | Uint8Array>): AsyncGenerator<TarMember> {
  const queue = new ByteQueue(source)
  let longName: string | undefined
  for (;;) {
    const offset = queue.consumed
    const header = await queue.take(BLOCK)
    if (header.length === 0) return // end without the end-of-archive blocks: tolerated
    if (header.length < BLOCK) throw new TarFormatError(`truncated header at byte ${offset}`)
    if (header.every((b) => b === 0)) return // end-of-archive marker
    if (!checksumOk(header, offset)) throw new TarFormatError(`header checksum mismatch at byte ${offset}`)
    const size = octalField(header, 124, 12, 'size', offset)
    const type = String.fromCharCode(header[156] as number)
    const data = await queue.take(size)
    if (data.length < size) throw new TarFormatError(`member at byte ${offset} is truncated`)
    await queue.take((BLOCK - (size % BLOCK)) % BLOCK)
    if (type === 'x') {
      longName = paxPath(data) ?? longName
      continue
    }
    if (type === 'L') {
      longName = data.toString('utf8').replace(/\0+$/, '')
      continue
    }
    if (type === 'g' || type === '5') continue
    let name = field(header, 0, 100)
    const magic = header.subarray(257, 262).toString('latin1')
    const prefix = magic === 'ustar' ? field(header, 345, 155) : ''
    if (prefix) name = `${prefix}/${name}`
    if (longName !== undefined) name = longName
    longName = undefined
    if (type !== '0' && type !== '\0' && type !== '7') continue // links, devices: not export content
    yield { name: name.replace(/^\.\//, ''), data: Buffer.from(data), offset }
  }
}
