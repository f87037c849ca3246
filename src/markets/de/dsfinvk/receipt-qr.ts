/**
 * The DSFinV-K receipt QR code (from the Finish log of the receipt's TSS transaction):
 * `V0;{client serial};{processType};{processData};{txNumber};{signatureCounter};{start time};{end time};
 *  {sigAlg};{logTimeFormat};{signature base64};{public key base64}`, times as `YYYY-MM-DDThh:mm:ss.fffZ`.
 * With it alone the Finish log's signed bytes can be rebuilt and its signature checked, so every field
 * must be exactly what the TSS signed (seconds of the end time, the case of the client id).
 *
 * processData is written as the TSS signed it, without escaping: order data (Bestellung-V1) always holds
 * ';'. The fields before it (version, client serial, processType) and the eight after it never contain
 * ';', so a reader takes three fields from the front, eight from the back, and processData is what lies
 * between. That is why only processData may contain ';'.
 */

export interface ReceiptQr {
  clientSerial: string
  processType: string
  processData: string
  transactionNumber: bigint
  signatureCounter: bigint
  /** Start and Finish log times, whole seconds since the epoch (the TSS signs unix seconds). */
  startTime: number
  endTime: number
  /** e.g. "ecdsa-plain-SHA256" */
  signatureAlgorithm: string
  /** e.g. "unixTime" */
  logTimeFormat: string
  signature: Buffer
  /** The uncompressed public point 04||X||Y. */
  publicKey: Buffer
}

export const QR_VERSION = 'V0'
const FIELDS = 12
const HEAD = 3
const TAIL = 8
const ISO_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

export class ReceiptQrError extends Error {}

export function qrTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString()
}

function field(name: string, value: string): string {
  if (value.includes(';')) throw new ReceiptQrError(`${name} must not contain ';'`)
  return value
}

export function buildReceiptQr(qr: ReceiptQr): string {
  return [
    QR_VERSION,
    field('clientSerial', qr.clientSerial),
    field('processType', qr.processType),
    qr.processData,
    qr.transactionNumber.toString(),
    qr.signatureCounter.toString(),
    qrTime(qr.startTime),
    qrTime(qr.endTime),
    field('signatureAlgorithm', qr.signatureAlgorithm),
    field('logTimeFormat', qr.logTimeFormat),
    qr.signature.toString('base64'),
    qr.publicKey.toString('base64'),
  ].join(';')
}

function seconds(name: string, text: string): number {
  if (!ISO_MILLIS.test(text)) throw new ReceiptQrError(`${name} "${text}" is not YYYY-MM-DDThh:mm:ss.fffZ`)
  const millis = Date.parse(text)
  if (Number.isNaN(millis)) throw new ReceiptQrError(`${name} "${text}" is not a date`)
  return Math.floor(millis / 1000)
}

function integer(name: string, text: string): bigint {
  if (!/^(0|[1-9]\d*)$/.test(text)) throw new ReceiptQrError(`${name} "${text}" is not a whole number`)
  return BigInt(text)
}

function base64(name: string, text: string): Buffer {
  if (text.length === 0 || text.length % 4 !== 0 || !BASE64.test(text))
    throw new ReceiptQrError(`${name} is not base64`)
  return Buffer.from(text, 'base64')
}

export function parseReceiptQr(text: string): ReceiptQr {
  const parts = text.split(';')
  if (parts.length < FIELDS)
    throw new ReceiptQrError(`expected ${FIELDS} fields separated by ';', got ${parts.length}`)
  const [version, clientSerial, processType] = parts.slice(0, HEAD) as [string, string, string]
  const processData = parts.slice(HEAD, parts.length - TAIL).join(';')
  const [tx, counter, start, end, alg, format, sig, key] = parts.slice(-TAIL) as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ]
  if (version !== QR_VERSION) throw new ReceiptQrError(`version "${version}", expected ${QR_VERSION}`)
  return {
    clientSerial,
    processType,
    processData,
    transactionNumber: integer('transaction number', tx),
    signatureCounter: integer('signature counter', counter),
    startTime: seconds('start time', start),
    endTime: seconds('end time', end),
    signatureAlgorithm: alg,
    logTimeFormat: format,
    signature: base64('signature', sig),
    publicKey: base64('public key', key),
  }
}
