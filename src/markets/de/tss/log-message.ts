import {
  boolean,
  contextPrimitive,
  integer,
  integerContent,
  objectIdentifier,
  octetString,
  sequence,
} from './der.ts'

/** certifiedDataType OIDs of BSI TR-03151: transaction, system and audit log messages. */
export const LOG_TYPE_OID = {
  transaction: '0.4.0.127.0.7.3.7.1.1',
  system: '0.4.0.127.0.7.3.7.1.2',
  audit: '0.4.0.127.0.7.3.7.1.3',
} as const

export type LogKind = keyof typeof LOG_TYPE_OID

export type TransactionOperation = 'StartTransaction' | 'UpdateTransaction' | 'FinishTransaction'

export interface TransactionData {
  operationType: TransactionOperation
  /** The client's serial number (TR-03151 clientId). */
  clientId: string
  processData: Buffer
  processType: string
  /** [4], optional; the BSI simulator writes it empty. */
  additionalExternalData?: Buffer
  transactionNumber: number
}

/** One field of a system log's systemOperationData, written as a context-tagged primitive. */
export type SystemField =
  | { tag: number; text: string }
  | { tag: number; bool: boolean }
  | { tag: number; int: number }

export interface SystemData {
  operationType: string
  fields: SystemField[]
}

export type LogBody =
  | { kind: 'transaction'; data: TransactionData }
  | { kind: 'system'; data: SystemData }
  | { kind: 'audit'; seAuditData: Buffer }

export interface LogHeader {
  serialNumber: Buffer
  algorithmOid: string
  signatureCounter: number
  /** unixTime, seconds. */
  logTime: number
}

const printable = (text: string) => Buffer.from(text, 'latin1')
const utf8 = (text: string) => Buffer.from(text, 'utf8')

function systemFieldContent(field: SystemField): Buffer {
  if ('text' in field) return contextPrimitive(field.tag, utf8(field.text))
  if ('bool' in field) return contextPrimitive(field.tag, boolean(field.bool).subarray(2))
  return contextPrimitive(field.tag, integerContent(field.int))
}

/** The context-tagged certifiedData TLVs; audit logs have none. */
function certifiedData(body: LogBody): Buffer[] {
  switch (body.kind) {
    case 'transaction': {
      const d = body.data
      return [
        contextPrimitive(0, printable(d.operationType)),
        contextPrimitive(1, utf8(d.clientId)),
        contextPrimitive(2, d.processData),
        contextPrimitive(3, utf8(d.processType)),
        ...(d.additionalExternalData ? [contextPrimitive(4, d.additionalExternalData)] : []),
        contextPrimitive(5, integerContent(d.transactionNumber)),
      ]
    }
    case 'system':
      return [
        contextPrimitive(0, printable(body.data.operationType)),
        contextPrimitive(1, Buffer.concat(body.data.fields.map(systemFieldContent))),
      ]
    case 'audit':
      return []
  }
}

/**
 * The signed part of a log message: the complete TLVs from version through logTime, in order. The final
 * message is these bytes plus the signatureValue, wrapped in the outer SEQUENCE.
 */
export function signedPart(body: LogBody, header: LogHeader): Buffer {
  return Buffer.concat([
    integer(2),
    objectIdentifier(LOG_TYPE_OID[body.kind]),
    ...certifiedData(body),
    octetString(header.serialNumber),
    sequence(objectIdentifier(header.algorithmOid)),
    ...(body.kind === 'audit' ? [octetString(body.seAuditData)] : []),
    integer(header.signatureCounter),
    integer(header.logTime),
  ])
}

export const logMessage = (signed: Buffer, signatureValue: Buffer): Buffer =>
  sequence(signed, octetString(signatureValue))
