import { sha256Hex } from './canonical-json.ts'
import {
  caseOf,
  countryCode,
  countryOf,
  formatCaseCode,
  hasFlag,
  ReceiptCase,
  ReceiptFlag,
  receiptType,
  SignatureFormat,
  SignatureTypeCategory,
  State,
  v2Code,
} from './case-codes.ts'
import type { Cashboxes } from './cashboxes.ts'
import { ErrorCode, FiscalError, invalid } from './errors.ts'
import { chainHash } from './journal-chain.ts'
import {
  type ExternalUnit,
  type Market,
  type MarketOutcome,
  needsExternalStep,
  type QueueSigner,
  type SignatureItem,
  type SigningContext,
  type UnitCall,
  type UnitResult,
} from './market.ts'
import { formatDecimal } from './money.ts'
import { EXPIRED, fingerprint, operationConflict as conflict, settleWithin } from './operations.ts'
import type { CashboxRecord, Ledger, OperationRecord, QueueState, QueueWork, Reservation } from './ports.ts'
import { parseReceipt, type Receipt, type ReceiptRequestBody } from './receipt.ts'
import { serializeReceiptResponse } from './receipt-response.ts'
import { addReceipt, closePeriod, type Period } from './totalizers.ts'
import { timeOrderedId } from './time-ordered-id.ts'
import {
  NO_SIGN_OBSERVER,
  receiptOutcomeOf,
  type ReceiptOutcome,
  type SignObserver,
} from './sign-observer.ts'

export interface SignCommand {
  cashbox: CashboxRecord
  operationId: string
  /** How long a duplicate may wait for the first call of its operation id (x-operation-lifetime). */
  lifetimeMs: number
  body: ReceiptRequestBody
  receipt: Receipt
}

interface Running {
  requestHash: string
  done: Promise<string>
}

type Verdict = 'sign' | 'out-of-operation' | 'already-started'

const CLOSINGS: Partial<Record<number, Period>> = {
  [ReceiptCase.DailyClosing]: 'daily',
  [ReceiptCase.MonthlyClosing]: 'monthly',
  [ReceiptCase.YearlyClosing]: 'yearly',
}

/** A sign command with its canonical body and that body's hash. */
interface Request extends SignCommand {
  requestText: string
  requestHash: string
  /** Set when the receipt is concluded; told to the observer once its unit of work has committed. */
  outcome?: ReceiptOutcome
}

/** The receipt's place in the queue, fixed before the market is called. */
interface Place {
  queueItemId: string
  queueRow: number
  moment: Date
}

type FirstStep =
  | { response: string }
  | { duplicate: OperationRecord }
  | { blockedBy: Reservation }
  | { reserved: Reservation; timeoutMs: number }

/** A reservation's owner may be slower than its unit's timeout by this much before others recover it. */
const LEASE_MARGIN_MS = 2_000
const LEASE_POLL_MS = 50

interface Action {
  type: string
  message: string
  data?: unknown
}

/**
 * /v2/sign in the core: idempotency by operation id, strict per-queue order, lifecycle rules, the market's
 * signature, the hash-chained receipt journal and the totals for closings, all in one durable unit of work.
 */
export class SignService {
  private readonly running = new Map<string, Running>()
  /** Per queue with an external unit: the tail of its operations in this process. */
  private readonly queueTurns = new Map<string, Promise<void>>()
  /** Reservations whose unit call this process is making now. */
  private readonly inFlight = new Set<string>()
  /** This process, in the reservations it makes: another node waits for their lease, this one need not. */
  private readonly owner = timeOrderedId()

  constructor(
    private readonly ledger: Ledger,
    private readonly cashboxes: Cashboxes,
    private readonly marketFor: (countryCode: number) => Market,
    private readonly clock: () => Date = () => new Date(),
    private readonly observer: SignObserver = NO_SIGN_OBSERVER,
  ) {}

  async sign(command: SignCommand): Promise<string> {
    this.validate(command.cashbox.country, command.receipt)
    const { text: requestText, hash: requestHash } = fingerprint(command.body)
    const key = `${command.cashbox.id}/${command.operationId}`
    const running = this.running.get(key)
    if (running) return this.awaitRunning(running, requestHash, command.lifetimeMs)
    const stored = await this.ledger.findOperation(command.cashbox.id, command.operationId)
    if (stored) return this.replay(stored, requestHash)
    const startedMeanwhile = this.running.get(key)
    if (startedMeanwhile) return this.awaitRunning(startedMeanwhile, requestHash, command.lifetimeMs)

    const done = this.execute(command, requestText, requestHash)
    this.running.set(key, { requestHash, done })
    try {
      return await done
    } finally {
      this.running.delete(key)
    }
  }

  /** Country rules: the receipt's country bits must be the queue's (or 0), then the market's own checks. */
  validate(country: string, receipt: Receipt): void {
    const queueCountry = countryCode(country)
    const receiptCountry = countryOf(receipt.caseCode)
    if (receiptCountry !== 0 && receiptCountry !== queueCountry) {
      throw invalid(
        'ftReceiptCase',
        `country 0x${receiptCountry.toString(16)} does not match the cash box's country ${country} (0x${queueCountry.toString(16)})`,
      )
    }
    this.marketFor(queueCountry).validate(receipt)
  }

  private async awaitRunning(running: Running, requestHash: string, lifetimeMs: number): Promise<string> {
    if (running.requestHash !== requestHash) throw conflict()
    const settled = await settleWithin(running.done, lifetimeMs)
    if (settled === EXPIRED) {
      throw new FiscalError(
        ErrorCode.OperationInProgress,
        `the operation is still running after x-operation-lifetime (${lifetimeMs} ms): retry later with the same x-operation-id and body`,
        { field: 'headers.x-operation-id', reason: 'is still running' },
      )
    }
    return settled
  }

  /**
   * The response of an operation signed before (as a repeated sign would replay it), or undefined when
   * nothing was ever signed under its id; an operation whose signing is still under way is not answered yet.
   */
  async signed(cashboxId: string, operationId: string): Promise<string | undefined> {
    const stored = await this.ledger.findOperation(cashboxId, operationId)
    if (!stored) return undefined
    const response = await this.ledger.queueItemResponse(stored.queueItemId)
    // A reservation's row has no response until its unit's answer is committed.
    if (!response)
      throw new FiscalError(ErrorCode.OperationInProgress, `operation ${operationId} is still being signed`)
    return response
  }

  private async replay(stored: OperationRecord, requestHash: string): Promise<string> {
    if (stored.requestHash !== requestHash) throw conflict()
    const response = await this.ledger.queueItemResponse(stored.queueItemId)
    if (response === undefined) throw new FiscalError(ErrorCode.Internal, 'stored operation has no response')
    return response
  }

  private async execute(command: SignCommand, requestText: string, requestHash: string): Promise<string> {
    const queueId = command.cashbox.queueId
    const market = this.marketFor(countryCode(command.cashbox.country))
    const request: Request = { ...command, requestText, requestHash }
    const response = market.external
      ? // A unit's call runs between two transactions: the queue's next receipt waits for it in this
        // process, and on other nodes for the reservation that it finds on the queue row.
        await this.queueTurn(queueId, () => this.attempt(market, request))
      : await this.attempt(market, request)
    if (request.outcome) this.observer.receiptConcluded(command.cashbox.country, request.outcome)
    return response
  }

  /** Runs `fn` after every earlier turn of the same queue in this process has settled. */
  private queueTurn<T>(queueId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queueTurns.get(queueId) ?? Promise.resolve()
    const turn = previous.then(fn, fn)
    const tail = turn.then(
      () => undefined,
      () => undefined,
    )
    this.queueTurns.set(queueId, tail)
    void tail.then(() => {
      if (this.queueTurns.get(queueId) === tail) this.queueTurns.delete(queueId)
    })
    return turn
  }

  private async attempt(market: Market, request: Request): Promise<string> {
    const { cashbox, receipt } = request
    const signer = await this.cashboxes.signer(cashbox.queueId)
    for (;;) {
      const step = await this.ledger.work(async (work): Promise<FirstStep> => {
        const queue = await work.lockQueue(cashbox.queueId)
        // Under the queue lock no other node can be running this cash box's operations: a hit here is a
        // duplicate that another node committed while this one waited for the lock.
        const duplicate = await work.findOperation(cashbox.id, request.operationId)
        if (duplicate) return { duplicate }
        if (queue.reservation) return { blockedBy: queue.reservation }
        const moment = this.clock()
        const verdict = lifecycleVerdict(queue, receipt)
        const place = { queueItemId: timeOrderedId(), queueRow: queue.currentRow + 1, moment }
        if (verdict !== 'sign') return { response: await this.conclude(work, queue, request, place, verdict) }
        const context = signingContext(work, queue, cashbox.id, place.moment, request.requestHash, signer)
        const sealed = await market.seal(context, receipt)
        if (!needsExternalStep(sealed)) {
          return { response: await this.conclude(work, queue, request, place, sealed) }
        }
        if (!market.external)
          throw new FiscalError(ErrorCode.Internal, `market ${market.name} has no external unit`)
        const timeoutMs = sealed.external.timeoutMs ?? market.external.timeoutMs
        queue.reservation = {
          key: timeOrderedId(),
          operationId: request.operationId,
          cashboxId: cashbox.id,
          queueRow: place.queueRow,
          receiptNumber: context.receiptNumber,
          queueItemId: place.queueItemId,
          moment: place.moment.toISOString(),
          requestText: request.requestText,
          requestHash: request.requestHash,
          unitRequest: sealed.external.request,
          owner: this.owner,
          leaseUntil: place.moment.getTime() + timeoutMs + LEASE_MARGIN_MS,
        }
        await work.saveQueue(queue)
        return { reserved: queue.reservation, timeoutMs }
      })
      if ('response' in step) return step.response
      if ('duplicate' in step) return this.replay(step.duplicate, request.requestHash)
      if ('blockedBy' in step) {
        await this.settleReservation(market, cashbox.queueId, step.blockedBy)
        continue
      }
      const unit = market.external as ExternalUnit
      this.inFlight.add(step.reserved.key)
      try {
        const performed = await callUnit(step.timeoutMs, (signal) =>
          unit.perform(unitCall(cashbox.queueId, step.reserved), signal),
        )
        const result = 'failure' in performed ? performed : { answer: performed.value }
        const response = await this.completeReservation(
          market,
          cashbox.queueId,
          step.reserved,
          result,
          request,
        )
        if (response !== undefined) return response
      } finally {
        this.inFlight.delete(step.reserved.key)
      }
      // Another node recovered the reservation meanwhile: its result is this operation's, or it was released.
      const stored = await this.ledger.findOperation(cashbox.id, request.operationId)
      if (stored) return this.replay(stored, request.requestHash)
    }
  }

  /**
   * The second transaction: the unit's result becomes the receipt, unless the reservation is no longer there
   * (another node recovered it after its lease ran out), then undefined.
   */
  private async completeReservation(
    market: Market,
    queueId: string,
    reservation: Reservation,
    result: UnitResult,
    request?: Request,
  ): Promise<string | undefined> {
    // Read before the unit of work: on SQLite a read of storage inside it would wait for its own transaction.
    const original = request ?? (await this.requestOf(reservation))
    const signer = await this.cashboxes.signer(queueId)
    const unit = market.external as ExternalUnit
    return this.ledger.work(async (work) => {
      const queue = await work.lockQueue(queueId)
      if (queue.reservation?.key !== reservation.key) return undefined
      queue.reservation = null
      const moment = new Date(reservation.moment)
      const context = signingContext(
        work,
        queue,
        reservation.cashboxId,
        moment,
        reservation.requestHash,
        signer,
      )
      if (
        context.receiptNumber !== reservation.receiptNumber ||
        queue.currentRow + 1 !== reservation.queueRow
      ) {
        throw new FiscalError(
          ErrorCode.Internal,
          `queue ${queueId} moved past its reservation ${reservation.key}`,
        )
      }
      const outcome = await unit.complete(context, original.receipt, result)
      const place = { queueItemId: reservation.queueItemId, queueRow: reservation.queueRow, moment }
      return this.conclude(work, queue, original, place, outcome)
    })
  }

  /**
   * A reservation found on the queue that no call of this process is completing: wait while its owner may
   * still be at it (another node sharing the database, within its lease), then ask the unit what it did. An answer is committed
   * as the receipt, "nothing issued" releases the row and number, and no answer at all completes the
   * receipt as failed, as a timeout does.
   */
  private async settleReservation(market: Market, queueId: string, reservation: Reservation): Promise<void> {
    const unit = market.external
    if (!unit) throw new FiscalError(ErrorCode.Internal, `queue reserved for a market without external unit`)
    if (this.inFlight.has(reservation.key)) {
      throw new FiscalError(ErrorCode.Internal, `reservation ${reservation.key} is still in flight`)
    }
    // Where no other node can be writing (SQLite), a reservation not in flight here is a dead process's.
    if (reservation.owner !== this.owner && this.ledger.sharedByNodes) {
      const wait = reservation.leaseUntil - this.clock().getTime()
      if (wait > 0) {
        await delay(Math.min(wait, LEASE_POLL_MS))
        return
      }
    }
    const call = unitCall(queueId, reservation)
    const recovered = await callUnit(unit.timeoutMs, (signal) => unit.recover(call, signal))
    if ('failure' in recovered) {
      await this.completeReservation(market, queueId, reservation, recovered)
    } else if (recovered.value === undefined) {
      await this.ledger.work(async (work) => {
        const queue = await work.lockQueue(queueId)
        if (queue.reservation?.key !== reservation.key) return
        queue.reservation = null
        await work.saveQueue(queue)
      })
    } else {
      await this.completeReservation(market, queueId, reservation, { answer: recovered.value })
    }
  }

  /** Start-up: every reservation left by a process that died between its two transactions. */
  async recoverReservations(): Promise<number> {
    let settled = 0
    const failures: Error[] = []
    for (const { queueId, countryCode } of await this.ledger.reservedQueues()) {
      const market = this.marketFor(countryCode)
      try {
        await this.queueTurn(queueId, async () => {
          for (;;) {
            const reservation = await this.ledger.work(
              async (work) => (await work.lockQueue(queueId)).reservation,
            )
            if (!reservation) return
            await this.settleReservation(market, queueId, reservation)
          }
        })
        settled += 1
      } catch (error) {
        // One queue that cannot be settled now (its next receipt tries again) must not keep the others.
        failures.push(new Error(`queue ${queueId}: ${(error as Error).message}`))
      }
    }
    if (failures.length > 0) {
      throw new AggregateError(
        failures,
        `${failures.length} reservation(s) not recovered: ${failures.map((f) => f.message).join('; ')}`,
      )
    }
    return settled
  }

  /** The request a reservation was made for, read back from its stored canonical body (recovery). */
  private async requestOf(reservation: Reservation): Promise<Request> {
    const cashbox = await this.cashboxes.find(reservation.cashboxId)
    if (!cashbox) throw new FiscalError(ErrorCode.Internal, `no cash box ${reservation.cashboxId}`)
    const body = JSON.parse(reservation.requestText) as ReceiptRequestBody
    return {
      cashbox,
      operationId: reservation.operationId,
      lifetimeMs: 0,
      body,
      receipt: parseReceipt(body),
      requestText: reservation.requestText,
      requestHash: reservation.requestHash,
    }
  }

  /** The receipt's response, written with its journal entries, totals and operation record. */
  private async conclude(
    work: QueueWork,
    queue: QueueState,
    request: Request,
    place: Place,
    decided: MarketOutcome | Exclude<Verdict, 'sign'>,
  ): Promise<string> {
    const { cashbox, receipt } = request
    const actions: Action[] = []
    let signatures: SignatureItem[]
    let stateFlags: bigint
    let identification = ''
    let stateData: unknown
    let cashBoxIdentification: string | undefined
    const journaled = typeof decided !== 'string'
    if (typeof decided !== 'string') {
      const number = queue.receiptNumerator + 1
      signatures = decided.signatures
      if (decided.marketState !== undefined) queue.marketState = decided.marketState
      stateFlags = decided.stateFlags ?? State.Ok
      identification = `ft${number.toString(16).toUpperCase()}#${decided.identificationSuffix ?? ''}`
      stateData = this.applyLifecycle(queue, receipt, place.moment, actions, signatures) ?? decided.stateData
      cashBoxIdentification = decided.cashBoxIdentification
    } else {
      const rejection = rejectionOf(decided, queue)
      signatures = [rejection.signature]
      stateFlags = rejection.state
      actions.push({ type: 'receipt-rejected', message: rejection.signature.Data })
    }
    const response = serializeReceiptResponse({
      queueId: queue.id,
      queueItemId: place.queueItemId,
      queueRow: place.queueRow,
      cashboxId: cashbox.id,
      ...(cashBoxIdentification === undefined ? {} : { cashBoxIdentification }),
      terminalId: receipt.terminalId,
      receiptReference: receipt.reference,
      receiptIdentification: identification,
      moment: place.moment,
      signatures,
      state: v2Code(queue.countryCode, stateFlags),
      stateData,
    })
    await this.persist(work, queue, { request, response, ...place, journaled, actions, stateFlags })
    request.outcome = receiptOutcomeOf(stateFlags)
    return response
  }

  /** Core rules of lifecycle and daily-operation receipts; returns ftStateData for closings. */
  private applyLifecycle(
    queue: QueueState,
    receipt: Receipt,
    moment: Date,
    actions: Action[],
    signatures: SignatureItem[],
  ): unknown {
    const at = moment.toISOString()
    const kind = caseOf(receipt.caseCode)
    const training = hasFlag(receipt.caseCode, ReceiptFlag.Training)
    if (training) {
      signatures.push(infoSignature(queue.countryCode, 'Training receipt', 'TRAINING: not a fiscal sale'))
    }
    if (kind === ReceiptCase.StartReceipt) {
      queue.startMoment = at
      actions.push({ type: 'queue-started', message: 'queue started by start receipt' })
    } else if (kind === ReceiptCase.StopReceipt) {
      queue.stopMoment = at
      actions.push({ type: 'queue-stopped', message: 'queue stopped by stop receipt; it never restarts' })
    } else if (kind === ReceiptCase.ZeroReceipt) {
      actions.push({ type: 'zero-receipt', message: 'zero receipt: signing unit checked' })
    }
    const period = CLOSINGS[kind]
    if (period) {
      const totals = closePeriod(queue.totalizers, period, at)
      actions.push({
        type: `${period}-closing`,
        message: `${period} closing ${totals.closingNumber}`,
        data: totals,
      })
      signatures.push(
        infoSignature(queue.countryCode, `${period} closing ${totals.closingNumber}`, JSON.stringify(totals)),
      )
      return { closing: period, ...totals }
    }
    if (receiptType(receipt.caseCode) <= 1 && !training) addReceipt(queue.totalizers, receipt, at)
    return undefined
  }

  private async persist(
    work: QueueWork,
    queue: QueueState,
    p: {
      request: Request
      response: string
      queueItemId: string
      queueRow: number
      moment: Date
      journaled: boolean
      actions: Action[]
      stateFlags: bigint
    },
  ): Promise<void> {
    const { cashbox, receipt, operationId, requestText, requestHash } = p.request
    const at = p.moment.toISOString()
    const responseHash = sha256Hex(p.response)
    const receiptCase = formatCaseCode(receipt.caseCode)
    await work.insertQueueItem({
      id: p.queueItemId,
      queueId: queue.id,
      row: p.queueRow,
      operationId,
      cbReceiptReference: receipt.reference,
      cbTerminalId: receipt.terminalId ?? null,
      ftReceiptCase: receiptCase,
      cbReceiptMoment: receipt.moment.toISOString(),
      ftMoment: at,
      request: requestText,
      requestHash,
      response: p.response,
      responseHash,
      ftState: formatCaseCode(v2Code(queue.countryCode, p.stateFlags)),
    })
    queue.currentRow = p.queueRow
    if (p.journaled) {
      const number = queue.receiptNumerator + 1
      const link = {
        queueId: queue.id,
        number,
        queueRow: p.queueRow,
        moment: at,
        receiptCase,
        total: formatDecimal(receipt.total),
        requestHash,
        responseHash,
      }
      const hash = chainHash(queue.lastReceiptHash, link)
      await work.insertReceiptJournal({
        id: timeOrderedId(),
        queueItemId: p.queueItemId,
        previousHash: queue.lastReceiptHash,
        hash,
        ...link,
      })
      queue.receiptNumerator = number
      queue.lastReceiptHash = hash
    }
    for (const action of p.actions) {
      queue.actionNumerator += 1
      await work.insertActionJournal({
        id: timeOrderedId(),
        queueId: queue.id,
        number: queue.actionNumerator,
        queueItemId: p.queueItemId,
        moment: at,
        type: action.type,
        message: action.message,
        data: JSON.stringify(action.data ?? {}),
      })
    }
    await work.saveQueue(queue)
    await work.insertOperation({
      cashboxId: cashbox.id,
      operationId,
      kind: 'sign',
      requestHash,
      queueItemId: p.queueItemId,
      createdAt: at,
    })
  }
}

function lifecycleVerdict(queue: QueueState, receipt: Receipt): Verdict {
  const isStart = caseOf(receipt.caseCode) === ReceiptCase.StartReceipt
  if (queue.stopMoment) return 'out-of-operation'
  if (!queue.startMoment) return isStart ? 'sign' : 'out-of-operation'
  return isStart ? 'already-started' : 'sign'
}

function rejectionOf(
  verdict: Exclude<Verdict, 'sign'>,
  queue: QueueState,
): { state: bigint; signature: SignatureItem } {
  const text =
    verdict === 'already-started'
      ? 'The queue is already started: a start receipt (0x4001) is accepted only once.'
      : queue.stopMoment
        ? 'The queue was stopped by a stop receipt (0x4002) and is permanently out of operation.'
        : 'The queue is not started: send a start receipt (ftReceiptCase 0x...4001) first.'
  return {
    state: verdict === 'already-started' ? State.Error : State.OutOfOperation,
    signature: {
      ftSignatureFormat: SignatureFormat.Text,
      ftSignatureType: v2Code(queue.countryCode, SignatureTypeCategory.Failure | 0x1n),
      Caption: verdict === 'already-started' ? 'queue already started' : 'queue out of operation',
      Data: text,
    },
  }
}

function signingContext(
  work: QueueWork,
  queue: QueueState,
  cashboxId: string,
  moment: Date,
  requestHash: string,
  signer: QueueSigner,
): SigningContext {
  return {
    queueId: queue.id,
    cashboxId,
    countryCode: queue.countryCode,
    queueRow: queue.currentRow + 1,
    receiptNumber: queue.receiptNumerator + 1,
    previousHash: queue.lastReceiptHash,
    moment,
    requestHash,
    signer,
    marketState: queue.marketState,
    unit: work.unit,
  }
}

const unitCall = (queueId: string, reservation: Reservation): UnitCall => ({
  key: reservation.key,
  cashboxId: reservation.cashboxId,
  queueId,
  receiptNumber: reservation.receiptNumber,
  request: reservation.unitRequest,
})

/** Calls a unit with no transaction open, aborting it after its timeout; a throw becomes a failure. */
async function callUnit<T>(
  timeoutMs: number,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<{ value: T } | { failure: string }> {
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<{ failure: string }>((resolve) => {
    timer = setTimeout(() => {
      controller.abort()
      resolve({ failure: `the signing unit did not answer within ${timeoutMs} ms` })
    }, timeoutMs)
  })
  const answered = call(controller.signal).then(
    (value) => ({ value }),
    (error: unknown) => ({ failure: `the signing unit failed: ${(error as Error).message}` }),
  )
  try {
    return await Promise.race([answered, timedOut])
  } finally {
    clearTimeout(timer)
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

const infoSignature = (countryCode: number, caption: string, data: string): SignatureItem => ({
  ftSignatureFormat: SignatureFormat.Text,
  ftSignatureType: v2Code(countryCode, SignatureTypeCategory.Info | 0x1n),
  Caption: caption,
  Data: data,
})
