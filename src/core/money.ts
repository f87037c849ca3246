import { invalid } from './errors.ts'

/**
 * Exact money: every amount is held as a bigint of micro-units (6 decimal places). JSON numbers are read
 * through their shortest round-trip decimal text, which is the text the POS sent for any amount with up to
 * 15 significant digits, so no binary floating point arithmetic ever touches an amount.
 */
export type Micros = bigint

export const MICROS_SCALE = 6
const SCALE = 10n ** BigInt(MICROS_SCALE)
/** 10^13 currency units: far above any receipt, far below the point where a double loses cents. */
const LIMIT = 10n ** 13n * SCALE
/** The text of a JSON number as JavaScript writes it: 1e+21 and 1e-7 carry an exponent. */
const NUMBER_TEXT = /^([+-])?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/
/**
 * A decimal string as the API documents it ("12.50", "-3"): no blanks, no plus sign, no exponent. What a
 * lenient reader would take ("1e2", " 1", "+1") another reader of the same request may not, so it is refused.
 */
const DECIMAL_STRING = /^-?\d+(?:\.\d+)?$/

export function parseDecimal(value: unknown, field: string): Micros {
  let text: string
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid(field, 'must be a finite number')
    text = String(value)
  } else if (typeof value === 'string') {
    if (!DECIMAL_STRING.test(value))
      throw invalid(
        field,
        `must be a JSON number or a decimal string such as "12.50" (digits, an optional leading minus and decimal point; no blanks, plus sign or exponent), got ${JSON.stringify(value.slice(0, 40))}`,
      )
    text = value
  } else {
    throw invalid(field, 'must be a number or a decimal string')
  }
  const match = NUMBER_TEXT.exec(text)
  if (!match)
    throw invalid(field, `must be a decimal number, got ${JSON.stringify(String(value).slice(0, 40))}`)
  const [, sign, whole = '', fraction = '', exponentText] = match
  const exponent = exponentText === undefined ? 0 : Number(exponentText)
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 40) throw invalid(field, 'is out of range')
  const digits = whole + fraction
  const shift = MICROS_SCALE + exponent - fraction.length
  if (shift < 0) {
    const dropped = digits.slice(digits.length + shift)
    if (/[1-9]/.test(dropped)) throw invalid(field, `must have at most ${MICROS_SCALE} decimal places`)
  }
  const scaled =
    shift >= 0 ? BigInt(digits + '0'.repeat(shift)) : BigInt(digits.slice(0, digits.length + shift) || '0')
  if (scaled > LIMIT) throw invalid(field, 'is out of range (absolute value at most 10000000000000)')
  return sign === '-' ? -scaled : scaled
}

/** Decimal text with at least two and at most six decimals, e.g. 172000000n -> "172.00". */
export function formatDecimal(micros: Micros): string {
  const negative = micros < 0n
  const abs = negative ? -micros : micros
  const whole = abs / SCALE
  let fraction = (abs % SCALE).toString().padStart(MICROS_SCALE, '0').replace(/0+$/, '')
  if (fraction.length < 2) fraction = fraction.padEnd(2, '0')
  return `${negative ? '-' : ''}${whole}.${fraction}`
}

const CENT = 10_000n
const HUNDRED_PERCENT = 100_000_000n

/** Divides and rounds half away from zero: the commercial rounding of VAT amounts. */
function divideRounded(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n !== denominator < 0n
  const n = numerator < 0n ? -numerator : numerator
  const d = denominator < 0n ? -denominator : denominator
  const q = (2n * n + d) / (2n * d)
  return negative ? -q : q
}

/** VAT included in a gross amount at a rate (in percent), to the cent: receipts print it, markets total it. */
export const includedVat = (gross: Micros, rate: Micros): Micros =>
  divideRounded(gross * rate, (HUNDRED_PERCENT + rate) * CENT) * CENT
