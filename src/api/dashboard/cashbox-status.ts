import { State } from '../../core/case-codes.ts'
import type { CashboxSummary } from '../../core/dashboard/ports.ts'
import type { Market } from '../../core/market.ts'

/** The low state flags a receipt answers with when something is wrong, as an operator reads them. */
const FLAGS: ReadonlyArray<[bigint, string]> = [
  [State.OutOfOperation, 'out of operation'],
  [State.SigningUnitFailed, 'signing unit failed'],
  [State.LateSigning, 'late signing'],
  [State.MessagePending, 'message pending'],
]

export interface CashboxStatus {
  market: string
  state: 'not started' | 'started' | 'stopped'
  signingUnit: string
  /** The outage flags of the newest receipt's ftState. */
  outages: string[]
}

/** What the cash box list shows of a cash box: its market, lifecycle, signing unit and outage flags. */
export function cashboxStatus(cashbox: CashboxSummary, marketFor: (code: number) => Market): CashboxStatus {
  let market: Market | undefined
  try {
    market = marketFor(cashbox.countryCode)
  } catch {
    // A country this server does not run (any more): the journal is still there to read.
  }
  const ftState = cashbox.lastReceipt ? BigInt(cashbox.lastReceipt.ftState || '0') : 0n
  const outages =
    ftState === State.Error ? ['error'] : FLAGS.filter(([flag]) => ftState & flag).map(([, n]) => n)
  const unit = market?.external ? 'external unit' : 'in-process key'
  const failing = outages.includes('signing unit failed')
  return {
    market: market?.name ?? 'not served here',
    state: cashbox.stopMoment ? 'stopped' : cashbox.startMoment ? 'started' : 'not started',
    signingUnit: cashbox.reserved
      ? `${unit}: call under way`
      : `${unit}: ${failing ? 'failing' : cashbox.lastReceipt ? 'ok' : 'not used yet'}`,
    outages,
  }
}
