import { invalid } from '../../core/errors.ts'
import { formatDecimal, parseDecimal } from '../../core/money.ts'
import { IT_DEVICES, type ItCashboxConfig, type ItDevice } from './ports.ts'

/** What an operator sends to configure an IT cash box (PUT /it/v1/cashbox, `fiscalbox it configure`). */
export interface ItConfigRequest {
  device?: unknown
  url?: unknown
  timeoutMs?: unknown
  departments?: unknown
  failedMode?: unknown
}

/**
 * The departments of a factory-programmed Epson RT printer: 1 is 22 %, 2 is 10 %, 3 is 5 %, 4 is 4 % and
 * 5 is exempt (0 %). A device programmed otherwise needs its own map.
 */
export const DEFAULT_DEPARTMENTS = '22=1,10=2,5=3,4=4,0=5'
/** The Epson guide's default wait of the device's web service for its firmware. */
export const DEFAULT_TIMEOUT_MS = 10_000
export const MAX_TIMEOUT_MS = 60_000
const MIN_TIMEOUT_MS = 100
const MAX_DEPARTMENT = 99

/** The map key of a VAT rate: one text per rate however the POS writes it (22, 22.0, "22.00"). */
export const rateKey = (rate: bigint): string => formatDecimal(rate)

function deviceOf(value: unknown): ItDevice {
  if (!IT_DEVICES.includes(value as ItDevice))
    throw invalid(
      'device',
      `must be one of ${IT_DEVICES.join(', ')} (an Epson RT printer or server, fpmate protocol)`,
    )
  return value as ItDevice
}

function urlOf(value: unknown): string {
  const reason =
    'must be the http(s) base URL of the RT device, such as http://192.168.1.20 (no query or fragment)'
  if (typeof value !== 'string') throw invalid('url', reason)
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw invalid('url', reason)
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || url.username)
    throw invalid('url', reason)
  return url.href.replace(/\/+$/, '')
}

function timeoutOf(value: unknown): number {
  if (value === undefined) return DEFAULT_TIMEOUT_MS
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
  if (
    !Number.isSafeInteger(number) ||
    (number as number) < MIN_TIMEOUT_MS ||
    (number as number) > MAX_TIMEOUT_MS
  )
    throw invalid(
      'timeoutMs',
      `must be a whole number of milliseconds from ${MIN_TIMEOUT_MS} to ${MAX_TIMEOUT_MS}`,
    )
  return number as number
}

/** `{"22": 1, ...}` or the command line's `22=1,10=2`; every rate once, departments 1 to 99. */
function departmentsOf(value: unknown): Record<string, number> {
  const entries: [unknown, unknown][] =
    typeof value === 'string'
      ? value.split(',').map((pair) => {
          const [rate, department, ...rest] = pair.split('=')
          if (rest.length > 0 || department === undefined)
            throw invalid('departments', `"${pair}" is not RATE=DEPARTMENT (e.g. 22=1)`)
          return [rate, department]
        })
      : typeof value === 'object' && value !== null && !Array.isArray(value)
        ? Object.entries(value)
        : []
  if (entries.length === 0)
    throw invalid('departments', 'must map VAT rates to departments, such as {"22": 1, "10": 2} or 22=1,10=2')
  const departments: Record<string, number> = {}
  for (const [rateText, departmentValue] of entries) {
    const rate = parseDecimal(rateText, `departments.${String(rateText)}`)
    if (rate < 0n || rate > 100_000_000n)
      throw invalid(`departments.${String(rateText)}`, 'the VAT rate must be a percentage between 0 and 100')
    const key = rateKey(rate)
    if (key in departments) throw invalid(`departments.${String(rateText)}`, 'the VAT rate is mapped twice')
    const department =
      typeof departmentValue === 'string' && /^\d+$/.test(departmentValue)
        ? Number(departmentValue)
        : departmentValue
    if (
      !Number.isSafeInteger(department) ||
      (department as number) < 1 ||
      (department as number) > MAX_DEPARTMENT
    )
      throw invalid(
        `departments.${String(rateText)}`,
        `the department must be a whole number from 1 to ${MAX_DEPARTMENT}`,
      )
    departments[key] = department as number
  }
  return departments
}

function failedModeOf(value: unknown): boolean {
  if (value === undefined || value === false || value === 'false') return false
  if (value === true || value === 'true') return true
  throw invalid('failedMode', 'must be a boolean: true or false')
}

/** Checks a configuration request field by field (400 naming the first bad one) and fills in the defaults. */
export function parseItConfig(request: ItConfigRequest): ItCashboxConfig {
  return {
    device: deviceOf(request.device),
    url: urlOf(request.url),
    timeoutMs: timeoutOf(request.timeoutMs),
    departments: departmentsOf(request.departments ?? DEFAULT_DEPARTMENTS),
    failedMode: failedModeOf(request.failedMode),
  }
}
