import { caseOf, formatCaseCode, SignatureFormat, v2Code } from '../../core/case-codes.ts'
import { invalid } from '../../core/errors.ts'
import { formatDecimal } from '../../core/money.ts'
import type { Market, MarketOutcome, SignatureItem, SigningContext } from '../../core/market.ts'
import type { Receipt } from '../../core/receipt.ts'
import { wallClockFormat } from '../../core/wall-clock.ts'
import { type Chain, chainOf, closingOf, eventOf, FrCase, raisesTotals } from './documents.ts'
import { archivedChains } from './archive.ts'
import { chainValue, signEntry } from './jws.ts'
import type { FrEntry, FrStore } from './ports.ts'
import { parseState, serializeState } from './state.ts'
import { close, documentTotals, raise, summary } from './totals.ts'

export const FR_COUNTRY = 0x4652

/** VAT rates of France: mainland (20, 10, 5.5, 2.1), Corsica (13, 0.9) and the overseas departments (8.5, 1.75, 1.05). */
const FRENCH_RATES = new Set([
  '20.00',
  '13.00',
  '10.00',
  '8.50',
  '5.50',
  '2.10',
  '1.75',
  '1.05',
  '0.90',
  '0.00',
])

const ARCHIVE_PERIOD = /^\d{4}(-(0[1-9]|1[0-2]))?$/

/** ftSignatureType low parts of the French signature items. */
const SIGNATURE = { jws: 0x1n, extract: 0x2n, family: 0x3n, duplicate: 0x4n, grandTotal: 0x5n } as const

/**
 * ftSignatureType flag 0x20_0000 of the POS System API v2: "do not print". Grand-total and archive entries
 * carry every running total or chain range, which can outgrow a QR code; they are reports, not tickets, so
 * their JWS is answered but not printed (the extract is).
 */
const DO_NOT_PRINT = 0x20_0000n
const REPORTS: ReadonlySet<Chain> = new Set(['G', 'A'])

/** What each family prints under its signature, so that nobody takes it for what it is not. */
const FAMILY_NOTES: Partial<Record<Chain, { caption: string; data: string }>> = {
  B: { caption: 'Document provisoire', data: 'Note : ne vaut pas ticket de caisse' },
  P: { caption: 'Justificatif de paiement', data: 'Justificatif non valable pour encaissement' },
  X: { caption: 'MODE ÉCOLE', data: 'Ticket de formation : sans valeur fiscale' },
}

/** Printed on a ticket: enough of the signature to match the paper with the journal at a glance. */
const EXTRACT_LENGTH = 8

const PARIS = wallClockFormat('Europe/Paris')

/** The day (yyyy-MM-dd) of a moment in Paris: archives cover French calendar periods. */
export function parisDay(moment: Date): string {
  const part: Record<string, string> = {}
  for (const p of PARIS.formatToParts(moment)) part[p.type] = p.value
  return `${part.year}-${part.month}-${part.day}`
}

/** The days an archive period (yyyy or yyyy-MM) covers, as yyyy-MM-dd bounds (inclusive). */
export const periodDays = (period: string): { from: string; to: string } =>
  period.length === 4
    ? { from: `${period}-01-01`, to: `${period}-12-31` }
    : { from: `${period}-01`, to: `${period}-31` }

/** ftReceiptCaseData.FR.ArchivePeriod of an archive receipt: at most one fiscal (calendar) year. */
export function archivePeriodOf(receipt: Receipt): string {
  const raw = receipt.caseData?.FR
  const period =
    typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>).ArchivePeriod : undefined
  if (typeof period !== 'string' || !ARCHIVE_PERIOD.test(period)) {
    throw invalid(
      'ftReceiptCaseData.FR.ArchivePeriod',
      'an archive receipt (0x3011) names the period it archives: a year (2026) or a month (2026-03), at most one fiscal year',
    )
  }
  return period
}

const copiedReferenceOf = (receipt: Receipt): string => {
  const previous = receipt.previousReference
  if (typeof previous !== 'string' || previous === '') {
    throw invalid(
      'cbPreviousReceiptReference',
      'a duplicate (0x3010) names the one receipt it reprints by its cbReceiptReference',
    )
  }
  return previous
}

/**
 * France (CGI art. 286 I 3° bis): every payment record and technical event is an entry of its family's
 * chain, a JWS (ES256) over a JSON payload that carries the previous entry's chain value; tickets and
 * invoices raise the period totals and the perpetual grand total per VAT rate, closings sign and reset
 * them. See docs/country-fr.md.
 */
export class FrenchMarket implements Market {
  readonly name = 'fr'

  constructor(private readonly store: FrStore) {}

  validate(receipt: Receipt): void {
    const chain = chainOf(receipt)
    receipt.chargeItems.forEach((item, i) => {
      if (!FRENCH_RATES.has(formatDecimal(item.vatRate))) {
        throw invalid(
          `cbChargeItems[${i}].VATRate`,
          'must be a French VAT rate: 20, 10, 5.5, 2.1 or 0 (Corsica 13 and 0.9, overseas 8.5, 1.75 and 1.05)',
        )
      }
    })
    const low = caseOf(receipt.caseCode)
    if (low === FrCase.Copy) copiedReferenceOf(receipt)
    if (low === FrCase.Archive) archivePeriodOf(receipt)
    const carriesNoAmounts = chain === 'G' || low === FrCase.Copy || low === FrCase.Archive
    if (carriesNoAmounts && (receipt.chargeItems.length > 0 || receipt.payItems.length > 0)) {
      throw invalid(
        receipt.chargeItems.length > 0 ? 'cbChargeItems' : 'cbPayItems',
        'zero, start, stop, closing, duplicate and archive receipts carry no items: send them empty',
      )
    }
  }

  async seal(context: SigningContext, receipt: Receipt): Promise<MarketOutcome> {
    const chain = chainOf(receipt)
    if (!chain) return { signatures: [] }
    const state = parseState(context.marketState)
    const config = await this.store.configIn(context.unit, context.cashboxId)
    const moment = context.moment.toISOString()
    const localDay = parisDay(context.moment)
    const identity = {
      ...(config ? { siret: config.siret } : {}),
      qid: context.queueId,
      cbid: context.cashboxId,
      row: context.queueRow,
      dt: moment,
      rc: formatCaseCode(receipt.caseCode),
      ref: receipt.reference,
    }
    const entries: FrEntry[] = []
    const append = (into: Chain, fields: object, copiedReference: string | null = null) => {
      const link = state.chains[into]
      const n = link.n + 1
      const rid = `ft${context.receiptNumber.toString(16).toUpperCase()}#${into}${n}`
      const jws = signEntry(context.signer, { chain: into, n, rid, ...identity, ...fields, hash: link.hash })
      state.chains[into] = { n, hash: chainValue(jws) }
      entries.push({
        queueId: context.queueId,
        chain: into,
        n,
        queueRow: context.queueRow,
        moment,
        localDay,
        reference: receipt.reference,
        copiedReference,
        jws,
      })
      return { rid, jws, n }
    }

    const signatures: SignatureItem[] = []
    const item = (format: bigint, type: bigint, caption: string, data: string) =>
      signatures.push({
        ftSignatureFormat: format,
        ftSignatureType: v2Code(context.countryCode, type),
        Caption: caption,
        Data: data,
      })
    let main: { rid: string; jws: string; n: number }
    if (chain === 'C') {
      const copied = copiedReferenceOf(receipt)
      const { originals, copies } = await this.store.copiesIn(context.unit, context.queueId, copied)
      if (originals === 0) {
        throw invalid('cbPreviousReceiptReference', `names no signed receipt of this cash box: ${copied}`)
      }
      state.duplicates += 1
      main = append('C', { crr: copied, copy: copies + 1, duplicates: state.duplicates }, copied)
      item(SignatureFormat.Text, SIGNATURE.duplicate, 'DUPLICATA', `Duplicata n° ${copies + 1} de ${copied}`)
    } else if (chain === 'G') {
      const closing = closingOf(receipt)
      main = append('G', { ...(closing ? { closing } : {}), totals: state.totals })
      if (closing) {
        item(
          SignatureFormat.Text,
          SIGNATURE.grandTotal,
          'Grand total perpétuel',
          summary(state.totals.perpetual),
        )
        close(state.totals, closing)
      }
    } else if (chain === 'A') {
      const period = archivePeriodOf(receipt)
      const days = periodDays(period)
      const spans = await this.store.spansIn(context.unit, context.queueId, days.from, days.to)
      main = append('A', { period, chains: archivedChains(spans) })
    } else if (chain === 'L') {
      main = append('L', { event: caseOf(receipt.caseCode) === FrCase.AuditEvent ? 'audit' : 'technical' })
    } else {
      const totals = documentTotals(receipt)
      if (raisesTotals(chain)) raise(state.totals, totals)
      main = append(chain, { total: totals.total, vat: totals.vat })
    }
    const event = chain === 'X' ? undefined : eventOf(receipt)
    if (event) append('L', { event, about: main.rid })
    // A configuration is changed outside any receipt; the JET records it with the next one, in chain order.
    if (config && config.version !== state.configVersion) {
      const { name, version, updatedAt: changed } = config
      append('L', { event: 'configuration', about: main.rid, name, version, changed })
      state.configVersion = version
    }
    await this.store.insertEntriesIn(context.unit, entries)

    signatures.unshift({
      ftSignatureFormat: SignatureFormat.QrCode,
      ftSignatureType: v2Code(context.countryCode, SIGNATURE.jws | (REPORTS.has(chain) ? DO_NOT_PRINT : 0n)),
      Caption: 'Signature (CGI art. 286 I 3° bis)',
      Data: main.jws,
    })
    item(SignatureFormat.Text, SIGNATURE.extract, 'Signature', signatureExtract(main.jws))
    const note = FAMILY_NOTES[chain]
    if (note) item(SignatureFormat.Text, SIGNATURE.family, note.caption, note.data)
    return {
      signatures,
      identificationSuffix: `${chain}${main.n}`,
      marketState: serializeState(state),
    }
  }
}

/** The first characters of the JWS signature, as printed on the ticket. */
export const signatureExtract = (jws: string): string =>
  jws.slice(jws.lastIndexOf('.') + 1, jws.lastIndexOf('.') + 1 + EXTRACT_LENGTH)
