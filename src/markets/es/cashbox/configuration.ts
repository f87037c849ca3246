import { FiscalError, invalid } from '../../../core/errors.ts'
import type { CashboxOwner } from '../../../core/market.ts'
import type { SpainIssuerConfig } from '../documents.ts'
import type { Territory } from '../ticketbai/territories.ts'
import type { SigningCredentials } from '../ticketbai/xades.ts'
import { validateConfig } from '../location-config.ts'
import {
  FISCALBOX_SOFTWARE,
  type SpanishSoftware,
  ticketBaiSoftwareOf,
  verifactuSystemOf,
} from '../software.ts'
import type { EsCashboxConfig } from './ports.ts'

/** What an operator sends to configure an ES cash box (PUT /es/v1/cashbox, `fiscalbox es configure`). */
export interface EsConfigRequest {
  system?: unknown
  territory?: unknown
  nif?: unknown
  name?: unknown
  series?: unknown
  rectifyingSeries?: unknown
  environment?: unknown
  /** a stored certificate of the cash box's account (as a location's country_config.certificate_id) */
  certificate_id?: unknown
}

/**
 * The location validator of the transactions API names fields `country_config.x`; here they are fields of
 * the request body itself.
 */
function asBodyField(error: unknown): unknown {
  if (!(error instanceof FiscalError) || !error.details) return error
  return invalid(error.details.field.replace(/^country_config\./, ''), error.details.reason)
}

/**
 * Checks a configuration request (PUT /es/v1/cashbox) with the Spanish validators and fills in the
 * defaults; the certificate it names is checked against the account's store by index.ts.
 */
export function parseCashboxConfig(cashboxId: string, request: EsConfigRequest): EsCashboxConfig {
  const series = request.series ?? `FB${cashboxId.replace(/-/g, '').slice(0, 8).toUpperCase()}-`
  const fields: Record<string, unknown> = {
    system: request.system,
    ...(request.territory !== undefined ? { territory: request.territory } : {}),
    nif: request.nif,
    name: request.name,
    series,
    ...(request.certificate_id !== undefined ? { certificate_id: request.certificate_id } : {}),
  }
  try {
    validateConfig(fields)
  } catch (error) {
    throw asBodyField(error)
  }
  if (request.system === 'sii')
    throw invalid('system', 'must be verifactu or ticketbai on /v2/sign (SII is not a receipt system)')
  if (typeof request.name !== 'string')
    throw invalid('name', "is required: the issuer's legal name, 1 to 120 characters")
  const system = request.system as EsCashboxConfig['system']
  const environment = request.environment ?? 'test'
  if (environment !== 'test' && environment !== 'production')
    throw invalid('environment', 'must be test (records go to the simulator) or production')
  const textSeries = series as string
  if (system === 'ticketbai' && textSeries.length > 20)
    throw invalid('series', 'must be at most 20 characters for TicketBAI (SerieFactura)')
  const rectifyingSeries = request.rectifyingSeries ?? `${textSeries}R`
  try {
    validateConfig({ ...fields, series: rectifyingSeries })
  } catch (error) {
    throw invalid('rectifyingSeries', (asBodyField(error) as FiscalError).details?.reason ?? 'is invalid')
  }
  if (rectifyingSeries === textSeries)
    throw invalid(
      'rectifyingSeries',
      'must differ from series: rectifying invoices have a series of their own',
    )
  if (system === 'ticketbai' && (rectifyingSeries as string).length > 20)
    throw invalid('rectifyingSeries', 'must be at most 20 characters for TicketBAI (SerieFactura)')
  return {
    system,
    ...(system === 'ticketbai' ? { territory: request.territory as Territory } : {}),
    nif: request.nif as string,
    name: request.name,
    series: textSeries,
    rectifyingSeries: rectifyingSeries as string,
    environment,
    ...(typeof request.certificate_id === 'string' ? { certificateId: request.certificate_id } : {}),
  }
}

/**
 * A location's country_config (docs/transactions-api-v1.md) as the configuration of its cash box in one
 * environment: the issuer's name defaults to the location's, the series to `FB{8 characters of the location
 * id}{T or L}-` (two locations of one NIF never share a number, test and live numbers never collide), and
 * test records go to the simulator, live ones to the authority, with the stored certificate the location
 * names (its transactions are refused at the seal when a live record has none it can use).
 */
export function locationEsConfig(
  cashboxId: string,
  settings: Record<string, unknown>,
  owner: CashboxOwner,
): EsCashboxConfig {
  const series = `FB${owner.locationId.slice(0, 8).toUpperCase()}${owner.environment === 'live' ? 'L' : 'T'}-`
  const { certificateId, ...config } = parseCashboxConfig(cashboxId, {
    system: settings.system,
    territory: settings.territory,
    nif: settings.nif,
    name: settings.name ?? owner.name,
    series: settings.series ?? series,
    environment: owner.environment === 'live' ? 'production' : 'test',
    certificate_id: settings.certificate_id,
  })
  return {
    ...config,
    location: { id: owner.locationId, environment: owner.environment },
    // After the location: the stored configurations of existing cash boxes have this order, and one with
    // records accepts only the same configuration again.
    ...(certificateId ? { certificateId } : {}),
  }
}

/** Checks a location's country_config as the settings of its cash boxes (fields named without `country_config.`). */
export function checkLocationSettings(settings: Record<string, unknown>): void {
  try {
    validateConfig(settings)
  } catch (error) {
    throw asBodyField(error)
  }
  if (settings.system === 'sii')
    throw invalid('system', 'must be verifactu or ticketbai: SII is not a system for receipts')
}

/** The issuer configuration documents.ts issues with: one chain (installation) per cash box. */
export function issuerOf(
  cashboxId: string,
  config: EsCashboxConfig,
  software: SpanishSoftware = FISCALBOX_SOFTWARE,
  credentials?: SigningCredentials,
): SpainIssuerConfig {
  const installation = config.location ? `${config.location.id}-${config.location.environment}` : cashboxId
  return {
    system: config.system,
    ...(config.territory ? { territory: config.territory } : {}),
    issuer: { nif: config.nif, name: config.name },
    environment: config.environment,
    series: config.series,
    rectifyingSeries: config.rectifyingSeries,
    timeZone: 'Europe/Madrid',
    // Each cash box is an installation of its own: one chain per cash box (a location's: per environment).
    verifactuSystem: verifactuSystemOf(software, installation),
    ticketbaiSoftware: ticketBaiSoftwareOf(software),
    deviceSerial: (config.location?.id ?? cashboxId).slice(0, 30),
    ...(credentials ? { credentials } : {}),
  }
}
