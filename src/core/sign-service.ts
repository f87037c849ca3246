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
import type { Market, SignatureItem } from './market.ts'
import { formatDecimal } from './money.ts'
import { EXPIRED, fingerprint, operationConflict as conflict, settleWithin } from './operations.ts'
import type { CashboxRecord, Ledger, OperationRecord, QueueState, QueueWork } from './ports.ts'
import type { Receipt, ReceiptRequestBody } from './receipt.ts'
import { serializeReceiptResponse } from './receipt-response.ts'
import { addReceipt, closePeriod, type Period } from './totalizers.ts'
import { timeOrderedId } from './time-ordered-id.ts'

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

  constructor(
    private readonly ledger: Ledger,
    private readonly cashboxes: Cashboxes,
    private readonly marketFor: (countryCode: number) => Market,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async sign(command: SignCommand): Promise<string> {
    this.validateForQueue(command)
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
  private validateForQueue({ cashbox, receipt }: SignCommand): void {
    const queueCountry = countryCode(cashbox.country)
    const receiptCountry = countryOf(receipt.caseCode)
    if (receiptCountry !== 0 && receiptCountry !== queueCountry) {
      throw invalid(
        'ftReceiptCase',
        `country 0x${receiptCountry.toString(16)} does not match the cash box's country ${cashbox.country} (0x${queueCountry.toString(16)})`,
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

  private async replay(stored: OperationRecord, requestHash: string): Promise<string> {
    if (stored.requestHash !== requestHash) throw conflict()
    const response = await this.ledger.queueItemResponse(stored.queueItemId)
    if (response === undefined) throw new FiscalError(ErrorCode.Internal, 'stored operation has no response')
    return response
  }

  private async execute(command: SignCommand, requestText: string, requestHash: string): Promise<string> {
    const { cashbox, receipt } = command
    const signer = await this.cashboxes.signer(cashbox.queueId)
    const outcome = await this.ledger.work(
      async (work): Promise<{ duplicate: OperationRecord } | { response: string }> => {
        const queue = await work.lockQueue(cashbox.queueId)
        // Under the queue lock no other node can be running this cash box's operations: a hit here is a
        // duplicate that another node committed while this one waited for the lock.
        const duplicate = await work.findOperation(cashbox.id, command.operationId)
        if (duplicate) return { duplicate }
        const market = this.marketFor(queue.countryCode)
        const moment = this.clock()
        const verdict = lifecycleVerdict(queue, receipt)
        const queueItemId = timeOrderedId()
        const queueRow = queue.currentRow + 1
        const actions: Action[] = []
        let signatures: SignatureItem[]
        let stateFlags: bigint
        let identification = ''
        let stateData: unknown
        const journaled = verdict === 'sign'
        if (verdict === 'sign') {
          const number = queue.receiptNumerator + 1
          const result = await market.sign(
            {
              queueId: queue.id,
              cashboxId: cashbox.id,
              countryCode: queue.countryCode,
              queueRow,
              receiptNumber: number,
              previousHash: queue.lastReceiptHash,
              moment,
              requestHash,
              signer,
              marketState: queue.marketState,
              unit: work.unit,
            },
            receipt,
          )
          signatures = result.signatures
          if (result.marketState !== undefined) queue.marketState = result.marketState
          stateFlags = result.stateFlags ?? State.Ok
          identification = `ft${number.toString(16).toUpperCase()}#${result.identificationSuffix ?? ''}`
          stateData = this.applyLifecycle(queue, receipt, moment, actions, signatures)
        } else {
          const rejection = rejectionOf(verdict, queue)
          signatures = [rejection.signature]
          stateFlags = rejection.state
          actions.push({ type: 'receipt-rejected', message: rejection.signature.Data })
        }
        const response = serializeReceiptResponse({
          queueId: queue.id,
          queueItemId,
          queueRow,
          cashboxId: cashbox.id,
          terminalId: receipt.terminalId,
          receiptReference: receipt.reference,
          receiptIdentification: identification,
          moment,
          signatures,
          state: v2Code(queue.countryCode, stateFlags),
          stateData,
        })
        await this.persist(work, queue, {
          command,
          requestText,
          requestHash,
          response,
          queueItemId,
          queueRow,
          moment,
          journaled,
          actions,
          stateFlags,
        })
        return { response }
      },
    )
    if ('duplicate' in outcome) return this.replay(outcome.duplicate, requestHash)
    return outcome.response
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
      command: SignCommand
      requestText: string
      requestHash: string
      response: string
      queueItemId: string
      queueRow: number
      moment: Date
      journaled: boolean
      actions: Action[]
      stateFlags: bigint
    },
  ): Promise<void> {
    const { cashbox, receipt, operationId } = p.command
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
      request: p.requestText,
      requestHash: p.requestHash,
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
        requestHash: p.requestHash,
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
      requestHash: p.requestHash,
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

const infoSignature = (countryCode: number, caption: string, data: string): SignatureItem => ({
  ftSignatureFormat: SignatureFormat.Text,
  ftSignatureType: v2Code(countryCode, SignatureTypeCategory.Info | 0x1n),
  Caption: caption,
  Data: data,
})
