import type { UnitOfWork } from '../../core/ports.ts'
import type { Chain } from './documents.ts'

/** What the French market needs from storage; store.ts implements it with Kysely. */
export interface FrEntry {
  queueId: string
  chain: Chain
  n: number
  queueRow: number
  /** ISO moment (UTC) it was signed. */
  moment: string
  /** yyyy-MM-dd in Paris. */
  localDay: string
  reference: string
  copiedReference: string | null
  jws: string
}

/** The first and the last entry of one chain signed within a period: an archive holds every entry between. */
export interface ChainSpan {
  chain: Chain
  first: { n: number; jws: string }
  last: { n: number; jws: string }
}

/** A cash box's establishment; `version` counts its changes (1 = the first configuration). */
export interface FrConfig {
  siret: string
  name: string
  version: number
  updatedAt: string
}

export interface FrStore {
  /** Stores the configuration: unchanged values keep their version, others get the next one. */
  putConfig(cashboxId: string, siret: string, name: string, now: string): Promise<FrConfig>
  config(cashboxId: string): Promise<FrConfig | undefined>
  configIn(unit: UnitOfWork, cashboxId: string): Promise<FrConfig | undefined>
  /** Inside a receipt's unit of work. */
  insertEntriesIn(unit: UnitOfWork, entries: readonly FrEntry[]): Promise<void>
  /** How many chained documents carry this reference, and how many duplicates of it were printed. */
  copiesIn(
    unit: UnitOfWork,
    queueId: string,
    reference: string,
  ): Promise<{ originals: number; copies: number }>
  /** Per chain, the entries signed on the days fromDay..toDay (inclusive, Paris). */
  spansIn(unit: UnitOfWork, queueId: string, fromDay: string, toDay: string): Promise<ChainSpan[]>
  /** The JWS of entries first..last of a chain, in order, up to `limit`. */
  entries(queueId: string, chain: Chain, first: number, last: number, limit: number): Promise<string[]>
}
