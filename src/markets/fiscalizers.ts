import { ErrorCode, FiscalError } from '../core/errors.ts'
import type { Fiscalizer, FiscalizerFor } from '../core/v1/fiscalizer.ts'
import { genericFiscalizer } from './generic/transaction-record.ts'
import { marketModules } from './index.ts'

/**
 * Which fiscalizer serves a v1 location: by `{country}:{system}` (a module's `fiscalizerKey`), then by
 * country, then the generic one. Countries whose law requires an authority never fall back to generic
 * records: such a location is refused until its fiscalizer is registered (e.g. `ES:verifactu`).
 */
const AUTHORITY_COUNTRIES = new Map(
  marketModules.flatMap((module) => (module.fiscalizerKey ? [[module.country, module.fiscalizerKey]] : [])),
)

export function createFiscalizerRegistry(registered: Record<string, Fiscalizer> = {}): FiscalizerFor {
  const fiscalizers = new Map(Object.entries(registered))
  return (location, creating) => {
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
      if (creating) fiscalizer.validateConfig?.(location.countryConfig)
      return fiscalizer
    }
    const fiscalizer = fiscalizers.get(location.country) ?? genericFiscalizer
    if (creating) fiscalizer.validateConfig?.(location.countryConfig)
    return fiscalizer
  }
}
