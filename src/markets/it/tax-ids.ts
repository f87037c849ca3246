/**
 * Checks of the Italian identifiers a documento commerciale may carry. The device refuses a bad one
 * with error 30 ("checksum error"); the market checks before sending so that the POS is told which
 * field is wrong instead of getting a device error.
 */

/** Partita IVA: 11 digits; the last is a Luhn-style check digit over the first ten. */
export function isPartitaIva(value: string): boolean {
  if (!/^\d{11}$/.test(value)) return false
  let sum = 0
  for (let i = 0; i < 10; i++) {
    const digit = Number(value[i])
    if (i % 2 === 0) sum += digit
    else sum += digit * 2 > 9 ? digit * 2 - 9 : digit * 2
  }
  return (10 - (sum % 10)) % 10 === Number(value[10])
}

// Values of the characters in odd positions (1st, 3rd, ...): digits share the value of the letter at
// the same alphabet index (0 = A, 1 = B, ...).
const ODD_VALUES = [
  1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
]

// Positions that hold digits in a codice fiscale; homonyms get letters L-V in their place ("omocodia").
const DIGIT = '[0-9LMNPQRSTUV]'
const CODICE_FISCALE = new RegExp(`^[A-Z]{6}${DIGIT}{2}[ABCDEHLMPRST]${DIGIT}{2}[A-Z]${DIGIT}{3}[A-Z]$`)

/** Codice fiscale of a person: 16 characters in the official layout; the last is a check letter. */
export function isCodiceFiscale(value: string): boolean {
  if (!CODICE_FISCALE.test(value)) return false
  let sum = 0
  for (let i = 0; i < 15; i++) {
    const char = value.charCodeAt(i)
    const index = char <= 57 ? char - 48 : char - 65
    sum += i % 2 === 0 ? (ODD_VALUES[index] as number) : index
  }
  return String.fromCharCode(65 + (sum % 26)) === value[15]
}

/**
 * Codice lotteria: 8 upper-case letters or digits. The algorithm of its check character is not public,
 * so this checks the form only.
 */
export const isLotteryCode = (value: string): boolean => /^[A-Z0-9]{8}$/.test(value)
