import { invalid } from '../../../core/errors.ts'
import { amountText, localTimestamp, nif, rateText, spanishDate, text } from '../format.ts'
import { altaHashInput, anulacionHashInput, huella } from './huella.ts'

/**
 * VeriFactu invoice records (RegistroAlta) and cancellation records (RegistroAnulacion) as plain,
 * JSON-storable data: every value is already the text the XML will carry, so the hash, the XML and the
 * QR code are all computed from the same strings, and an outbox job can store a record and send it later.
 */

export type InvoiceType = 'F1' | 'F2' | 'F3' | 'R1' | 'R2' | 'R3' | 'R4' | 'R5'
export const INVOICE_TYPES: readonly InvoiceType[] = ['F1', 'F2', 'F3', 'R1', 'R2', 'R3', 'R4', 'R5']

/** The information system that produced the records (SistemaInformatico). */
export interface SoftwareSystem {
  producerName: string
  producerNif: string
  /** NombreSistemaInformatico, at most 30 characters */
  name: string
  /** IdSistemaInformatico, at most 2 characters */
  id: string
  version: string
  /** NumeroInstalacion, at most 100 characters: one per installation (fiscalbox: per location or cash box) */
  installationNumber: string
  onlyVerifactu: boolean
  multipleTaxpayers: boolean
  hasMultipleTaxpayers: boolean
}

export interface Party {
  name: string
  nif: string
}

/** Identifies an invoice: issuer, series+number, issue date (DD-MM-YYYY). */
export interface InvoiceKey {
  issuerNif: string
  seriesNumber: string
  issueDate: string
}

/** The previous record of the chain as the next record cites it. */
export interface ChainLink extends InvoiceKey {
  huella: string
}

export interface BreakdownLine {
  /** Impuesto: 01 IVA, 02 IPSI, 03 IGIC, 05 other */
  tax: '01' | '02' | '03' | '05'
  /** ClaveRegimen, 01 = general regime */
  regime: string
  /** CalificacionOperacion S1/S2/N1/N2, or OperacionExenta E1..E8 */
  qualification: string
  rate?: string
  base: string
  taxAmount?: string
}

export interface AltaRecord extends InvoiceKey {
  kind: 'alta'
  issuerName: string
  invoiceType: InvoiceType
  rectificationType?: 'S' | 'I'
  rectified?: InvoiceKey[]
  rectificationAmounts?: { base: string; tax: string }
  description: string
  recipients?: Party[]
  breakdown: BreakdownLine[]
  taxTotal: string
  total: string
  previous: ChainLink | null
  system: SoftwareSystem
  generatedAt: string
  externalRef?: string
  huella: string
}

export interface AnulacionRecord extends InvoiceKey {
  kind: 'anulacion'
  previous: ChainLink | null
  system: SoftwareSystem
  generatedAt: string
  externalRef?: string
  huella: string
}

export type VerifactuRecord = AltaRecord | AnulacionRecord

/** The chain state of one issuer's information system: what the next record links to. */
export interface VerifactuChainState {
  previous: ChainLink | null
}

export const emptyChain = (): VerifactuChainState => ({ previous: null })

export interface LineInput {
  /** basis points: 21 % = 2100; omit for exempt / not subject lines */
  rateBasisPoints?: number
  baseCents: number | bigint
  taxCents?: number | bigint
  tax?: BreakdownLine['tax']
  regime?: string
  /** S1 (default when a rate is given), S2, N1, N2 or E1..E8 */
  qualification?: string
}

export interface AltaInput {
  issuer: Party
  seriesNumber: string
  /** YYYY-MM-DD */
  issueDate: string
  invoiceType: InvoiceType
  description: string
  lines: LineInput[]
  recipients?: Party[]
  /** For R1..R5: the invoices corrected, and whether by substitution (S) or by differences (I) */
  rectifies?: {
    type: 'S' | 'I'
    invoices: Array<{ issuerNif: string; seriesNumber: string; issueDate: string }>
    /** By substitution (S): the base and tax of the invoices replaced (ImporteRectificacion) */
    replacedBaseCents?: number | bigint
    replacedTaxCents?: number | bigint
  }
  generatedAt: Date
  timeZone?: string
  externalRef?: string
}

export interface AnulacionInput {
  issuerNif: string
  seriesNumber: string
  issueDate: string
  generatedAt: Date
  timeZone?: string
  externalRef?: string
}

const QUALIFICATIONS = new Set(['S1', 'S2', 'N1', 'N2', 'E1', 'E2', 'E3', 'E4', 'E5', 'E6', 'E7', 'E8'])

/** NumSerieFactura: 1..60 printable ASCII characters (the AEAT refuses others). */
export function seriesNumber(value: string, field = 'seriesNumber'): string {
  const trimmed = value.trim()
  if (!/^[\x20-\x7e]{1,60}$/.test(trimmed))
    throw invalid(field, 'must be 1 to 60 printable ASCII characters (series and number)')
  return trimmed
}

/** Series and sequential number as one NumSerieFactura, e.g. `T2025-000042`. */
export function formatInvoiceNumber(series: string, number: number, digits = 6): string {
  if (!Number.isSafeInteger(number) || number < 1) throw invalid('number', 'must be a positive integer')
  return seriesNumber(`${series}${String(number).padStart(digits, '0')}`)
}

function breakdownLine(line: LineInput, index: number): BreakdownLine {
  const field = `lines[${index}]`
  const qualification = line.qualification ?? (line.rateBasisPoints === undefined ? 'E1' : 'S1')
  if (!QUALIFICATIONS.has(qualification))
    throw invalid(`${field}.qualification`, 'must be S1, S2, N1, N2 or E1..E8')
  const subject = qualification === 'S1' || qualification === 'S2'
  if (subject && (line.rateBasisPoints === undefined || line.taxCents === undefined))
    throw invalid(field, 'a taxed line (S1/S2) needs rateBasisPoints and taxCents')
  if (!subject && line.taxCents !== undefined && BigInt(line.taxCents) !== 0n)
    throw invalid(`${field}.taxCents`, 'must be absent for exempt or not-subject lines')
  return {
    tax: line.tax ?? '01',
    regime: line.regime ?? '01',
    qualification,
    ...(subject ? { rate: rateText(line.rateBasisPoints as number, `${field}.rateBasisPoints`) } : {}),
    base: amountText(line.baseCents, `${field}.baseCents`),
    ...(subject ? { taxAmount: amountText(line.taxCents as number | bigint, `${field}.taxCents`) } : {}),
  }
}

/** Builds the next invoice record of the chain; returns it with the chain's new state. */
export function chainAlta(
  state: VerifactuChainState,
  input: AltaInput,
  system: SoftwareSystem,
): { record: AltaRecord; state: VerifactuChainState } {
  if (!INVOICE_TYPES.includes(input.invoiceType))
    throw invalid('invoiceType', `must be one of ${INVOICE_TYPES.join(', ')}`)
  if (input.lines.length < 1 || input.lines.length > 12) throw invalid('lines', 'must have 1 to 12 tax lines')
  const rectifying = input.invoiceType.startsWith('R')
  if (rectifying !== (input.rectifies !== undefined))
    throw invalid('rectifies', rectifying ? 'is required for R1..R5' : 'is only allowed for R1..R5')
  const needsRecipient =
    input.invoiceType === 'F1' || input.invoiceType === 'F3' || (rectifying && input.invoiceType !== 'R5')
  const recipients = (input.recipients ?? []).map((r, i) => ({
    name: text(r.name, 120, `recipients[${i}].name`),
    nif: nif(r.nif, `recipients[${i}].nif`),
  }))
  if (needsRecipient && recipients.length === 0)
    throw invalid('recipients', `${input.invoiceType} needs a recipient`)
  if (!needsRecipient && recipients.length > 0)
    throw invalid('recipients', `${input.invoiceType} (simplified invoice) has no recipient`)
  const breakdown = input.lines.map(breakdownLine)
  let taxCents = 0n
  let totalCents = 0n
  for (const line of input.lines) {
    taxCents += BigInt(line.taxCents ?? 0)
    totalCents += BigInt(line.baseCents) + BigInt(line.taxCents ?? 0)
  }
  const issuerNif = nif(input.issuer.nif, 'issuer.nif')
  const fields = {
    issuerNif,
    seriesNumber: seriesNumber(input.seriesNumber),
    issueDate: spanishDate(input.issueDate, 'issueDate'),
    invoiceType: input.invoiceType,
    taxTotal: amountText(taxCents, 'taxTotal'),
    total: amountText(totalCents, 'total'),
    previousHuella: state.previous?.huella ?? '',
    generatedAt: localTimestamp(input.generatedAt, input.timeZone),
  }
  const record: AltaRecord = {
    kind: 'alta',
    issuerNif,
    seriesNumber: fields.seriesNumber,
    issueDate: fields.issueDate,
    issuerName: text(input.issuer.name, 120, 'issuer.name'),
    invoiceType: input.invoiceType,
    ...(input.rectifies
      ? {
          rectificationType: input.rectifies.type,
          rectified: input.rectifies.invoices.map((r, i) => ({
            issuerNif: nif(r.issuerNif, `rectifies.invoices[${i}].issuerNif`),
            seriesNumber: seriesNumber(r.seriesNumber, `rectifies.invoices[${i}].seriesNumber`),
            issueDate: spanishDate(r.issueDate, `rectifies.invoices[${i}].issueDate`),
          })),
        }
      : {}),
    description: text(input.description, 500, 'description'),
    ...(recipients.length ? { recipients } : {}),
    breakdown,
    taxTotal: fields.taxTotal,
    total: fields.total,
    previous: state.previous,
    system,
    generatedAt: fields.generatedAt,
    ...(input.externalRef ? { externalRef: text(input.externalRef, 60, 'externalRef') } : {}),
    huella: huella(altaHashInput(fields)),
  }
  if (input.rectifies?.type === 'S') {
    const { replacedBaseCents, replacedTaxCents } = input.rectifies
    if (replacedBaseCents === undefined || replacedTaxCents === undefined)
      throw invalid(
        'rectifies',
        'a rectification by substitution (S) needs replacedBaseCents and replacedTaxCents',
      )
    record.rectificationAmounts = {
      base: amountText(replacedBaseCents, 'rectifies.replacedBaseCents'),
      tax: amountText(replacedTaxCents, 'rectifies.replacedTaxCents'),
    }
  }
  return { record, state: { previous: linkOf(record) } }
}

/** Builds a cancellation record for an invoice already registered; it is chained like any record. */
export function chainAnulacion(
  state: VerifactuChainState,
  input: AnulacionInput,
  system: SoftwareSystem,
): { record: AnulacionRecord; state: VerifactuChainState } {
  const fields = {
    issuerNif: nif(input.issuerNif, 'issuerNif'),
    seriesNumber: seriesNumber(input.seriesNumber),
    issueDate: spanishDate(input.issueDate, 'issueDate'),
    previousHuella: state.previous?.huella ?? '',
    generatedAt: localTimestamp(input.generatedAt, input.timeZone),
  }
  const record: AnulacionRecord = {
    kind: 'anulacion',
    issuerNif: fields.issuerNif,
    seriesNumber: fields.seriesNumber,
    issueDate: fields.issueDate,
    previous: state.previous,
    system,
    generatedAt: fields.generatedAt,
    ...(input.externalRef ? { externalRef: text(input.externalRef, 60, 'externalRef') } : {}),
    huella: huella(anulacionHashInput(fields)),
  }
  return { record, state: { previous: linkOf(record) } }
}

export function linkOf(record: VerifactuRecord): ChainLink {
  return {
    issuerNif: record.issuerNif,
    seriesNumber: record.seriesNumber,
    issueDate: record.issueDate,
    huella: record.huella,
  }
}

/** The hash input a record's Huella must be the SHA-256 of (used by verifiers and the simulator). */
export function hashInputOf(record: VerifactuRecord): string {
  const previousHuella = record.previous?.huella ?? ''
  return record.kind === 'alta'
    ? altaHashInput({ ...record, previousHuella })
    : anulacionHashInput({ ...record, previousHuella })
}

/** A stable key per record: the same invoice can have one alta and later one anulacion. */
export function recordKey(record: InvoiceKey & { kind: 'alta' | 'anulacion' }): string {
  return `${record.kind}:${record.issuerNif}:${record.seriesNumber}:${record.issueDate}`
}
