import { randomUUID } from 'node:crypto'
import { caseCodeIn, countryCode, formatCaseCode, v2Code } from '../case-codes.ts'
import { ErrorCode, FiscalError, invalid } from '../errors.ts'
import { exactJson } from '../exact-json.ts'
import { formatDecimal, parseDecimal } from '../money.ts'
import { EXPIRED, fingerprint, operationConflict, settleWithin } from '../operations.ts'
import type { CashboxRecord } from '../ports.ts'
import { parsePayRequest, type PayRequest, type PayRequestBody } from './pay-request.ts'
import { isReversible, isSettled, type PaymentEvent, transition } from './payment.ts'
import type { PaymentRecord, PaymentStore, ReversalRule } from './ports.ts'
import { DeviceNotReachable, type ProviderOutcome, type ProviderTransaction } from './provider.ts'
import { type PaymentProviders, USE_AUTO } from './providers.ts'

export interface PayCommand {
  cashbox: CashboxRecord
  operationId: string
  /** How long this call waits for the terminal before answering with the pollable state (x-operation-lifetime). */
  lifetimeMs: number
  body: PayRequestBody
  headerTerminalId?: string
}

/** 200 with the ftPayItems, or 202 with the state of a payment still running at the terminal. */
export interface PayAnswer {
  status: 200 | 202
  body: string
  state: PaymentRecord['state']
}

/** A settled answer as stored: the 200 body, or the error every retry gets again. */
type StoredAnswer =
  | { kind: 'ok'; body: string }
  | { kind: 'error'; code: ErrorCode; message: string; details: Record<string, unknown> }

/** Pay item flags of the reference (ftPayItemCase bits 16-31). */
const PAY_ITEM_VOID = 0x1_0000n
const PAY_ITEM_REFUND = 0x2_0000n
/** Low part for a pay item without a case of its own: 0x0002 non-cash. */
const NON_CASH = 0x0002n

const OUTCOME_EVENT: Record<ProviderOutcome['status'], PaymentEvent> = {
  approved: 'approved',
  declined: 'declined',
  timed_out: 'timed_out',
  aborted: 'aborted',
}

/**
 * /v2/pay in the core. A payment is stored as `requested` before any provider is asked, so that whatever
 * happens next (lifetime expired, process restarted, device offline, another node retrying) the same
 * operation id leads to the same provider transaction, whose reference makes it run at most once. The
 * first call and every retry wait up to x-operation-lifetime for the outcome, then answer 202 with the
 * state; a later retry or GET /v2/pay/{operationId} picks the outcome up.
 */
export class PayService {
  /** Payments this process is driving right now, by payment id. */
  private readonly running = new Map<string, Promise<PaymentRecord>>()
  /** Payments the terminal took while their in_progress write may still be on its way to the database. */
  private readonly accepted = new Set<string>()

  constructor(
    private readonly store: PaymentStore,
    private readonly providers: PaymentProviders,
    private readonly clock: () => Date = () => new Date(),
    private readonly onBackgroundError: (error: unknown) => void = () => {},
  ) {}

  async pay(command: PayCommand): Promise<PayAnswer> {
    const request = parsePayRequest(command.body, command.headerTerminalId)
    const { text, hash } = fingerprint(command.body)
    const existing = await this.store.find(command.cashbox.id, command.operationId)
    if (existing) return this.follow(existing, hash, command.lifetimeMs)

    const provider = await this.providers
      .resolve(request.protocol, request.action, request.terminalId)
      .catch((error: unknown) => {
        throw error instanceof DeviceNotReachable ? unreachable(error, request.protocol) : error
      })
    const original = await this.originalOf(command.cashbox, request)
    const at = this.clock().toISOString()
    const record: PaymentRecord = {
      id: randomUUID(),
      cashboxId: command.cashbox.id,
      operationId: command.operationId,
      queueId: command.cashbox.queueId,
      action: request.action,
      protocol: provider.protocol,
      terminalId: request.terminalId ?? null,
      amount: formatDecimal(request.amount),
      currency: request.currency,
      payItemCase: formatCaseCode(payItemCaseOf(request, command.cashbox.country)),
      request: text,
      requestHash: hash,
      state: 'requested',
      originalId: original?.id ?? null,
      transactionId: null,
      reversed: '0.00',
      answer: null,
      lastError: null,
      createdAt: at,
      updatedAt: at,
    }
    const stored = await this.store.create(
      record,
      original ? { originalId: original.id, rule: reserve(request) } : undefined,
    )
    return this.follow(stored, hash, command.lifetimeMs)
  }

  /** GET /v2/pay/{operationId}: the payment's answer, or its state while it runs (driving it if no one is). */
  async status(cashbox: CashboxRecord, operationId: string, lifetimeMs: number): Promise<PayAnswer> {
    const record = await this.store.find(cashbox.id, operationId)
    if (!record)
      throw new FiscalError(ErrorCode.NotFound, `no payment with x-operation-id ${operationId}`, {
        field: 'operationId',
        reason: 'no payment of this cash box has this operation id',
      })
    return this.follow(record, record.requestHash, lifetimeMs)
  }

  private async follow(record: PaymentRecord, requestHash: string, lifetimeMs: number): Promise<PayAnswer> {
    if (record.requestHash !== requestHash) throw operationConflict()
    if (record.answer !== null) return answerOf(record)
    const drive = this.driving(record)
    // A lifetime of 0 asks for the state as it is: the drive goes on, nobody waits for it.
    const settled = lifetimeMs > 0 ? await settleWithin(drive, lifetimeMs) : EXPIRED
    if (settled !== EXPIRED) return answerOf(settled)
    const now = (await this.store.byId(record.id)) ?? record
    if (now.answer !== null) return answerOf(now)
    return pending(this.accepted.has(now.id) ? { ...now, state: 'in_progress' } : now)
  }

  /**
   * The one drive of this payment in this process. Another process (a restarted one, another node) may
   * drive it too: both call the provider with the same reference, and the provider runs it once.
   */
  private driving(record: PaymentRecord): Promise<PaymentRecord> {
    let run = this.running.get(record.id)
    if (!run) {
      run = this.drive(record).finally(() => {
        this.running.delete(record.id)
        this.accepted.delete(record.id)
      })
      this.running.set(record.id, run)
      // A caller that stopped waiting (lifetime expired) leaves the drive running on its own.
      run.catch(this.onBackgroundError)
    }
    return run
  }

  private async drive(record: PaymentRecord): Promise<PaymentRecord> {
    const provider = this.providers.get(record.protocol)
    if (!provider) {
      throw new FiscalError(
        ErrorCode.ServiceUnavailable,
        `the payment provider ${record.protocol} of this payment is not configured on this node: retry on a node that has it`,
      )
    }
    const request = parsePayRequest(
      JSON.parse(record.request) as PayRequestBody,
      record.terminalId ?? undefined,
    )
    const original = record.originalId ? await this.store.byId(record.originalId) : undefined
    const transaction: ProviderTransaction = {
      reference: record.id,
      action: record.action,
      amount: request.amount,
      amountText: record.amount,
      currency: record.currency,
      terminalId: record.terminalId ?? undefined,
      ...(original?.transactionId
        ? {
            original: {
              transactionId: original.transactionId,
              amount: parseDecimal(original.amount, 'amount'),
            },
          }
        : {}),
      protocolRequest: request.protocolRequest,
    }
    let progress: Promise<void> | undefined
    let outcome: ProviderOutcome
    try {
      outcome = await provider.run(transaction, {
        accepted: () => {
          this.accepted.add(record.id)
          progress ??= this.store.markInProgress(record.id, this.clock().toISOString())
        },
      })
    } catch (error) {
      await progress
      if (!(error instanceof DeviceNotReachable)) throw error
      // Nothing started: the payment stays requested, and a retry with the same id tries the device again.
      await this.store.noteError(record.id, error.message, this.clock().toISOString())
      throw unreachable(error, record.protocol)
    }
    await progress
    const state = transition('in_progress', OUTCOME_EVENT[outcome.status])
    if (!state) throw new Error(`no transition for ${outcome.status}`)
    const at = this.clock()
    const answer: StoredAnswer =
      outcome.status === 'approved'
        ? { kind: 'ok', body: payResponse(record, request, outcome, at) }
        : {
            kind: 'error',
            code: ErrorCode.PaymentError,
            message: `Payment processing failed: ${outcome.message}`,
            details: {
              protocol: record.protocol,
              errorCode: outcome.errorCode,
              ...(record.terminalId ? { terminalId: record.terminalId } : {}),
            },
          }
    return this.store.settle(
      record.id,
      {
        state,
        transactionId: outcome.status === 'approved' ? outcome.transactionId : null,
        answer: JSON.stringify(answer),
        at: at.toISOString(),
      },
      record.originalId
        ? { originalId: record.originalId, rule: settleReversal(request, outcome.status === 'approved') }
        : undefined,
    )
  }

  /** cancel / refund: the reversed payment must be this cash box's, settled as succeeded, and cover the amount. */
  private async originalOf(cashbox: CashboxRecord, request: PayRequest): Promise<PaymentRecord | undefined> {
    if (request.originalTransactionId === undefined) return undefined
    const field = 'cbPayItem.ftPayItemCaseData.Provider.ProtocolResponse.TransactionId'
    const original = await this.store.findByTransaction(cashbox.id, request.originalTransactionId)
    if (!original || !isReversible(original.action)) {
      throw new FiscalError(
        ErrorCode.NotFound,
        `no payment of this cash box has the transaction id ${JSON.stringify(request.originalTransactionId)}`,
        { field, reason: 'must name a payment or pre-authorization of this cash box' },
      )
    }
    reserve(request)(original)
    return original
  }
}

/** The reversal's claim on the original, checked again inside the commit that makes it. */
const reserve =
  (request: PayRequest): ReversalRule =>
  (original) => {
    const taken = parseDecimal(original.reversed, 'reversed')
    const paid = parseDecimal(original.amount, 'amount')
    const back = -request.amount
    if (original.state !== 'succeeded' && original.state !== 'refunded') {
      throw invalid(
        'cbPayItem.ftPayItemCaseData.Provider.ProtocolResponse.TransactionId',
        `the payment is ${original.state}: only a succeeded payment can be reversed`,
      )
    }
    if (request.action === 'cancel' && (taken !== 0n || back !== paid)) {
      throw invalid(
        'cbPayItem.Amount',
        `a cancel reverses the whole payment: must be -${original.amount}, with no refund made before`,
      )
    }
    if (taken + back > paid) {
      throw invalid(
        'cbPayItem.Amount',
        `exceeds what is left to refund of the payment (${formatDecimal(paid - taken)})`,
      )
    }
    return { reversed: formatDecimal(taken + back), state: original.state }
  }

/** After the provider answered a reversal: release the reserved amount, or move the original on. */
const settleReversal =
  (request: PayRequest, approved: boolean): ReversalRule =>
  (original) => {
    const taken = parseDecimal(original.reversed, 'reversed')
    const back = -request.amount
    if (!approved) return { reversed: formatDecimal(taken - back), state: original.state }
    const event: PaymentEvent | undefined =
      request.action === 'cancel'
        ? 'cancelled_by_reversal'
        : taken === parseDecimal(original.amount, 'amount')
          ? 'refunded_fully'
          : undefined
    const state = event ? transition(original.state, event) : undefined
    return { reversed: original.reversed, state: state ?? original.state }
  }

function payItemCaseOf(request: PayRequest, country: string): bigint {
  const flags =
    request.action === 'cancel' ? PAY_ITEM_VOID : request.action === 'refund' ? PAY_ITEM_REFUND : 0n
  return (request.payItemCase ?? v2Code(countryCode(country), NON_CASH)) | flags
}

/**
 * The 200 answer. Its ftPayItems are cbPayItems for /v2/sign as they are: Amount is a JSON number (the
 * request allows at most 15 significant digits, which a double holds exactly), the case in the request's
 * form (exact digits when a number), and ftPayItemCaseData.Provider carries what a later cancel or refund
 * needs (ProtocolResponse.TransactionId) and the protocol that ran the payment. The top-level Protocol is
 * the value the POS asked for (use_auto, use_first or a name): a value of its own vocabulary, which a
 * client that reads Protocol as an enum (the devkit's PaymentProtocol) can always read back.
 */
function payResponse(
  record: PaymentRecord,
  request: PayRequest,
  outcome: Extract<ProviderOutcome, { status: 'approved' }>,
  at: Date,
): string {
  return exactJson({
    Protocol: request.protocol,
    ftQueueID: record.queueId,
    ftPayItems: [
      {
        ftPayItemId: record.id,
        Quantity: request.quantity ?? 1,
        Description: request.description,
        Amount: Number(record.amount),
        ftPayItemCase: caseCodeIn(request.caseCodeForm, BigInt(record.payItemCase)),
        ftPayItemCaseData: {
          ...request.caseData,
          Provider: {
            ...request.provider,
            Protocol: record.protocol,
            Action: record.action,
            ProtocolRequest: request.protocolRequest,
            ProtocolResponse: { ...outcome.details, TransactionId: outcome.transactionId },
          },
        },
        Moment: at.toISOString(),
      },
    ],
  })
}

/** A payment's error answer, with the state the payment is in (for the x-payment-state header). */
export class PaymentFailed extends FiscalError {
  constructor(
    code: ErrorCode,
    message: string,
    details: Record<string, unknown>,
    readonly state: PaymentRecord['state'],
  ) {
    super(code, message, undefined, { details })
  }
}

/** device_not_reachable: nothing started, so the payment (if one was stored) is still requested. */
const unreachable = (error: DeviceNotReachable, protocol: string) =>
  new PaymentFailed(
    ErrorCode.DeviceNotReachable,
    error.message,
    {
      protocol,
      ...(error.deviceId ? { deviceId: error.deviceId } : {}),
      ...(error.lastContact ? { lastContact: error.lastContact } : {}),
    },
    'requested',
  )

function answerOf(record: PaymentRecord): PayAnswer {
  if (record.answer === null) return pending(record)
  const answer = JSON.parse(record.answer) as StoredAnswer
  if (answer.kind === 'ok') return { status: 200, body: answer.body, state: record.state }
  throw new PaymentFailed(answer.code, answer.message, answer.details, record.state)
}

/** 202: still running at the terminal. The POS repeats the same request (same id) to learn the outcome. */
function pending(record: PaymentRecord): PayAnswer {
  if (isSettled(record.state)) throw new Error(`payment ${record.id} is ${record.state} without an answer`)
  return {
    status: 202,
    state: record.state,
    body: JSON.stringify({
      Protocol: (JSON.parse(record.request) as PayRequestBody).Protocol ?? USE_AUTO,
      ftQueueID: record.queueId,
      ftPayItems: [],
      State: record.state,
      Message:
        'the payment is still running at the terminal: send the same request with the same x-operation-id again, or GET /v2/pay/{operationId}, to learn its outcome; it is never charged twice',
    }),
  }
}
