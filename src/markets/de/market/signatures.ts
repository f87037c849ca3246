import { SignatureFormat, SignatureTypeCategory, v2Code } from '../../../core/case-codes.ts'
import type { SignatureItem } from '../../../core/market.ts'
import type { TransactionView } from '../tss/model.ts'

/**
 * ftSignatureType low parts of the German items: what AEAO zu § 146a, 5.4 asks a receipt to print (TSS
 * serial, signature counter, signature, start and end time, transaction number) plus the QR code and the
 * algorithm, time format and public key a checker needs. See docs/country-de.md.
 */
export const DE_SIGNATURE = {
  qr: 0x001n,
  transactionNumber: 0x010n,
  signatureCounter: 0x011n,
  start: 0x012n,
  end: 0x013n,
  tssSerial: 0x014n,
  algorithm: 0x015n,
  timeFormat: 0x016n,
  publicKey: 0x017n,
  signature: 0x018n,
  processType: 0x019n,
  clientSerial: 0x01an,
  closing: 0x020n,
  failure: 0x001n,
  recovered: 0x002n,
} as const

const iso = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString()

const text = (country: number, type: bigint, caption: string, data: string): SignatureItem => ({
  ftSignatureFormat: SignatureFormat.Text,
  ftSignatureType: v2Code(country, type),
  Caption: caption,
  Data: data,
})

/** The items of a finished TSS transaction. */
export function finishedTransactionSignatures(country: number, view: TransactionView): SignatureItem[] {
  return [
    {
      ftSignatureFormat: SignatureFormat.QrCode,
      ftSignatureType: v2Code(country, DE_SIGNATURE.qr),
      Caption: 'TSE QR-Code (DSFinV-K)',
      Data: view.qrCodeData ?? '',
    },
    ...transactionSignatures(country, view),
  ]
}

/** The items of any TSS transaction step (start, update, finish). */
export function transactionSignatures(country: number, view: TransactionView): SignatureItem[] {
  const items = [
    text(country, DE_SIGNATURE.transactionNumber, 'TSE-Transaktion', String(view.number)),
    text(country, DE_SIGNATURE.signatureCounter, 'TSE-Signaturzähler', String(view.signature.counter)),
    text(country, DE_SIGNATURE.start, 'TSE-Start', iso(view.timeStart)),
  ]
  if (view.timeEnd !== null) items.push(text(country, DE_SIGNATURE.end, 'TSE-Stop', iso(view.timeEnd)))
  items.push(
    text(country, DE_SIGNATURE.tssSerial, 'TSE-Seriennummer', view.tssSerialNumber),
    text(country, DE_SIGNATURE.algorithm, 'TSE-Signaturalgorithmus', view.signature.algorithm),
    text(country, DE_SIGNATURE.timeFormat, 'TSE-Zeitformat', 'unixTime'),
    text(country, DE_SIGNATURE.publicKey, 'TSE-PublicKey', view.signature.publicKey),
    text(country, DE_SIGNATURE.signature, 'TSE-Signatur', view.signature.value),
    text(country, DE_SIGNATURE.processType, 'TSE-Prozesstyp', view.processType),
    text(country, DE_SIGNATURE.clientSerial, 'Kassen-Seriennummer', view.clientSerialNumber),
  )
  return items
}

export const failureSignature = (country: number, data: string): SignatureItem =>
  text(country, SignatureTypeCategory.Failure | DE_SIGNATURE.failure, 'TSE ausgefallen', data)

export const recoveredSignature = (country: number, data: string): SignatureItem =>
  text(country, SignatureTypeCategory.Info | DE_SIGNATURE.recovered, 'TSE wieder in Betrieb', data)

export const closingSignature = (country: number, caption: string, data: string): SignatureItem =>
  text(country, SignatureTypeCategory.Info | DE_SIGNATURE.closing, caption, data)
