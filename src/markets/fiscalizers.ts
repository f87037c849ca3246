import { ErrorCode, FiscalError } from '../core/errors.ts'
import type { Fiscalizer, FiscalizerFor } from '../core/v1/fiscalizer.ts'
import { spanishSystemOf, validateSpanishConfig } from './es/location-config.ts'
import { genericFiscalizer } from './generic/transaction-record.ts'

/**
 * Which fiscalizer serves a v1 location: by `{country}:{system}` (Spain), then by country, then the generic
 * one. Countries whose law requires an authority never fall back to generic records: a Spanish location
 * is refused until the Spanish fiscalizers are registered (`ES:verifactu`, `ES:ticketbai`).
 */
const AUTHORITY_COUNTRIES: ReadonlyMap<string, (config: Record<string, unknown>) => string> = new Map([
  [
    'ES',
    (config: Record<string, unknown>) => {
      validateSpanishConfig(config)
      return spanishSystemOf(config)
    },
  ],
])

export function createFiscalizerRegistry(registered: Record<string, Fiscalizer> = {}): FiscalizerFor {
  const fiscalizers = new Map(Object.entries(registered))
  return (location) => {
    const keyOf = AUTHORITY_COUNTRIES.get(location.country)
    if (keyOf) {
      const key = keyOf(location.countryConfig)
      const fiscalizer = fiscalizers.get(key) ?? fiscalizers.get(location.country)
      if (!fiscalizer) {
        throw new FiscalError(
          ErrorCode.ValidationError,
          `country_config.system: ${key.replace(':', ' ')} is not available on this server yet`,
          { field: 'country_config.system', reason: 'is not available on this server yet' },
        )
      }
      fiscalizer.validateConfig?.(location.countryConfig)
      return fiscalizer
    }
    const fiscalizer = fiscalizers.get(location.country) ?? genericFiscalizer
    fiscalizer.validateConfig?.(location.countryConfig)
    return fiscalizer
  }
}
