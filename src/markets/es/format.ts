import { invalid } from '../../core/errors.ts'
import { timestampWithOffset, zonedWallClock } from '../../core/wall-clock.ts'

/**
 * Value formats shared by VeriFactu and TicketBAI. Amounts travel as integer cents inside fiscalbox and
 * are written as the decimal text the XML carries; the record hash covers that exact text.
 */

/** Integer cents to `123.45` / `-0.50` (always two decimals, no thousands separator). */
export function amountText(cents: number | bigint, field: string): string {
  if (typeof cents === 'number' && !Number.isSafeInteger(cents)) throw invalid(field, 'must be whole cents')
  const value = BigInt(cents)
  const negative = value < 0n
  const abs = negative ? -value : value
  const units = abs / 100n
  if (units >= 10n ** 12n) throw invalid(field, 'must be below 1,000,000,000,000.00')
  const text = `${units}.${String(abs % 100n).padStart(2, '0')}`
  return negative ? `-${text}` : text
}

/** Amount text back to cents; accepts what the AEAT pattern accepts ((+|-)?\d{1,12}(\.\d{0,2})?). */
export function amountCents(text: string, field: string): bigint {
  const match = /^([+-])?(\d{1,12})(?:\.(\d{0,2}))?$/.exec(text)
  if (!match) throw invalid(field, 'must be a decimal amount with at most 2 decimals')
  const cents = BigInt(match[2] as string) * 100n + BigInt((match[3] ?? '').padEnd(2, '0') || '0')
  return match[1] === '-' ? -cents : cents
}

/** A tax rate in percent with two decimals, e.g. 2100 basis points -> `21.00`. */
export function rateText(basisPoints: number, field: string): string {
  if (!Number.isSafeInteger(basisPoints) || basisPoints < 0 || basisPoints > 99_999)
    throw invalid(field, 'must be a rate in basis points between 0 and 99999 (21 % = 2100)')
  return `${Math.trunc(basisPoints / 100)}.${String(basisPoints % 100).padStart(2, '0')}`
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/** `YYYY-MM-DD` (calendar-checked) to the Spanish `DD-MM-YYYY`. */
export function spanishDate(isoDate: string, field: string): string {
  const match = ISO_DATE.exec(isoDate)
  if (!match) throw invalid(field, 'must be a date YYYY-MM-DD')
  const [, y, m, d] = match as unknown as [string, string, string, string]
  const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)))
  if (
    date.getUTCFullYear() !== Number(y) ||
    date.getUTCMonth() !== Number(m) - 1 ||
    date.getUTCDate() !== Number(d)
  )
    throw invalid(field, 'is not a calendar date')
  return `${d}-${m}-${y}`
}

/**
 * ISO 8601 with the offset of the issuer's time zone, e.g. `2024-01-01T19:20:30+01:00`: the format of
 * FechaHoraHusoGenRegistro. Peninsular Spain is Europe/Madrid, the Canary Islands Atlantic/Canary.
 */
export function localTimestamp(moment: Date, timeZone = 'Europe/Madrid'): string {
  return timestampWithOffset(moment, timeZone)
}

/** Local date `DD-MM-YYYY` and time `HH:MM:SS` of an instant (TicketBAI issue date and time). */
export function localDateAndTime(moment: Date, timeZone = 'Europe/Madrid'): { date: string; time: string } {
  const { parts } = zonedWallClock(moment, timeZone)
  return {
    date: `${parts.day}-${parts.month}-${parts.year}`,
    time: `${parts.hour}:${parts.minute}:${parts.second}`,
  }
}

/**
 * A Spanish tax id as the services expect it: 9 characters, upper case. Only the shape is checked here
 * (the check letter rules differ for NIF, NIE and CIF and the authorities check them anyway).
 */
export function nif(value: string, field: string): string {
  const upper = value.trim().toUpperCase()
  if (!/^[0-9A-Z]{9}$/.test(upper)) throw invalid(field, 'must be a Spanish tax id of 9 letters and digits')
  return upper
}

/** Free text the services accept: printable, at most `max` characters, never empty when required. */
export function text(value: string, max: number, field: string): string {
  const trimmed = value.trim()
  if (trimmed.length === 0) throw invalid(field, 'must not be empty')
  if (trimmed.length > max) throw invalid(field, `must be at most ${max} characters`)
  // biome-ignore lint: control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) throw invalid(field, 'must not contain control characters')
  return trimmed
}
