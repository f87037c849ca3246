import type { Migration } from 'kysely'
import * as initial from './001-initial.ts'
import * as marketState from './002-market-state.ts'
import * as at from './003-at.ts'
import * as deTss from './004-de-tss.ts'
import * as payIssue from './005-pay-issue.ts'
import * as transactionsV1 from './008-transactions-v1.ts'
import * as deMarket from './009-de-market.ts'
import * as esMarket from './010-es-market.ts'
import * as batchWindows from './011-batch-windows.ts'
import * as jobChains from './013-job-chains.ts'

/** Every migration in order of name; a new one is one more line here. */
export const migrations: Record<string, Migration> = {
  '001-initial': initial,
  '002-market-state': marketState,
  '003-at': at,
  '004-de-tss': deTss,
  '005-pay-issue': payIssue,
  '008-transactions-v1': transactionsV1,
  '009-de-market': deMarket,
  '010-es-market': esMarket,
  '011-batch-windows': batchWindows,
  '013-job-chains': jobChains,
}
