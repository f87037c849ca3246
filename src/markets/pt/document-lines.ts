import { isCp1252 } from '../../core/cp1252.ts'
import { invalid } from '../../core/errors.ts'
import { formatDecimal, type Micros } from '../../core/money.ts'
import type { ChargeItem, PayItem, Receipt } from '../../core/receipt.ts'
import type { PtLine, PtRegion } from './ports.ts'

type TaxCode = PtLine['taxCode']

/** The v2 VAT digit of a charge item case -> the SAF-T tax code; 0, 4 to 7 have no Portuguese rate. */
const TAX_CODES: Record<number, TaxCode> = { 1: 'RED', 2: 'INT', 3: 'NOR', 8: 'ISE' }

/** VAT rates in percent by region (CIVA art. 18; the Azores and Madeira set their own). */
const RATES: Record<PtRegion, Record<Exclude<TaxCode, 'ISE'>, number>> = {
  PT: { RED: 6, INT: 13, NOR: 23 },
  'PT-AC': { RED: 4, INT: 9, NOR: 16 },
  'PT-MA': { RED: 4, INT: 12, NOR: 22 },
}

/** The AT's exemption reasons (M codes) a line may name. */
const EXEMPTIONS = new Set([
  1, 2, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 19, 20, 21, 25, 26, 30, 31, 32, 33, 34, 40, 41, 42, 43, 99,
])

/** Characters XML 1.0 cannot carry: a SAF-T file must stay well-formed. */
export const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/

const CENT = 10_000n
const MICROS_PER_UNIT = 1_000_000n
/** CIVA art. 40: a simplified invoice to a final consumer covers at most EUR 1,000. */
const SIMPLIFIED_LIMIT = 1_000_000_000n
/** Law 92/2017: cash payments of at most EUR 3,000 per transaction. */
const CASH_LIMIT = 3_000_000_000n

const abs = (v: Micros): Micros => (v < 0n ? -v : v)
const roundToCent = (v: Micros): Micros => {
  const a = abs(v)
  const r = ((a + CENT / 2n) / CENT) * CENT
  return v < 0n ? -r : r
}
/** Two decimals, as SAF-T and the hash message write amounts. */
export const money = (v: Micros): string => formatDecimal(roundToCent(v))

/**
 * The line's SAF-T tax code: from the v2 VAT digit of its case, or, for a line without one (digit 0, e.g. a
 * transactions API sale, which sends a tax rate only), the category whose rate in the cash box's region is
 * the line's VATRate (not before the region is known: `undefined`).
 */
function taxCodeOf(item: ChargeItem, i: number, region?: PtRegion): TaxCode | undefined {
  const digit = Number(item.caseCode & 0xfn)
  if (digit === 0) {
    if (!region) return undefined
    const rates = Object.entries(RATES[region]) as [Exclude<TaxCode, 'ISE'>, number][]
    const byRate = rates.find(([, rate]) => item.vatRate === BigInt(rate) * MICROS_PER_UNIT)?.[0]
    if (byRate) return byRate
    throw invalid(
      `cbChargeItems[${i}].VATRate`,
      `is no VAT rate of ${region} (${rates.map(([, rate]) => `${rate} %`).join(', ')}); an exempt line names its category 8 and exemption reason in ftChargeItemCase`,
    )
  }
  const code = TAX_CODES[digit]
  if (!code)
    throw invalid(
      `cbChargeItems[${i}].ftChargeItemCase`,
      'Portugal has no such VAT rate: use 1 (reduced), 2 (intermediate), 3 (normal) or 8 (exempt, with the AT exemption code in bits 8-15)',
    )
  return code
}

function exemptionOf(item: ChargeItem, i: number): string {
  // The exemption's number is written in the NN byte as hex digits: 0x30 is M30.
  const digits = Number((item.caseCode >> 8n) & 0xffn)
    .toString(16)
    .padStart(2, '0')
  if (!/^\d\d$/.test(digits) || !EXEMPTIONS.has(Number(digits)))
    throw invalid(
      `cbChargeItems[${i}].ftChargeItemCase`,
      'an exempt line names the AT exemption reason in bits 8-15 as hex digits, e.g. 0x1000 for M10',
    )
  return `M${digits}`
}

/** Checks a document's lines without the cash box's configuration (validate is pure). */
export function checkLines(receipt: Receipt, simplified: boolean): void {
  if (receipt.chargeItems.length === 0)
    throw invalid('cbChargeItems', 'a Portuguese document has at least one line')
  const signs = new Set(receipt.chargeItems.map((item) => item.amount < 0n))
  if (signs.size > 1)
    throw invalid(
      'cbChargeItems',
      'all lines of a document have the same sign: discounts reduce a line’s Amount',
    )
  receipt.chargeItems.forEach((item, i) => {
    const description = item.description.trim()
    if (
      description.length < 3 ||
      description.length > 200 ||
      CONTROL.test(description) ||
      !isCp1252(description)
    )
      throw invalid(
        `cbChargeItems[${i}].Description`,
        'must be 3 to 200 characters of Windows-1252 (the SAF-T file’s encoding) without control characters (SAF-T ProductDescription)',
      )
    if (item.quantity === 0n) throw invalid(`cbChargeItems[${i}].Quantity`, 'must not be 0')
    if (taxCodeOf(item, i) === 'ISE') {
      exemptionOf(item, i)
      if (item.vatRate !== 0n) throw invalid(`cbChargeItems[${i}].VATRate`, 'must be 0 on an exempt line')
    }
  })
  if (simplified && abs(receipt.total) > SIMPLIFIED_LIMIT)
    throw invalid(
      'cbChargeItems',
      'a simplified invoice (FS) covers at most EUR 1,000: issue an invoice (FT)',
    )
  const cash = receipt.payItems
    .filter((item) => (item.caseCode & 0xffn) === 1n)
    .reduce((sum, item) => sum + abs(item.amount), 0n)
  if (cash > CASH_LIMIT) throw invalid('cbPayItems', 'cash payments are limited to EUR 3,000 per transaction')
}

export interface DocumentLines {
  lines: PtLine[]
  gross: Micros
  net: Micros
  tax: Micros
  /** QR fields I2 to I8: exempt base, then base and VAT per rate */
  byRate: { exempt: Micros; RED: [Micros, Micros]; INT: [Micros, Micros]; NOR: [Micros, Micros] }
}

/** The SAF-T lines and totals of a receipt in a region; amounts positive (a credit note's too). */
export function documentLines(receipt: Receipt, region: PtRegion): DocumentLines {
  const byRate: DocumentLines['byRate'] = { exempt: 0n, RED: [0n, 0n], INT: [0n, 0n], NOR: [0n, 0n] }
  let gross = 0n
  let tax = 0n
  const lines = receipt.chargeItems.map((item, i): PtLine => {
    const taxCode = taxCodeOf(item, i, region) as TaxCode
    const amount = roundToCent(abs(item.amount))
    let vat = 0n
    let exemptionCode: string | undefined
    if (taxCode === 'ISE') {
      exemptionCode = exemptionOf(item, i)
      byRate.exempt += amount
    } else {
      const rate = RATES[region][taxCode]
      if (item.vatRate !== BigInt(rate) * MICROS_PER_UNIT)
        throw invalid(
          `cbChargeItems[${i}].VATRate`,
          `must be ${rate} for ${taxCode} in ${region} (the rate of the ftChargeItemCase's VAT digit)`,
        )
      vat =
        item.vatAmount === undefined
          ? roundToCent((amount * BigInt(rate)) / BigInt(100 + rate))
          : roundToCent(abs(item.vatAmount))
      byRate[taxCode][0] += amount - vat
      byRate[taxCode][1] += vat
    }
    gross += amount
    tax += vat
    const net = amount - vat
    const quantity = abs(item.quantity)
    const description = item.description.trim()
    return {
      description,
      productCode: description.slice(0, 60),
      // The v2 charge item type nibble 2 is a service.
      productType: ((item.caseCode >> 4n) & 0xfn) === 2n ? 'S' : 'P',
      quantity: formatDecimal(quantity),
      unitPrice: formatDecimal((net * MICROS_PER_UNIT) / quantity),
      net: money(net),
      taxCode,
      taxPercentage: taxCode === 'ISE' ? '0' : String(RATES[region][taxCode]),
      ...(exemptionCode ? { exemptionCode } : {}),
    }
  })
  return { lines, gross, net: gross - tax, tax, byRate }
}

/** SAF-T PaymentMechanism of a v2 pay item case (its low byte). */
export function paymentMechanism(item: PayItem): string {
  const kind = Number(item.caseCode & 0xffn)
  const mechanisms: Record<number, string> = {
    1: 'NU',
    3: 'CH',
    4: 'CD',
    5: 'CC',
    6: 'CO',
    10: 'TB',
    11: 'TB',
  }
  return mechanisms[kind] ?? 'OU'
}
