import type { MarketModule } from '../module.ts'
import { genericMarket } from './index.ts'

/** Countries without a fiscal law (`EU`), and the fallback of every country without a module of its own. */
export const generic: MarketModule = {
  country: 'EU',
  market: () => genericMarket,
}
