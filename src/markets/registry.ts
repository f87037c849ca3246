import { countryCode } from '../core/case-codes.ts'
import type { Market } from '../core/market.ts'
import type { MasterKey } from '../core/secrets.ts'
import type { Storage } from '../storage/database.ts'
import { createAtMarket } from './at/index.ts'
import { createDeMarket } from './de/market/create.ts'
import type { DeServices } from './de/services.ts'
import { createEsMarket, type EsMarketOptions } from './es/pos/index.ts'
import { genericMarket } from './generic/index.ts'

/** What a market plug may be built with: keys it keeps at rest are sealed by the master key. */
export interface MarketDependencies {
  storage: Storage
  master: MasterKey
  /** Germany's TSS and stores, shared with the SIGN DE API. */
  de: DeServices
  /** Spain: where records of test and production cash boxes go (absent: test records wait in the outbox). */
  es?: EsMarketOptions
}

export type MarketFor = (countryCode: number) => Market

/**
 * Country routing by the top 16 bits of the case codes. A country without a plug of its own is served by
 * the generic market (see docs/markets.md).
 */
export function createMarketRegistry(dependencies: MarketDependencies): MarketFor {
  const markets = new Map<number, Market>()
  markets.set(countryCode('AT'), createAtMarket(dependencies))
  markets.set(countryCode('DE'), createDeMarket(dependencies))
  markets.set(countryCode('ES'), createEsMarket(dependencies))
  return (countryCode) => markets.get(countryCode) ?? genericMarket
}
