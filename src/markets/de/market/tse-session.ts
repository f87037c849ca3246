import { ErrorCode, FiscalError } from '../../../core/errors.ts'
import type { DeServices } from '../services.ts'
import type { TransactionState, TransactionView } from '../tss/model.ts'
import type { TxSchema } from '../tss/process-data.ts'
import type { Caller } from '../tss/tss-service.ts'
import type { RemoteAnswer, TseOperation } from '../remote/operations.ts'
import type { DeCashboxRecord } from './ports.ts'

export const FAILED = Symbol('tss failed')

export interface StepInput {
  state: TransactionState
  schema?: TxSchema
}

/**
 * One receipt's work with its TSS. Once a call fails the TSS is failed for the rest of the receipt (every
 * later call answers FAILED without being made), and `failure` says why.
 */
export abstract class TseSession {
  failure: string | null = null
  /** The call that failed the session was sent and its outcome is unknown: the TSE may have done it. */
  uncertain = false
  private available: boolean

  constructor(
    protected readonly box: DeCashboxRecord,
    available: boolean,
    unavailableReason: string,
  ) {
    this.available = available
    if (!available) this.failure = unavailableReason
  }

  get ok(): boolean {
    return this.available
  }

  start(txId: string) {
    return this.step(txId, 1, { state: 'ACTIVE' })
  }

  step(txId: string, revision: number, input: StepInput): Promise<TransactionView | typeof FAILED> {
    return this.attempt({ tx: { txId, revision, clientId: this.box.clientId, ...input } }) as Promise<
      TransactionView | typeof FAILED
    >
  }

  disable() {
    return this.attempt({ disable: true })
  }

  /** A transaction the TSE may or may not have: as it is once closed, null when it never had it. */
  settle(txId: string): Promise<TransactionView | null | typeof FAILED> {
    return this.attempt({ settle: { txId, clientId: this.box.clientId } }) as Promise<
      TransactionView | null | typeof FAILED
    >
  }

  protected fail(reason: string, uncertain = false): typeof FAILED {
    this.available = false
    this.failure = reason
    this.uncertain = uncertain
    return FAILED
  }

  private async attempt(operation: TseOperation): Promise<SessionResult> {
    if (!this.available) return FAILED
    return this.run(operation)
  }

  protected abstract run(operation: TseOperation): Promise<SessionResult>
}

type SessionResult = TransactionView | true | null | typeof FAILED

/** The software TSS of src/markets/de/tss, called inside the receipt's unit of work. */
export class LocalTssSession extends TseSession {
  constructor(
    private readonly tss: ReturnType<DeServices['tss']['within']>,
    private readonly caller: Caller,
    box: DeCashboxRecord,
    available: boolean,
    unavailableReason: string,
  ) {
    super(box, available, unavailableReason)
  }

  protected async run(operation: TseOperation) {
    try {
      if ('disable' in operation) {
        await this.tss.updateTss(this.caller, this.box.tssId, { state: 'DISABLED' })
        return true as const
      }
      // Called inside the receipt's unit of work, the local TSS never leaves a start of unknown outcome.
      if ('settle' in operation)
        throw new FiscalError(ErrorCode.Internal, 'the local TSS has no transaction to settle')
      const { txId, revision, ...input } = operation.tx
      const { view } = await this.tss.upsertTransaction(this.caller, this.box.tssId, txId, revision, input)
      return view
    } catch (error) {
      // The TSS answered with one of its errors: from now on the receipts go without it. Anything else
      // (storage, a bug) fails the receipt as a whole.
      if (!(error instanceof FiscalError) || error.code === ErrorCode.ValidationError) throw error
      return this.fail(`${error.code}: ${error.message}`)
    }
  }
}

/**
 * A remote TSE, first pass (seal, in the reservation's transaction): the calls are only written down, each
 * answered as if it succeeded, so that the receipt's logic names every call it would make.
 */
export class PlannedSession extends TseSession {
  readonly operations: TseOperation[] = []

  protected async run(operation: TseOperation) {
    this.operations.push(operation)
    if ('disable' in operation) return true as const
    const { txId, revision, state, clientId } =
      'settle' in operation ? { ...operation.settle, revision: 0, state: 'CANCELLED' as const } : operation.tx
    return {
      tssId: this.box.tssId,
      tssSerialNumber: '',
      id: txId,
      number: 0,
      revision,
      state,
      clientId,
      clientSerialNumber: '',
      timeStart: 0,
      timeEnd: state === 'ACTIVE' ? null : 0,
      log: { operation: 'Start', timestamp: 0 },
      signature: { value: '', algorithm: 'ecdsa-plain-SHA256', counter: 0, publicKey: '' },
      schema: null,
      processType: '',
      processData: '',
      qrCodeData: null,
    } satisfies TransactionView
  }
}

/**
 * A remote TSE, second pass (complete, in the result's transaction): the same calls in the same order, each
 * answered with what the TSE answered; the first one it did not do fails the TSS for the receipt.
 */
export class ReplayedSession extends TseSession {
  private next = 0

  constructor(
    private readonly answer: RemoteAnswer,
    box: DeCashboxRecord,
    available: boolean,
    unavailableReason: string,
  ) {
    super(box, available, unavailableReason)
  }

  protected async run(operation: TseOperation) {
    const result = this.answer.results[this.next++]
    if (!result)
      return this.fail(this.answer.failure ?? 'the remote TSE gave no answer', this.answer.uncertain)
    if ('disabled' in result) return true as const
    if ('absent' in result && 'settle' in operation) return null
    // A revision taken by a late request of an earlier receipt moves the call on to a later one.
    const matches =
      'tx' in result &&
      ('settle' in operation
        ? result.tx.id === operation.settle.txId
        : 'tx' in operation &&
          result.tx.id === operation.tx.txId &&
          result.tx.revision >= operation.tx.revision)
    if (!matches)
      throw new FiscalError(ErrorCode.Internal, 'the remote TSE answered other calls than the receipt makes')
    return result.tx
  }
}
