import { invalid } from '../../core/errors.ts'
import type { Receipt } from '../../core/receipt.ts'
import { isCodiceFiscale, isLotteryCode, isPartitaIva } from './tax-ids.ts'

/** The customer the documento commerciale names: lines printed on it and the tax id the device records. */
export interface ItCustomer {
  lines: string[]
  /** directIO 1061 takes a codice fiscale, 1060 a partita IVA. */
  taxId?: { command: '1060' | '1061'; value: string }
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined

/**
 * cbCustomer in the reference's names (CustomerName, CustomerId for the codice fiscale, CustomerVATId,
 * CustomerStreet, CustomerZip, CustomerCity) or the POS System API document's (Name, Address, VATId).
 * The codice fiscale wins over the partita IVA: the device records one. Both are checked here, so that
 * the POS learns which field is wrong instead of getting the device's checksum error.
 */
export function customerOf(receipt: Receipt): ItCustomer | undefined {
  const c = receipt.customer
  if (!c) return undefined
  const name = text(c.CustomerName) ?? text(c.Name)
  const place = [text(c.CustomerZip), text(c.CustomerCity)].filter(Boolean).join(' ')
  const address = text(c.Address) ?? [text(c.CustomerStreet), place].filter(Boolean).join(', ')
  const codiceFiscale = text(c.CustomerId)?.toUpperCase()
  const vatField = text(c.CustomerVATId) !== undefined ? 'CustomerVATId' : 'VATId'
  const vatId = text(c[vatField])?.toUpperCase().replace(/^IT/, '')
  let taxId: ItCustomer['taxId']
  if (codiceFiscale !== undefined) {
    // A company's codice fiscale is the 11 digits of its partita IVA.
    if (isPartitaIva(codiceFiscale)) taxId = { command: '1060', value: codiceFiscale }
    else if (isCodiceFiscale(codiceFiscale)) taxId = { command: '1061', value: codiceFiscale }
    else
      throw invalid(
        'cbCustomer.CustomerId',
        'must be a codice fiscale (16 characters whose last checks the others) or an 11-digit partita IVA',
      )
  } else if (vatId !== undefined) {
    if (!isPartitaIva(vatId))
      throw invalid(
        `cbCustomer.${vatField}`,
        'must be an Italian partita IVA: 11 digits (optionally after IT) whose last digit checks the others',
      )
    taxId = { command: '1060', value: vatId }
  }
  const taxLine = taxId ? `${taxId.command === '1060' ? 'P.IVA' : 'C.F.'} ${taxId.value}` : undefined
  const lines = [name, address, taxLine].filter((line): line is string => Boolean(line))
  return { lines, ...(taxId ? { taxId } : {}) }
}

/** The codice lotteria of ftReceiptCaseData.servizi_lotteriadegliscontrini_gov_it.codicelotteria. */
export function lotteryCodeOf(receipt: Receipt): string | undefined {
  const service = receipt.caseData?.servizi_lotteriadegliscontrini_gov_it
  if (service === undefined) return undefined
  const code = (service as Record<string, unknown> | null)?.codicelotteria
  if (typeof code !== 'string' || !isLotteryCode(code))
    throw invalid(
      'ftReceiptCaseData.servizi_lotteriadegliscontrini_gov_it.codicelotteria',
      "must be the 8 upper-case letters and digits of the customer's codice lotteria",
    )
  return code
}
