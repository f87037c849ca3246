import type { UnitOfWork } from '../../core/ports.ts'

/** SAF-T (PT) document types fiscalbox issues: invoice, simplified invoice, credit note, payment receipt. */
export const PT_DOCUMENT_TYPES = ['FT', 'FS', 'NC', 'RG'] as const
export type PtDocumentType = (typeof PT_DOCUMENT_TYPES)[number]

/** The VAT regions of Portugal: the mainland, the Azores, Madeira (QR field I1, SAF-T TaxCountryRegion). */
export const PT_REGIONS = ['PT', 'PT-AC', 'PT-MA'] as const
export type PtRegion = (typeof PT_REGIONS)[number]

/**
 * A document series as the tax authority registered it: documents of `documentType` are numbered in it,
 * and the ATCUD is `{validationCode}-{number}`. A manual series takes the handwritten documents entered
 * later. `lastNumber`/`lastHash` continue a series whose first documents this cash box did not issue.
 */
export interface PtSeries {
  documentType: PtDocumentType
  series: string
  validationCode: string
  manual: boolean
  lastNumber: number
  lastHash: string
}

/** The Portuguese configuration of a cash box (PUT /pt/v1/cashbox, `fiscalbox pt configure`). */
export interface PtCashboxConfig {
  nif: string
  companyName: string
  address: { addressDetail: string; city: string; postalCode: string }
  /** the AT's certificate number of the program, printed as `n.º {n}/AT` */
  certificateNumber: string
  region: PtRegion
  /** the private key's version registered with the AT (SAF-T HashControl) */
  keyVersion: number
  /** the RSA private key, PKCS#8 DER sealed by the master key */
  privateKeySealed: string
  /** its public key (PEM), shown and handed to verifiers */
  publicKey: string
  series: PtSeries[]
}

/** One line of a document, as SAF-T lists it (amounts: decimal text, 2 decimals, positive). */
export interface PtLine {
  description: string
  productCode: string
  productType: 'P' | 'S'
  quantity: string
  unitPrice: string
  /** net amount of the line */
  net: string
  taxCode: 'RED' | 'INT' | 'NOR' | 'ISE'
  taxPercentage: string
  /** M01..M99 for exempt lines */
  exemptionCode?: string
}

/** A signed document of a cash box (a row of pt_documents), everything SAF-T and verify need. */
export interface PtDocument {
  queueId: string
  queueRow: number
  receiptReference: string
  documentType: PtDocumentType
  series: string
  number: number
  invoiceNo: string
  atcud: string
  invoiceDate: string
  systemEntryDate: string
  grossTotal: string
  netTotal: string
  taxPayable: string
  hash: string
  hashControl: string
  sourceBilling: 'P' | 'M'
  status: 'N' | 'A'
  statusDate: string
  customer: { taxId: string; name: string; country: string }
  lines: PtLine[]
  /** the documents a credit note corrects (InvoiceNo) */
  references: string[]
  payments: { mechanism: string; amount: string }[]
  /** a payment receipt (RG): the invoices it settles and the amount settled of each (SAF-T Payment Line) */
  settles?: { invoiceNo: string; invoiceDate: string; amount: string }[]
}

/** What the Portuguese market needs from storage; store.ts implements it with Kysely. */
export interface PtStore {
  config(cashboxId: string): Promise<PtCashboxConfig | undefined>
  /** Every configured cash box's signing key: its version and public key. */
  signingKeys(): Promise<{ cashboxId: string; keyVersion: number; publicKey: string }[]>
  saveConfig(cashboxId: string, config: PtCashboxConfig, at: string): Promise<void>
  configIn(unit: UnitOfWork, cashboxId: string): Promise<PtCashboxConfig | undefined>
  /** The newest document a receipt reference made in the queue (for credit notes and voids). */
  documentOfReferenceIn(
    unit: UnitOfWork,
    queueId: string,
    receiptReference: string,
  ): Promise<PtDocument | undefined>
  insertDocumentIn(unit: UnitOfWork, document: PtDocument): Promise<void>
  /** Marks a document cancelled (SAF-T status A). */
  cancelIn(unit: UnitOfWork, queueId: string, invoiceNo: string, at: string): Promise<void>
  /** The documents of a queue with a SystemEntryDate in [from, to], in chain order, page by page. */
  documents(queueId: string, range: { from?: string; to?: string }): AsyncIterable<PtDocument[]>
}
