import type { PayAction, PaymentState } from './payment.ts'

/** One /v2/pay operation as stored (storage/repositories/payments.ts). Amounts are decimal text. */
export interface PaymentRecord {
  /** fiscalbox's id of the payment: the reference every provider call carries. */
  id: string
  cashboxId: string
  operationId: string
  queueId: string
  action: PayAction
  /** The resolved provider (never use_auto / use_first). */
  protocol: string
  terminalId: string | null
  amount: string
  currency: string
  /** ftPayItemCase of the answer, hex. */
  payItemCase: string
  /** The canonical request text and its SHA-256 (idempotency). */
  request: string
  requestHash: string
  state: PaymentState
  /** cancel / refund: the payment they reverse. */
  originalId: string | null
  /** The provider's transaction id, once approved. */
  transactionId: string | null
  /** How much of this payment cancel / refund operations have taken back or reserved. */
  reversed: string
  /** The settled answer: StoredAnswer as JSON, replayed for every retry. */
  answer: string | null
  lastError: string | null
  createdAt: string
  updatedAt: string
}

/** Given the original payment as stored now, its new reversed amount and state; throws to refuse. */
export type ReversalRule = (original: PaymentRecord) => { reversed: string; state: PaymentState }

export interface PaymentStore {
  find(cashboxId: string, operationId: string): Promise<PaymentRecord | undefined>
  byId(id: string): Promise<PaymentRecord | undefined>
  findByTransaction(cashboxId: string, transactionId: string): Promise<PaymentRecord | undefined>
  /**
   * Stores the record unless its (cash box, operation id) exists, and returns what is stored: this record
   * or the existing one. With a reversal, the rule updates the original in the same commit (its throw
   * rolls both back), so two refunds can never take back more than was paid.
   */
  create(record: PaymentRecord, reversal?: { originalId: string; rule: ReversalRule }): Promise<PaymentRecord>
  /** requested -> in_progress; no effect in any other state. */
  markInProgress(id: string, at: string): Promise<void>
  noteError(id: string, message: string, at: string): Promise<void>
  /**
   * Settles the record once (only while it is requested or in progress) with its final state and answer,
   * and applies the reversal rule to the original in the same commit. Returns the record as stored after:
   * when another node settled it first, that node's outcome.
   */
  settle(
    id: string,
    update: { state: PaymentState; transactionId: string | null; answer: string; at: string },
    reversal?: { originalId: string; rule: ReversalRule },
  ): Promise<PaymentRecord>
}

export const PAYMENT_ACTIONS_WITH_ORIGINAL: readonly PayAction[] = ['cancel', 'refund']
