/**
 * What the DE market keeps of each receipt for DSFinV-K (de_receipts.data, JSON). Amounts are cents as
 * decimal text, quantities millionths as decimal text: exact, and JSON cannot hold bigint.
 */

export interface VorgangLine {
  /** POS_ZEILE */
  position: number
  text: string
  businessCase: string
  vatKey: number
  grossCents: string
  quantityMicros: string
  storno: boolean
  productNumber: string | null
}

export interface VorgangPayment {
  kind: 'Bar' | 'Unbar'
  name: string
  currency: string
  /** In the payment's currency. */
  cents: string
  /** In EUR. */
  baseCents: string
}

export interface TseTransaction {
  tssId: string
  number: number
  /** ISO 8601 with milliseconds, as in the QR code. */
  start: string
  end: string
  processType: string
  processData: string
  signatureCounter: number
  signature: string
}

/** One Vorgang: a row of transactions.csv and its lines, VAT, payments and TSE transaction. */
export interface VorgangRecord {
  type: 'vorgang'
  bonId: string
  bonNr: number
  bonTyp: string
  reference: string
  terminalId: string | null
  storno: boolean
  start: string
  end: string
  lines: VorgangLine[]
  payments: VorgangPayment[]
  references: string[]
  tse: TseTransaction | null
  /** TSE_TA_FEHLER: why the TSS did not sign (null when it did). */
  tseError: string | null
}

/** A cash point closing (Kassenabschluss, Z report). */
export interface ClosingRecord {
  type: 'closing'
  zNr: number
  /** Z_ERSTELLUNG: when the closing was made (ISO). */
  createdAt: string
  /** Z_BUCHUNGSTAG (YYYY-MM-DD): the German calendar day of the closing's receipt moment. */
  businessDay: string
  /** Open TSS transactions the closing finished (AVBelegabbruch). */
  cancelledTransactions: number
  tseError: string | null
}
