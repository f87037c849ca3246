/**
 * POSIX ustar (IEEE Std 1003.1-2001) header blocks, written by hand: the TSS export is a flat archive of
 * small regular files, so only type '0' (file) and type 'x' (PAX extended header for long names) are needed.
 * Numeric fields are zero-padded octal followed by NUL; the checksum is the byte sum of the header with
 * the checksum field read as eight spaces.
 */

export const BLOCK = 512
/** The ustar name field holds 100 bytes; names that need all 100 (no NUL) or more go into a PAX header. */
export const MAX_USTAR_NAME = 99

export interface UstarFile {
  name: string
  size: number
  /** Seconds since the epoch. */
  mtime: number
  /** Defaults to 0o644, the mode TR-03153 exports use. */
  mode?: number
  /** '0' regular file (default) or 'x' PAX extended header. */
  type?: '0' | 'x'
}

const encoder = new TextEncoder()

/** Does this name fit the ustar name field as it is (printable ASCII, at most 99 bytes)? */
export function fitsUstarName(name: string): boolean {
  return name.length <= MAX_USTAR_NAME && /^[\x20-\x7e]*$/.test(name)
}

function octal(target: Uint8Array, offset: number, width: number, value: number): void {
  const digits = value.toString(8)
  if (digits.length > width - 1) throw new RangeError(`${value} does not fit a ${width}-byte ustar field`)
  const padded = digits.padStart(width - 1, '0')
  for (let i = 0; i < padded.length; i++) target[offset + i] = padded.charCodeAt(i)
  target[offset + width - 1] = 0
}

function ascii(target: Uint8Array, offset: number, width: number, text: string): void {
  for (let i = 0; i < text.length && i < width; i++) target[offset + i] = text.charCodeAt(i) & 0x7f
}

/**
 * Writes one 512-byte ustar header into `target` at `offset` (which must be zero-filled there).
 * The name must fit (see fitsUstarName); longer names are the caller's job (a PAX header first).
 */
export function writeUstarHeader(target: Uint8Array, offset: number, file: UstarFile): void {
  if (!fitsUstarName(file.name)) throw new RangeError(`name needs a PAX header: ${file.name}`)
  const h = target.subarray(offset, offset + BLOCK)
  ascii(h, 0, 100, file.name)
  octal(h, 100, 8, file.mode ?? 0o644)
  octal(h, 108, 8, 0) // uid
  octal(h, 116, 8, 0) // gid
  octal(h, 124, 12, file.size)
  octal(h, 136, 12, Math.max(0, Math.floor(file.mtime)))
  h[156] = (file.type ?? '0').charCodeAt(0)
  ascii(h, 257, 6, 'ustar') // magic "ustar\0"
  h[263] = 0x30 // version "00"
  h[264] = 0x30
  ascii(h, 265, 32, 'root') // uname
  ascii(h, 297, 32, 'root') // gname
  let sum = 8 * 0x20 // the checksum field itself counts as spaces
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += h[i] as number
  octal(h, 148, 7, sum) // six digits and NUL ...
  h[155] = 0x20 // ... then a space, as POSIX tar writes it
}

/** Padding after `size` data bytes up to the next block boundary. */
export function paddingOf(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK
}

/** One PAX record `"<len> <key>=<value>\n"`, where <len> counts the whole record including itself. */
export function paxRecord(key: string, value: string): Uint8Array {
  const body = encoder.encode(` ${key}=${value}\n`)
  let length = body.length + 1
  while (String(length).length + body.length !== length) length = String(length).length + body.length
  const record = new Uint8Array(length)
  record.set(encoder.encode(String(length)), 0)
  record.set(body, length - body.length)
  return record
}

/** The ustar name used in the plain header of an entry whose real name is in a PAX `path` record. */
export function fallbackName(name: string): string {
  return name.replace(/[^\x20-\x7e]/g, '_').slice(0, MAX_USTAR_NAME)
}
