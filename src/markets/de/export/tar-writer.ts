import { BLOCK, fallbackName, fitsUstarName, paddingOf, paxRecord, writeUstarHeader } from './ustar.ts'

/** One regular file of the archive. Entries are small (log messages, certificates), so data is in memory. */
export interface TarEntry {
  name: string
  data: Uint8Array
  /** Seconds since the epoch; the archive's default when absent. */
  mtime?: number
}

export interface TarChunkOptions {
  /** Default modification time of entries, seconds since the epoch. */
  mtime: number
  /**
   * Entries are packed into chunks of about this size before they are handed on: one write per entry would
   * make a million-entry export spend its time in stream bookkeeping.
   */
  chunkBytes?: number
}

const DEFAULT_CHUNK = 256 * 1024
const END_OF_ARCHIVE = 2 * BLOCK

/**
 * Turns entries into the bytes of a POSIX ustar archive, chunk by chunk. It pulls the next entry only when
 * the consumer asks for the next chunk, so memory stays bounded by one chunk plus one entry however many
 * entries come, and a slow consumer (a file, an HTTP client) slows the source down (backpressure through
 * Readable.from / stream.pipeline). Names that do not fit the 100-byte ustar field get a PAX 'x' header
 * with a `path` record first.
 */
export async function* tarChunks(
  entries: AsyncIterable<TarEntry> | Iterable<TarEntry>,
  options: TarChunkOptions,
): AsyncGenerator<Buffer> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK
  let chunk = Buffer.alloc(chunkBytes)
  let used = 0

  // Each yielded chunk belongs to the consumer from then on: a fresh one is allocated, never reused.
  function* reserve(bytes: number): Generator<Buffer, void> {
    if (used + bytes <= chunk.length) return
    if (used > 0) yield chunk.subarray(0, used)
    chunk = Buffer.alloc(Math.max(chunkBytes, bytes))
    used = 0
  }

  function* file(name: string, data: Uint8Array, mtime: number, type: '0' | 'x'): Generator<Buffer, void> {
    const total = BLOCK + data.length + paddingOf(data.length)
    yield* reserve(total)
    writeUstarHeader(chunk, used, { name, size: data.length, mtime, type })
    chunk.set(data, used + BLOCK)
    used += total // the padding is already zero: chunks are fresh allocations
  }

  for await (const entry of entries) {
    const mtime = entry.mtime ?? options.mtime
    if (!fitsUstarName(entry.name)) {
      const short = fallbackName(entry.name)
      yield* file(`PaxHeaders/${short}`.slice(0, 99), paxRecord('path', entry.name), mtime, 'x')
      yield* file(short, entry.data, mtime, '0')
    } else {
      yield* file(entry.name, entry.data, mtime, '0')
    }
  }
  yield* reserve(END_OF_ARCHIVE)
  used += END_OF_ARCHIVE
  yield chunk.subarray(0, used)
}
