import { FiscalError, invalid } from '../../../core/errors.ts'
import type { SpainIssuerConfig } from '../documents.ts'
import type { Territory } from '../ticketbai/territories.ts'
import type { SigningCredentials } from '../ticketbai/xades.ts'
import {
  FISCALBOX_SOFTWARE,
  type SpanishSoftware,
  ticketBaiSoftwareOf,
  validateConfig,
  verifactuSystemOf,
} from '../v1-fiscalizer.ts'
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
}

/**
 * The location validator of the transactions API names fields `country_config.x`; here they are fields of
 * the request body itself.
 */
function asBodyField(error: unknown): unknown {
  if (!(error instanceof FiscalError) || !error.details) return error
  return invalid(error.details.field.replace(/^country_config\./, ''), error.details.reason)
}

/** Checks a configuration request with the Spanish validators and fills in the defaults. */
export function parseEsConfig(cashboxId: string, request: EsConfigRequest): EsCashboxConfig {
  const series = request.series ?? `FB${cashboxId.replace(/-/g, '').slice(0, 8).toUpperCase()}-`
  const fields: Record<string, unknown> = {
    system: request.system,
    ...(request.territory !== undefined ? { territory: request.territory } : {}),
    nif: request.nif,
    name: request.name,
    series,
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
  if (system === 'ticketbai' && environment === 'production')
    throw invalid(
      'environment',
      "production TicketBAI records are signed with the taxpayer's certificate, which /v2/sign cash boxes cannot name yet: use a location of the transactions API v1 (country_config.certificate_id, docs/going-live.md) or test",
    )
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
  }
}

/** The issuer configuration documents.ts issues with: one chain (installation) per cash box. */
export function issuerOf(
  cashboxId: string,
  config: EsCashboxConfig,
  software: SpanishSoftware = FISCALBOX_SOFTWARE,
  credentials?: SigningCredentials,
): SpainIssuerConfig {
  return {
    system: config.system,
    ...(config.territory ? { territory: config.territory } : {}),
    issuer: { nif: config.nif, name: config.name },
    environment: config.environment,
    series: config.series,
    rectifyingSeries: config.rectifyingSeries,
    timeZone: 'Europe/Madrid',
    // Each cash box is an installation of its own: one chain per cash box.
    verifactuSystem: verifactuSystemOf(software, cashboxId),
    ticketbaiSoftware: ticketBaiSoftwareOf(software),
    deviceSerial: cashboxId.slice(0, 30),
    ...(credentials ? { credentials } : {}),
  }
}
