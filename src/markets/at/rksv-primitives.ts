import { createCipheriv, createHash } from 'node:crypto'

/**
 * The RKSV building blocks (Detailspezifikation, algorithm R1): turnover counter encryption with
 * AES-256-ICM, the chain value, the AES key check value and the encodings of the printed codes. Pure
 * functions of their inputs, so that the public vectors (test/markets/at) pin every one of them.
 */

const sha256 = (data: string | Buffer): Buffer => createHash('sha256').update(data).digest()

/** IV of the turnover counter: the first 16 bytes of SHA-256(UTF-8 of Kassen-ID || Belegnummer). */
export const turnoverIv = (cashboxId: string, receiptId: string): Buffer =>
  sha256(`${cashboxId}${receiptId}`).subarray(0, 16)

export const MIN_COUNTER_BYTES = 5
export const MAX_COUNTER_BYTES = 16

/** Cents as N-byte big-endian two's complement, refused when the value does not fit. */
export function counterBytes(cents: bigint, size: number): Buffer {
  const limit = 1n << BigInt(size * 8 - 1)
  if (cents >= limit || cents < -limit) {
    throw new RangeError(`turnover counter ${cents} does not fit into ${size} bytes`)
  }
  const bytes = Buffer.alloc(size)
  let value = BigInt.asUintN(size * 8, cents)
  for (let i = size - 1; i >= 0; i--) {
    bytes[i] = Number(value & 0xffn)
    value >>= 8n
  }
  return bytes
}

/**
 * AES-256-ICM (which is AES-256-CTR with the IV as the initial counter block) over the counter padded to
 * one block; the first N bytes of the ciphertext, in base64.
 */
export function encryptTurnover(
  aesKey: Buffer,
  cashboxId: string,
  receiptId: string,
  cents: bigint,
  size: number,
): string {
  const block = Buffer.alloc(16)
  counterBytes(cents, size).copy(block)
  const cipher = createCipheriv('aes-256-ctr', aesKey, turnoverIv(cashboxId, receiptId))
  return Buffer.concat([cipher.update(block), cipher.final()])
    .subarray(0, size)
    .toString('base64')
}

/** Sig-Voriger-Beleg: base64 of the first 8 bytes of SHA-256 of the previous JWS (or the Kassen-ID first). */
export const chainValue = (input: string): string => sha256(input).subarray(0, 8).toString('base64')

/** Prüfwert of the AES key for FinanzOnline: base64 of SHA-256(base64 key text)[0:3], without padding. */
export const aesKeyCheckValue = (base64Key: string, bytes = 3): string =>
  sha256(Buffer.from(base64Key, 'ascii')).subarray(0, bytes).toString('base64').replace(/=+$/, '')

/** Turnover field of training and cancellation receipts. */
export const TRAINING_FIELD = Buffer.from('TRA').toString('base64')
export const STORNO_FIELD = Buffer.from('STO').toString('base64')

/** What a failed signature device puts where the signature would be. */
export const FAILED_DEVICE_TEXT = 'Sicherheitseinrichtung ausgefallen'

export const JWS_HEADER = Buffer.from('{"alg":"ES256"}').toString('base64url')

/** The JWS signing input: base64url(header) "." base64url(payload); ES256 signs exactly these bytes. */
export const jwsSigningInput = (payload: string): string =>
  `${JWS_HEADER}.${Buffer.from(payload, 'utf8').toString('base64url')}`

/** The JWS compact serialization: header.payload.signature, all base64url without padding. */
export const jwsCompact = (payload: string, signature: Buffer): string =>
  `${jwsSigningInput(payload)}.${signature.toString('base64url')}`

/** The signature part of a failed-device receipt. */
export const failedSignature = (): Buffer => Buffer.from(FAILED_DEVICE_TEXT, 'utf8')

/** QR code representation: the payload, "_", the signature in standard base64. */
export const qrCode = (payload: string, signature: Buffer): string =>
  `${payload}_${signature.toString('base64')}`

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** RFC 4648 base32 with '=' padding. */
export function base32(data: Buffer): string {
  let out = ''
  let bits = 0
  let value = 0
  for (const byte of data) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31]
  return out.padEnd(Math.ceil(out.length / 8) * 8, '=')
}

/** Index of the turnover field, the chain field and the signature in the '_'-split QR code (leading ''). */
const TURNOVER_FIELD = 10
const CHAIN_FIELD = 12
const SIGNATURE_FIELD = 13

/** OCR representation: the QR code with the turnover, chain and signature fields re-encoded base64 -> base32. */
export function ocrCode(qr: string): string {
  const fields = qr.split('_')
  for (const i of [TURNOVER_FIELD, CHAIN_FIELD, SIGNATURE_FIELD]) {
    fields[i] = base32(Buffer.from(fields[i] ?? '', 'base64'))
  }
  return fields.join('_')
}

/** Cents with a decimal comma, two decimals, no thousands separator: 120034n -> "1200,34", -5n -> "-0,05". */
export function formatAmount(cents: bigint): string {
  const negative = cents < 0n
  const abs = negative ? -cents : cents
  return `${negative ? '-' : ''}${abs / 100n},${(abs % 100n).toString().padStart(2, '0')}`
}
