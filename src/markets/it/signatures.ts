import { SignatureFormat, SignatureTypeCategory, v2Code } from '../../core/case-codes.ts'
import type { SignatureItem } from '../../core/market.ts'
import type { DeviceJob } from './device-job.ts'
import type { DocumentReference } from './fpmate/index.ts'
import { IT_COUNTRY } from './services.ts'

/** ftSignatureType low parts of the Italian signature items (docs/country-it.md). */
export const IT_SIGNATURE = {
  footer: 0x01n,
  header: 0x02n,
  serial: 0x10n,
  zNumber: 0x11n,
  docNumber: 0x12n,
  docMoment: 0x13n,
  documentType: 0x14n,
  lotteryId: 0x15n,
  customerId: 0x16n,
  referenceZ: 0x20n,
  referenceDoc: 0x21n,
  referenceMoment: 0x22n,
  failure: SignatureTypeCategory.Failure,
  /** failed mode: the receipt is held until a zero receipt reaches the device */
  held: SignatureTypeCategory.Alert | 0x10n,
  started: 0x0001_1001n,
  stopped: 0x0001_1002n,
} as const

export const itSignature = (type: bigint, caption: string, data: string): SignatureItem => ({
  ftSignatureFormat: SignatureFormat.Text,
  ftSignatureType: v2Code(IT_COUNTRY, type),
  Caption: caption,
  Data: data,
})

/** A document as the device numbered it (from its answer, or read back from its last-document record). */
export interface PrintedDocument {
  serialNumber: string
  zNumber: number
  documentNumber: number
  /** device clock, local time, `yyyy-MM-ddTHH:mm:ss` */
  moment: string
}

export const four = (n: number): string => String(n).padStart(4, '0')
/** `yyyy-MM-dd` -> `dd-MM-yyyy`, as the document prints dates. */
const printedDate = (isoDate: string): string => isoDate.split('-').reverse().join('-')

const DOCUMENT_TYPES = { sale: 'POSRECEIPT', refund: 'REFUND', void: 'VOID' } as const

function headerText(kind: keyof typeof DOCUMENT_TYPES, reference: DocumentReference | undefined): string {
  if (kind === 'sale') return 'di vendita o prestazione'
  const title = kind === 'refund' ? 'emesso per RESO MERCE' : 'emesso per ANNULLAMENTO'
  if (!reference) return `${title}\nND`
  return `${title}\nN. ${four(reference.zNumber)}-${four(reference.documentNumber)} del ${printedDate(reference.date)}`
}

/**
 * The signature items of a printed documento commerciale: the footer and header texts as the device
 * printed them, then each number on its own (serial, Z, document, moment, type, and what it referenced).
 */
export function documentSignatures(
  printed: PrintedDocument,
  document: NonNullable<DeviceJob['document']>,
  cashBoxIdentification: string,
): SignatureItem[] {
  const [date = '', time = ''] = printed.moment.split('T')
  const footer = [
    `${printedDate(date)} ${time.slice(0, 5)}`,
    `DOCUMENTO N. ${four(printed.zNumber)}-${four(printed.documentNumber)}`,
    ...(document.lotteryCode ? [`Codice Lotteria: ${document.lotteryCode}`, ''] : []),
    ...(document.customerId ? [`Cod. Fisc./P.IVA: ${document.customerId}`] : []),
    `Cassa ${cashBoxIdentification}`,
  ]
  const reference = document.reference
  return [
    itSignature(IT_SIGNATURE.footer, '[fiscalbox]', footer.join('\n')),
    itSignature(IT_SIGNATURE.header, 'DOCUMENTO COMMERCIALE', headerText(document.kind, reference)),
    itSignature(IT_SIGNATURE.serial, '<rt-serialnumber>', printed.serialNumber),
    itSignature(IT_SIGNATURE.zNumber, '<rt-z-number>', four(printed.zNumber)),
    itSignature(IT_SIGNATURE.docNumber, '<rt-doc-number>', four(printed.documentNumber)),
    itSignature(IT_SIGNATURE.docMoment, '<rt-doc-moment>', `${date} ${time}`),
    itSignature(IT_SIGNATURE.documentType, '<rt-document-type>', DOCUMENT_TYPES[document.kind]),
    ...(document.lotteryCode
      ? [itSignature(IT_SIGNATURE.lotteryId, '<rt-lottery-id>', document.lotteryCode)]
      : []),
    ...(document.customerId
      ? [itSignature(IT_SIGNATURE.customerId, '<rt-customer-id>', document.customerId)]
      : []),
    ...(reference && reference.zNumber > 0
      ? [itSignature(IT_SIGNATURE.referenceZ, '<rt-reference-z-number>', four(reference.zNumber))]
      : []),
    ...(reference && reference.documentNumber > 0
      ? [itSignature(IT_SIGNATURE.referenceDoc, '<rt-reference-doc-number>', four(reference.documentNumber))]
      : []),
    ...(reference
      ? [itSignature(IT_SIGNATURE.referenceMoment, '<rt-reference-doc-moment>', reference.date)]
      : []),
  ]
}

export const failureSignature = (message: string): SignatureItem =>
  itSignature(IT_SIGNATURE.failure, 'FAILURE', message)
