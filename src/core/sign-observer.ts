import { State } from './case-codes.ts'

/** What became of a receipt that a queue concluded (its ftState), for the operators' counters. */
export type ReceiptOutcome = 'signed' | 'signing_unit_failed' | 'late_signing' | 'rejected'

/** Told of every receipt /v2/sign commits, once, after its commit (replays and duplicates are not told). */
export interface SignObserver {
  receiptConcluded(country: string, outcome: ReceiptOutcome): void
}

export const NO_SIGN_OBSERVER: SignObserver = { receiptConcluded: () => {} }

/** The outcome a receipt's state flags say. */
export function receiptOutcomeOf(stateFlags: bigint): ReceiptOutcome {
  if (stateFlags === State.Error) return 'rejected'
  if ((stateFlags & State.SigningUnitFailed) !== 0n) return 'signing_unit_failed'
  if ((stateFlags & State.LateSigning) !== 0n) return 'late_signing'
  return 'signed'
}
