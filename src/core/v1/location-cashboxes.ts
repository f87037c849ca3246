import { createHash } from 'node:crypto'
import { countryCode, ReceiptCase, v2Code } from '../case-codes.ts'
import type { Cashboxes } from '../cashboxes.ts'
import { FiscalError, invalid } from '../errors.ts'
import type { Market } from '../market.ts'
import type { CashboxRecord } from '../ports.ts'
import { parseReceipt, type ReceiptRequestBody } from '../receipt.ts'
import type { SignService } from '../sign-service.ts'
import type { LocationSigning } from './market-signed.ts'
import type { Environment, LocationRecord } from './model.ts'

const ENVIRONMENTS: readonly Environment[] = ['test', 'live']

/** How long a second attempt waits for a first one still signing the same transaction. */
const OPERATION_LIFETIME_MS = 30_000

/** The operation id of a location cash box's start receipt: one per cash box, whichever process sends it. */
const START_OPERATION = 'fiscalbox-location-start'

/** A UUID (version 8, RFC 9562) that follows from `name`: the same location always has the same cash boxes. */
function nameBasedId(name: string): string {
  const bytes = createHash('sha256').update(name).digest().subarray(0, 16)
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

export const locationCashboxId = (locationId: string, environment: Environment): string =>
  nameBasedId(`fiscalbox/location-cashbox/${locationId}/${environment}`)
export const locationQueueId = (locationId: string, environment: Environment): string =>
  nameBasedId(`fiscalbox/location-queue/${locationId}/${environment}`)

/**
 * The market settings of a location's cash box in one environment: country_config without its `test`
 * member for live, with that member's fields over the others for test (e.g. a test RT device, or test
 * series of their own, so that test transactions never print on, or number in, what live ones use).
 */
export function settingsOf(
  config: Record<string, unknown>,
  environment: Environment,
): Record<string, unknown> {
  const { test, ...live } = config
  if (environment === 'live' || typeof test !== 'object' || test === null || Array.isArray(test)) return live
  return { ...live, ...(test as Record<string, unknown>) }
}

/** A market's settings error, named as the location's field (`device` -> `country_config.device`). */
function asCountryConfigError(error: unknown, prefix = 'country_config.'): never {
  if (error instanceof FiscalError && error.details)
    throw invalid(`${prefix}${error.details.field}`, error.details.reason)
  throw error
}

/**
 * The cash boxes of the transactions API's locations whose market signs (market-signed.ts): one per
 * location and environment, in the location's account, with the location's country_config as the market's
 * cash box settings, started by a start receipt of its own before the first transaction is signed.
 */
export class LocationCashboxes implements LocationSigning {
  /** Per cash box: ready to sign (created, set up, started) in this process. */
  private readonly ready = new Map<string, Promise<CashboxRecord>>()

  constructor(
    private readonly cashboxes: Cashboxes,
    private readonly signService: SignService,
    private readonly marketFor: (countryCode: number) => Market,
  ) {}

  cashboxIds(location: LocationRecord): Record<Environment, string> {
    return { test: locationCashboxId(location.id, 'test'), live: locationCashboxId(location.id, 'live') }
  }

  checkSettings(country: string, settings: Record<string, unknown>): void {
    const market = this.marketFor(countryCode(country)).cashboxSettings
    const { test } = settings
    if (test !== undefined && (typeof test !== 'object' || test === null || Array.isArray(test)))
      throw invalid(
        'country_config.test',
        "must be an object: the test environment's settings over the others",
      )
    try {
      market?.check(settingsOf(settings, 'live'))
    } catch (error) {
      asCountryConfigError(error)
    }
    try {
      if (test !== undefined) market?.check(settingsOf(settings, 'test'))
    } catch (error) {
      asCountryConfigError(error, 'country_config.test.')
    }
  }

  sealerOf(country: string) {
    return this.marketFor(countryCode(country)).transactions
  }

  storedSettings(country: string, settings: Record<string, unknown>): Record<string, unknown> {
    const stored = this.marketFor(countryCode(country)).cashboxSettings?.stored
    if (!stored) return settings
    const { test, ...live } = settings
    const isObject = typeof test === 'object' && test !== null
    return { ...stored(live), ...(isObject ? { test: stored(test as Record<string, unknown>) } : {}) }
  }

  async prepare(location: LocationRecord): Promise<void> {
    for (const environment of ENVIRONMENTS) await this.setUp(location, environment)
  }

  check(location: LocationRecord, body: ReceiptRequestBody): void {
    this.signService.validate(location.country, parseReceipt(body))
  }

  async sign(
    location: LocationRecord,
    environment: Environment,
    operationId: string,
    body: ReceiptRequestBody,
  ): Promise<string> {
    const cashbox = await this.started(location, environment)
    return this.signService.sign({
      cashbox,
      operationId,
      lifetimeMs: OPERATION_LIFETIME_MS,
      body,
      receipt: parseReceipt(body),
    })
  }

  signed(location: LocationRecord, environment: Environment, operationId: string) {
    return this.signService.signed(locationCashboxId(location.id, environment), operationId)
  }

  private async setUp(location: LocationRecord, environment: Environment): Promise<CashboxRecord> {
    const cashbox = await this.cashboxes.ensure({
      id: locationCashboxId(location.id, environment),
      queueId: locationQueueId(location.id, environment),
      accountId: location.accountId,
      country: location.country,
      label: `${location.name} (${environment})`,
    })
    const settings = this.marketFor(countryCode(location.country)).cashboxSettings
    await settings
      ?.apply(cashbox, settingsOf(location.countryConfig, environment), {
        locationId: location.id,
        name: location.name,
        environment,
      })
      .catch((error: unknown) => asCountryConfigError(error))
    return cashbox
  }

  /** The cash box, set up and started; retried from the start by the next call when a step failed. */
  private started(location: LocationRecord, environment: Environment): Promise<CashboxRecord> {
    const key = locationCashboxId(location.id, environment)
    let ready = this.ready.get(key)
    if (!ready) {
      ready = this.setUp(location, environment).then(async (cashbox) => {
        const body = this.startReceipt(location)
        await this.signService.sign({
          cashbox,
          operationId: START_OPERATION,
          lifetimeMs: OPERATION_LIFETIME_MS,
          body,
          receipt: parseReceipt(body),
        })
        return cashbox
      })
      this.ready.set(key, ready)
      ready.catch(() => this.ready.delete(key))
    }
    return ready
  }

  /** The same body whichever process sends it, so that a second start replays the first. */
  private startReceipt(location: LocationRecord): ReceiptRequestBody {
    return {
      cbReceiptReference: `start-${location.id}`,
      cbReceiptMoment: location.createdAt,
      ftReceiptCase: `0x${v2Code(countryCode(location.country), BigInt(ReceiptCase.StartReceipt)).toString(16)}`,
      cbChargeItems: [],
      cbPayItems: [],
    }
  }
}
