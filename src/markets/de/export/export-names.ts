import { createHash, X509Certificate } from 'node:crypto'

/**
 * The content rules of a TSS export (BSI TR-03151 5.1 / TR-03153): file names of log messages and
 * certificates, and info.csv. Pure functions; the archive itself is written by tss-export.ts.
 */

/** The logTime of a log message in one of the three TR-03151 formats. */
export type LogTime =
  | { format: 'unixTime'; seconds: number | bigint }
  /** The UTCTime or GeneralizedTime string exactly as it stands in the log message, e.g. "20191216102617Z". */
  | { format: 'utcTime' | 'generalizedTime'; value: string }

export type TransactionOperation = 'StartTransaction' | 'UpdateTransaction' | 'FinishTransaction'

interface LogCommon {
  signatureCounter: number | bigint
  logTime: LogTime
}

/** What the file name of a log message is made of (the same facts the DER log message carries). */
export type LogNameParts = LogCommon &
  (
    | {
        kind: 'transaction'
        operationType: TransactionOperation
        transactionNumber: number | bigint
        /** The client id as it is in the log message (certifiedData [1], the client's serial number). */
        clientId: string
      }
    /** operationType as in the log message, e.g. "Initialize", "AuthenticateUser", "UpdateTime". */
    | { kind: 'system'; operationType: string }
    | { kind: 'audit' }
  )

const TIME_PREFIX = { unixTime: 'Unixt', utcTime: 'Utc', generalizedTime: 'Gent' } as const
const OPERATION_WORD: Record<TransactionOperation, string> = {
  StartTransaction: 'Start',
  UpdateTransaction: 'Update',
  FinishTransaction: 'Finish',
}

function timePart(time: LogTime): string {
  const value = time.format === 'unixTime' ? String(time.seconds) : time.value
  return `${TIME_PREFIX[time.format]}_${value}`
}

/**
 * The file name of a log message, without the `_Fc-n` suffix (see UniqueLogNames):
 * `Unixt_{time}_Sig-{counter}_Log-Tra_No-{txnr}_{Start|Update|Finish}_Client-{clientId}.log`,
 * `..._Log-Sys_{operationType}.log`, `..._Log-Aud.log`.
 */
export function logFileStem(parts: LogNameParts): string {
  const head = `${timePart(parts.logTime)}_Sig-${String(parts.signatureCounter)}`
  switch (parts.kind) {
    case 'transaction':
      return `${head}_Log-Tra_No-${String(parts.transactionNumber)}_${OPERATION_WORD[parts.operationType]}_Client-${parts.clientId}`
    case 'system':
      return `${head}_Log-Sys_${parts.operationType}`
    case 'audit':
      return `${head}_Log-Aud`
  }
}

export function logFileName(parts: LogNameParts, duplicate = 0): string {
  return `${logFileStem(parts)}${duplicate > 0 ? `_Fc-${duplicate}` : ''}.log`
}

/**
 * Gives repeated names the `_Fc-1`, `_Fc-2`, ... suffixes. Every name carries the signature counter and
 * messages arrive in counter order, so names can only repeat within one counter value: only the names of
 * the current counter are remembered, which keeps a million-message export at constant memory.
 */
export class UniqueLogNames {
  #counter: string | undefined
  #seen = new Map<string, number>()

  next(parts: LogNameParts): string {
    const counter = String(parts.signatureCounter)
    if (counter !== this.#counter) {
      this.#counter = counter
      this.#seen.clear()
    }
    const stem = logFileStem(parts)
    const count = this.#seen.get(stem) ?? 0
    this.#seen.set(stem, count + 1)
    return logFileName(parts, count)
  }
}

/** Reads the DER length at `offset`; returns the length and where the content starts. */
function derLength(der: Uint8Array, offset: number): { length: number; start: number } {
  const first = der[offset] as number
  if (first < 0x80) return { length: first, start: offset + 1 }
  const count = first & 0x7f
  let length = 0
  for (let i = 1; i <= count; i++) length = length * 256 + (der[offset + i] as number)
  return { length, start: offset + 1 + count }
}

/**
 * The uncompressed EC public point 04||X||Y of a certificate: the content of the subjectPublicKey BIT
 * STRING (after its unused-bits byte), the last element of the SubjectPublicKeyInfo SEQUENCE.
 */
export function publicPointOf(certificateDer: Uint8Array): Buffer {
  const spki = new X509Certificate(certificateDer).publicKey.export({ type: 'spki', format: 'der' })
  const outer = derLength(spki, 1)
  const algorithm = derLength(spki, outer.start + 1)
  const bitString = derLength(spki, algorithm.start + algorithm.length + 1)
  const point = spki.subarray(bitString.start + 1, bitString.start + bitString.length)
  if (point[0] !== 0x04) throw new Error('the certificate key is not an uncompressed EC point')
  return point
}

/** The TSS serial number / key hash: SHA-256 of the uncompressed public point, upper-case hex. */
export function keyHashHex(publicPoint: Uint8Array): string {
  return createHash('sha256').update(publicPoint).digest('hex').toUpperCase()
}

export type CertificateFormat = 'der' | 'cer' | 'crt' | 'pem'

/** `{hex SHA-256 of the public point}_X509.{der|cer|crt|pem}` */
export function certificateFileName(certificateDer: Uint8Array, format: CertificateFormat = 'der'): string {
  return `${keyHashHex(publicPointOf(certificateDer))}_X509.${format}`
}

export interface ExportInfo {
  description: string
  manufacturer: string
  version: string
}

function csvField(value: string): string {
  return `"${value.replaceAll('"', '""')}"`
}

/** info.csv: one line `"description:","...","manufacturer:","...","version:","..."` and a line feed. */
export function infoCsv(info: ExportInfo): string {
  return `${['description:', info.description, 'manufacturer:', info.manufacturer, 'version:', info.version]
    .map(csvField)
    .join(',')}\n`
}
