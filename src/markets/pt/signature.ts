import { createPublicKey, type KeyObject, sign } from 'node:crypto'

/**
 * The Portuguese document signature (Portaria 363/2010, Despacho 8632/2014): RSA PKCS#1 v1.5 with SHA-1
 * over `InvoiceDate;SystemEntryDate;InvoiceNo;GrossTotal;PreviousHash`, base64 on one line. PKCS#1 v1.5 is
 * deterministic, so the same fields and key always give the same signature (the vectors rely on it).
 */
export interface HashFields {
  /** YYYY-MM-DD, local time */
  invoiceDate: string
  /** YYYY-MM-DDThh:mm:ss, local time, to the second */
  systemEntryDate: string
  /** `{type} {series}/{number}` exactly as in SAF-T */
  invoiceNo: string
  /** two decimals, dot, no thousands separator */
  grossTotal: string
  /** the signature of the previous document of the same type and series; empty for the first */
  previousHash: string
}

export const hashMessage = (f: HashFields): string =>
  `${f.invoiceDate};${f.systemEntryDate};${f.invoiceNo};${f.grossTotal};${f.previousHash}`

export const signDocument = (key: KeyObject, fields: HashFields): string =>
  sign('sha1', Buffer.from(hashMessage(fields), 'utf8'), key).toString('base64')

/** Characters 1, 11, 21 and 31 of the signature: what the document prints of it. */
export const printedHash = (hash: string): string => `${hash[0]}${hash[10]}${hash[20]}${hash[30]}`

/** The printed mention of the certified program, as the AT words it. */
export const certifiedMention = (hash: string, certificateNumber: string): string =>
  `${printedHash(hash)}-Processado por programa certificado n.º ${certificateNumber}/AT`

export const publicKeyPem = (key: KeyObject): string =>
  createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString()
