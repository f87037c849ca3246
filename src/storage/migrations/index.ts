import type { Migration } from 'kysely'
import * as initial from './001-initial.ts'
import * as marketState from './002-market-state.ts'
import * as transactionsV1 from './008-transactions-v1.ts'

/** Every migration in order of name; a new one is one more line here. */
export const migrations: Record<string, Migration> = {
  '001-initial': initial,
  '002-market-state': marketState,
  '008-transactions-v1': transactionsV1,
}
