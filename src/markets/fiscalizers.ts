import type { Fiscalizer, FiscalizerFor } from '../core/v1/fiscalizer.ts'
import { genericFiscalizer } from './generic/transaction-record.ts'

/**
 * Which fiscalizer serves a v1 location: the one registered for its country (the market of a module that
 * signs its country's locations, see runtime.ts), or the generic one.
 */
export function createFiscalizerRegistry(registered: Record<string, Fiscalizer> = {}): FiscalizerFor {
  const fiscalizers = new Map(Object.entries(registered))
  return (location, creating) => {
    const fiscalizer = fiscalizers.get(location.country) ?? genericFiscalizer
    if (creating) fiscalizer.validateConfig?.(location.countryConfig)
    return fiscalizer
  }
}
