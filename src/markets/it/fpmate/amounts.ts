/**
 * Numbers as the Epson fiscal firmware writes them: a decimal comma and no thousands separator
 * (`12,50`, quantities `1,000`). The codec holds amounts as integer cents and quantities as integer
 * thousandths so that no binary fraction ever touches a fiscal value. Input also accepts a dot, as
 * some clients send one.
 */

/** Thrown for a number the device format cannot hold; `rule` says what was expected. */
export class DeviceNumberError extends Error {
  constructor(
    readonly text: string,
    readonly rule: string,
  ) {
    super(`${JSON.stringify(text.slice(0, 40))} ${rule}`)
    this.name = 'DeviceNumberError'
  }
}

function formatScaled(value: number, decimals: number): string {
  if (!Number.isSafeInteger(value)) throw new DeviceNumberError(String(value), 'must be a safe integer')
  const scale = 10 ** decimals
  const magnitude = Math.abs(value)
  const whole = Math.floor(magnitude / scale)
  const fraction = String(magnitude % scale).padStart(decimals, '0')
  return `${value < 0 ? '-' : ''}${whole},${fraction}`
}

const DEVICE_NUMBER = /^(-)?(\d+)(?:[.,](\d*))?$/

function parseScaled(text: string, decimals: number, what: string): number {
  const match = DEVICE_NUMBER.exec(text.trim())
  if (!match) throw new DeviceNumberError(text, `is not ${what}: digits with a decimal comma, e.g. "12,50"`)
  const [, sign, whole = '', fraction = ''] = match
  if (fraction.length > decimals && /[1-9]/.test(fraction.slice(decimals)))
    throw new DeviceNumberError(text, `has more than ${decimals} decimal places`)
  const scaled = Number(whole + fraction.slice(0, decimals).padEnd(decimals, '0'))
  if (!Number.isSafeInteger(scaled)) throw new DeviceNumberError(text, 'is too large')
  return sign && scaled !== 0 ? -scaled : scaled
}

/** 1250 -> "12,50". */
export const formatAmount = (cents: number): string => formatScaled(cents, 2)

/** "12,50" or "12.5" -> 1250; more than two significant decimals is an error, never a rounding. */
export const parseAmount = (text: string): number => parseScaled(text, 2, 'an amount')

/** 1500 thousandths -> "1,500". */
export const formatQuantity = (thousandths: number): string => formatScaled(thousandths, 3)

/** "1,5" -> 1500 thousandths. */
export const parseQuantity = (text: string): number => parseScaled(text, 3, 'a quantity')
