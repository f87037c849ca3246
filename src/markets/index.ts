import { austria } from './at/module.ts'
import { germany } from './de/module.ts'
import { spain } from './es/module.ts'
import { france } from './fr/module.ts'
import { generic } from './generic/module.ts'
import { italy } from './it/module.ts'
import { portugal } from './pt/module.ts'
import type { MarketModule } from './module.ts'

/** The one list of country modules (see docs/markets.md "Add a country"). */
export const marketModules: readonly MarketModule[] = [
  generic,
  austria,
  germany,
  spain,
  italy,
  france,
  portugal,
]

/** The batch windows of all modules, in the list's order. */
export const batchWindows = marketModules.flatMap((module) => module.batchWindows ?? [])
