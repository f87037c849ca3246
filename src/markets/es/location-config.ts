import { invalid } from '../../core/errors.ts'

/**
 * A Spanish location's country_config (docs/transactions-api-v1.md "Locations"): the system its records go
 * to, the foral territory for TicketBAI, the issuer's NIF and the reference of the certificate that signs
 * and authenticates its submissions.
 */
export const ES_SYSTEMS = ['verifactu', 'ticketbai', 'sii'] as const
export const TICKETBAI_TERRITORIES = ['araba', 'bizkaia', 'gipuzkoa'] as const

/** NIF / NIE / CIF: nine characters, a letter or digit, seven digits, a letter or digit. */
const NIF = /^[0-9A-Z][0-9]{7}[0-9A-Z]$/

export function validateSpanishConfig(config: Record<string, unknown>): void {
  const { system, territory, nif, certificate_id } = config
  if (typeof system !== 'string' || !(ES_SYSTEMS as readonly string[]).includes(system)) {
    throw invalid('country_config.system', `must be one of ${ES_SYSTEMS.join(', ')}`)
  }
  if (system === 'ticketbai') {
    if (typeof territory !== 'string' || !(TICKETBAI_TERRITORIES as readonly string[]).includes(territory)) {
      throw invalid(
        'country_config.territory',
        `must be one of ${TICKETBAI_TERRITORIES.join(', ')} for TicketBAI`,
      )
    }
  } else if (territory !== undefined) {
    throw invalid('country_config.territory', 'is only used with system ticketbai')
  }
  if (typeof nif !== 'string' || !NIF.test(nif)) {
    throw invalid('country_config.nif', 'must be a Spanish NIF of 9 characters, e.g. B12345674')
  }
  if (certificate_id !== undefined && (typeof certificate_id !== 'string' || certificate_id.length === 0)) {
    throw invalid('country_config.certificate_id', 'must be a non-empty string (the certificate reference)')
  }
}

/** A Spanish location's country_config with the optional fields the issuer's documents read (series, name). */
export function validateConfig(config: Record<string, unknown>): void {
  validateSpanishConfig(config)
  const { series, name } = config
  if (series !== undefined && (typeof series !== 'string' || !/^[\x21-\x7e]{1,40}$/.test(series)))
    throw invalid('country_config.series', 'must be 1 to 40 printable ASCII characters without spaces')
  if (name !== undefined && (typeof name !== 'string' || name.trim().length === 0 || name.length > 120))
    throw invalid('country_config.name', "must be the issuer's legal name, 1 to 120 characters")
}
