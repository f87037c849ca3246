import { contentOf, DerError, integerOf, oidOf, readChildren, readTlv, type Tlv } from './der.ts'

/**
 * Parses a BSI TR-03151 log message (version 2) as the verifier needs it, from the structure in the
 * specification: version, certifiedDataType, certifiedData (context tags), serialNumber,
 * signatureAlgorithm, seAuditData (audit logs), signatureCounter, logTime, signatureValue. The signed
 * bytes are the complete TLVs from version through logTime.
 */

export const LOG_TYPE_OIDS = {
  '0.4.0.127.0.7.3.7.1.1': 'transaction',
  '0.4.0.127.0.7.3.7.1.2': 'system',
  '0.4.0.127.0.7.3.7.1.3': 'audit',
} as const
export type LogKind = (typeof LOG_TYPE_OIDS)[keyof typeof LOG_TYPE_OIDS]

export type ParsedLogTime =
  | { format: 'unixTime'; seconds: number }
  | { format: 'utcTime' | 'generalizedTime'; value: string; seconds: number }

export interface ParsedLogMessage {
  kind: LogKind
  /** certifiedData [0]: StartTransaction/UpdateTransaction/FinishTransaction, or the system operation. */
  operationType?: string
  /** Transaction logs: [1] clientId, [2] processData, [3] processType, [5] transactionNumber. */
  clientId?: string
  processData?: Uint8Array
  processType?: string
  transactionNumber?: bigint
  /** System logs: the content of certifiedData [1], the context-tagged fields of the operation. */
  systemOperationData?: Uint8Array
  serialNumber: Uint8Array
  algorithmOid: string
  signatureCounter: bigint
  logTime: ParsedLogTime
  /** version .. logTime, exactly as in the file. */
  signedBytes: Uint8Array
  signature: Uint8Array
}

export class LogMessageError extends Error {}

const UNIVERSAL = { INTEGER: 0x02, OCTET_STRING: 0x04, OID: 0x06, SEQUENCE: 0x30, UTC: 0x17, GEN: 0x18 }
const TRANSACTION_OPERATIONS = new Set(['StartTransaction', 'UpdateTransaction', 'FinishTransaction'])

function isContextTag(tlv: Tlv): boolean {
  return tlv.tag >= 0x80 && tlv.tag <= 0xbe && (tlv.tag & 0xc0) === 0x80
}

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('utf8')
}

function timeOf(bytes: Uint8Array, tlv: Tlv): ParsedLogTime {
  const content = contentOf(bytes, tlv)
  if (tlv.tag === UNIVERSAL.INTEGER) {
    const seconds = integerOf(content)
    if (seconds < 0n || seconds > BigInt(Number.MAX_SAFE_INTEGER))
      throw new LogMessageError('logTime out of range')
    return { format: 'unixTime', seconds: Number(seconds) }
  }
  const value = Buffer.from(content).toString('latin1')
  const match =
    tlv.tag === UNIVERSAL.UTC
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(value)
      : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/.exec(value)
  if (!match) throw new LogMessageError(`logTime "${value}" is not a valid UTC/GeneralizedTime`)
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[]
  const year = tlv.tag === UNIVERSAL.UTC ? ((y as number) < 50 ? 2000 : 1900) + (y as number) : (y as number)
  const seconds = Date.UTC(year, (mo as number) - 1, d, h, mi, s) / 1000
  return { format: tlv.tag === UNIVERSAL.UTC ? 'utcTime' : 'generalizedTime', value, seconds }
}

export function parseLogMessage(bytes: Uint8Array): ParsedLogMessage {
  try {
    return parse(bytes)
  } catch (error) {
    if (error instanceof DerError) throw new LogMessageError(`not valid DER: ${error.message}`)
    throw error
  }
}

function parse(bytes: Uint8Array): ParsedLogMessage {
  const outer = readTlv(bytes, 0)
  if (outer.tag !== UNIVERSAL.SEQUENCE) throw new LogMessageError('does not start with a SEQUENCE')
  if (outer.end !== bytes.length) throw new LogMessageError('bytes after the log message')
  const items = readChildren(bytes, outer.contentStart, outer.end)
  let i = 0
  const next = (what: string, tag?: number): Tlv => {
    const item = items[i++]
    if (!item) throw new LogMessageError(`${what} is missing`)
    if (tag !== undefined && item.tag !== tag)
      throw new LogMessageError(`${what} has tag 0x${item.tag.toString(16)}`)
    return item
  }

  const version = integerOf(contentOf(bytes, next('version', UNIVERSAL.INTEGER)))
  if (version !== 2n) throw new LogMessageError(`version ${version}, expected 2`)
  const typeOid = oidOf(contentOf(bytes, next('certifiedDataType', UNIVERSAL.OID)))
  const kind = LOG_TYPE_OIDS[typeOid as keyof typeof LOG_TYPE_OIDS]
  if (!kind) throw new LogMessageError(`unknown certifiedDataType ${typeOid}`)

  const certified = new Map<number, Uint8Array>()
  let lastTag = -1
  while (items[i] && isContextTag(items[i] as Tlv)) {
    const item = items[i++] as Tlv
    const number = item.tag & 0x1f
    if (number <= lastTag) throw new LogMessageError(`certifiedData tag [${number}] out of order`)
    lastTag = number
    certified.set(number, contentOf(bytes, item))
  }

  const message: Partial<ParsedLogMessage> = { kind }
  if (kind === 'transaction') {
    for (const required of [0, 1, 2, 3, 5])
      if (!certified.has(required))
        throw new LogMessageError(`transaction certifiedData [${required}] is missing`)
    message.operationType = text(certified.get(0) as Uint8Array)
    if (!TRANSACTION_OPERATIONS.has(message.operationType))
      throw new LogMessageError(`unknown transaction operationType "${message.operationType}"`)
    message.clientId = text(certified.get(1) as Uint8Array)
    message.processData = certified.get(2) as Uint8Array
    message.processType = text(certified.get(3) as Uint8Array)
    message.transactionNumber = integerOf(certified.get(5) as Uint8Array)
    if (message.transactionNumber < 1n) throw new LogMessageError('transactionNumber below 1')
  } else if (kind === 'system') {
    if (!certified.has(0)) throw new LogMessageError('system certifiedData [0] operationType is missing')
    message.operationType = text(certified.get(0) as Uint8Array)
    message.systemOperationData = certified.get(1)
  } else if (certified.size > 0) {
    throw new LogMessageError('audit logs carry no certifiedData')
  }

  const serial = next('serialNumber', UNIVERSAL.OCTET_STRING)
  message.serialNumber = contentOf(bytes, serial)
  if (message.serialNumber.length !== 32) throw new LogMessageError('serialNumber is not 32 bytes')
  const algorithm = next('signatureAlgorithm', UNIVERSAL.SEQUENCE)
  const algorithmParts = readChildren(bytes, algorithm.contentStart, algorithm.end)
  if (algorithmParts[0]?.tag !== UNIVERSAL.OID) throw new LogMessageError('signatureAlgorithm has no OID')
  message.algorithmOid = oidOf(contentOf(bytes, algorithmParts[0]))
  if (kind === 'audit') next('seAuditData', UNIVERSAL.OCTET_STRING)
  message.signatureCounter = integerOf(contentOf(bytes, next('signatureCounter', UNIVERSAL.INTEGER)))
  if (message.signatureCounter < 1n) throw new LogMessageError('signatureCounter below 1')
  const time = next('logTime')
  if (![UNIVERSAL.INTEGER, UNIVERSAL.UTC, UNIVERSAL.GEN].includes(time.tag))
    throw new LogMessageError(`logTime has tag 0x${time.tag.toString(16)}`)
  message.logTime = timeOf(bytes, time)
  const signature = next('signatureValue', UNIVERSAL.OCTET_STRING)
  if (i !== items.length) throw new LogMessageError('elements after signatureValue')
  message.signature = contentOf(bytes, signature)
  message.signedBytes = bytes.subarray(items[0]?.start, signature.start)
  return message as ParsedLogMessage
}
