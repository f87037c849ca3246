import type { Micros } from '../money.ts'
import type { PayAction } from './payment.ts'

/**
 * One transaction as a payment provider (terminal, wallet, acquirer API) receives it. `reference` is
 * fiscalbox's own id of the payment operation: it is the same on every retry, after a restart and on every
 * node, so it is what makes a retry safe (see PaymentProvider.run).
 */
export interface ProviderTransaction {
  reference: string
  action: PayAction
  /** Positive for payment and pre_authorization, negative for cancel and refund. */
  amount: Micros
  /** Decimal text of `amount`, e.g. "12.50" or "-3.00". */
  amountText: string
  currency: string
  terminalId: string | undefined
  /** For cancel and refund: the provider's transaction id of the payment being reversed. */
  original?: { transactionId: string; amount: Micros }
  /** The POS's cbPayItem.ftPayItemCaseData.Provider.ProtocolRequest, as sent (provider-specific options). */
  protocolRequest: Record<string, unknown>
}

/** The terminal's final answer. Anything else (no answer, connection lost) is an exception. */
export type ProviderOutcome =
  | {
      status: 'approved'
      /** The provider's id of the transaction; cancel and refund name the original by it. */
      transactionId: string
      /** Printable, non-secret details: masked PAN, card brand, approval code, terminal id... */
      details: Record<string, string>
    }
  | { status: 'declined'; errorCode: string; message: string }
  /** The terminal gave up waiting (no card presented in time): nothing was charged. */
  | { status: 'timed_out'; errorCode: string; message: string }
  /** Aborted at the terminal (customer or cashier pressed cancel): nothing was charged. */
  | { status: 'aborted'; errorCode: string; message: string }

export interface RunHooks {
  /** The terminal has taken the transaction (card prompt shown): the payment is now in progress. */
  accepted(): void
}

/**
 * A payment provider adapter (docs/payments.md). fiscalbox persists the payment before calling run(), and
 * may call run() again with the same reference: after x-operation-lifetime expired and the POS retried
 * on another node, after a restart, or after the device was not reachable.
 */
export interface PaymentProvider {
  /** The Protocol name the POS selects it by, e.g. `simulator` or `hobex_zvt`. */
  readonly protocol: string
  readonly actions: readonly PayAction[]
  /**
   * Runs the transaction to its end and returns the terminal's answer. MUST be idempotent by
   * `transaction.reference`: when the provider already knows the reference it joins that transaction (or
   * reports its outcome) and never charges a second time. Throws DeviceNotReachable when the device or
   * service cannot be reached and the transaction certainly did not start.
   */
  run(transaction: ProviderTransaction, hooks: RunHooks): Promise<ProviderOutcome>
  /** Cheap reachability check for Protocol `use_auto`; must not start anything. */
  reachable(terminalId: string | undefined): Promise<boolean>
}

/** The device or service did not answer, and the transaction certainly did not start: a retry is safe. */
export class DeviceNotReachable extends Error {
  constructor(
    message: string,
    readonly deviceId: string | undefined,
    readonly lastContact: string | undefined,
  ) {
    super(message)
    this.name = 'DeviceNotReachable'
  }
}
