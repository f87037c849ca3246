import type { Migration } from 'kysely'
import { marketModules } from '../../markets/index.ts'
import * as initial from './001-initial.ts'
import * as marketState from './002-market-state.ts'
import * as payIssue from './005-pay-issue.ts'
import * as transactionsV1 from './008-transactions-v1.ts'
import * as batchWindows from './011-batch-windows.ts'
import * as queueReservation from './012-queue-reservation.ts'
import * as jobChains from './013-job-chains.ts'
import * as jobsBatchWindowPartial from './016-jobs-batch-window-partial.ts'
import * as operators from './018-operators.ts'
import * as terminals from './019-terminals.ts'
import * as exportRuns from './020-export-runs.ts'
import * as certificates from './022-certificates.ts'

/** The migrations of the core, not of a country: a new one is one more line here. */
export const coreMigrations: Readonly<Record<string, Migration>> = {
  '001-initial': initial,
  '002-market-state': marketState,
  '005-pay-issue': payIssue,
  '008-transactions-v1': transactionsV1,
  '011-batch-windows': batchWindows,
  '012-queue-reservation': queueReservation,
  '013-job-chains': jobChains,
  '016-jobs-batch-window-partial': jobsBatchWindowPartial,
  '018-operators': operators,
  '019-terminals': terminals,
  '020-export-runs': exportRuns,
  '022-certificates': certificates,
}

/**
 * Every migration: the core's and each market module's own. Kysely runs them in order of name, so a
 * module's migration takes the next free number of the one sequence.
 */
export const migrations: Record<string, Migration> = Object.assign(
  { ...coreMigrations },
  ...marketModules.map((module) => module.migrations ?? {}),
)
