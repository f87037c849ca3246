import { caseOf, ReceiptCase, State } from '../../core/case-codes.ts'
import { ErrorCode, FiscalError, invalid } from '../../core/errors.ts'
import type {
  ExternalUnit,
  Market,
  MarketOutcome,
  Sealed,
  SigningContext,
  SigningUnitView,
  UnitResult,
} from '../../core/market.ts'
import type { Receipt } from '../../core/receipt.ts'
import { MAX_TIMEOUT_MS } from './configuration.ts'
import { customerOf, lotteryCodeOf } from './customer.ts'
import { type DeviceAnswer, type DeviceJob, printedRecord } from './device-job.ts'
import { checkDocument, documentRequest, referenceOf } from './document-request.ts'
import {
  describeFailure,
  type FpmateCommand,
  type FpmateResponse,
  readFiscalReceiptAnswer,
  readZReportAnswer,
  serializeRequest,
} from './fpmate/index.ts'
import type { ItCashboxConfig, ItStore } from './ports.ts'
import { type ItReceiptKind, itReceiptKind } from './receipt-kind.ts'
import { DeviceCalls } from './device-calls.ts'
import { notConfigured } from './services.ts'
import {
  documentSignatures,
  failureSignature,
  four,
  IT_SIGNATURE,
  itSignature,
  type PrintedDocument,
} from './signatures.ts'

/** Beyond its two exchanges with the device, what a call may take (JSON, the store's read of the last document). */
const CALL_MARGIN_MS = 5_000

/** What one call of the unit may take: a document and its read-back, each within the longest timeout. */
const UNIT_TIMEOUT_MS = 2 * MAX_TIMEOUT_MS + CALL_MARGIN_MS

/** IT local state flag (bits 32-43): the RT device is not reachable. */
export const DEVICE_NOT_REACHABLE = 0x1_0000_0000n

const REQUESTS: Record<'closing' | 'status', FpmateCommand> = {
  closing: { root: 'printerFiscalReport', steps: [{ kind: 'printZReport', operator: '1' }] },
  status: { root: 'printerCommand', steps: [{ kind: 'queryPrinterStatus', operator: '1', statusType: 1 }] },
}

const failed = (stateFlags: bigint, message: string): MarketOutcome => ({
  signatures: [failureSignature(message)],
  stateFlags,
})

/**
 * Italy on /v2/sign: the cash box's RT device numbers, prints and stores each documento commerciale. seal()
 * turns the receipt into the device's fpmate request; the device is called with no transaction open
 * (DeviceCalls); complete() turns its answer into the receipt's signatures and records the document's
 * numbers, which a later refund or void names.
 */
export class ItalianMarket implements Market {
  readonly name = 'it'
  readonly external: ExternalUnit
  private readonly device: DeviceCalls

  constructor(private readonly store: ItStore) {
    this.device = new DeviceCalls(store)
    this.external = {
      // Each call is bounded by its cash box's timeout (seal); this bounds a recovery, whose cash box the
      // core does not name.
      timeoutMs: UNIT_TIMEOUT_MS,
      perform: (call, signal) => this.device.perform(call, signal),
      recover: (call, signal) => this.device.recover(call, signal),
      complete: (context, receipt, result) => this.complete(context, receipt, result),
    }
  }

  /** The cash box's RT device as PUT /it/v1/cashbox configured it. */
  async signingUnits({ queueId }: { queueId: string }): Promise<SigningUnitView[]> {
    const config = await this.store.config(queueId)
    if (!config) return [{ Type: 'RT device', Id: null, State: 'not configured: PUT /it/v1/cashbox' }]
    return [{ Type: 'RT device', Id: config.url, State: 'configured', Details: { ...config } }]
  }

  validate(receipt: Receipt): void {
    const kind = itReceiptKind(receipt)
    if (kind.kind === 'document') checkDocument(receipt, kind)
  }

  async seal(context: SigningContext, receipt: Receipt): Promise<Sealed> {
    const kind = itReceiptKind(receipt)
    if (kind.kind === 'none') return lifecycleOutcome(context, receipt)
    const config = await this.store.configIn(context.unit, context.queueId)
    if (!config) throw notConfigured()
    const job = await this.jobOf(context, receipt, kind, config)
    const waiting = config.failedMode ? await this.store.waitingCountIn(context.unit, context.queueId) : 0
    if (waiting > 0) {
      // Failed mode until a zero receipt finds the device back: documents are held without trying the
      // device (nor waiting for its timeout) each time, and the day cannot close before they are printed.
      if (kind.kind === 'document') return this.hold(context, receipt, job, 'held')
      if (kind.kind !== 'status') throw heldFirst(waiting, kind.kind)
      // A recovery of this call gets the unit's own timeout: the resend ends within it, with a margin.
      const budgetMs = UNIT_TIMEOUT_MS - CALL_MARGIN_MS
      return {
        external: { request: JSON.stringify({ ...job, resend: { budgetMs } }), timeoutMs: UNIT_TIMEOUT_MS },
      }
    }
    // The request, then at most one more exchange (the read-back of the last document, or the reset after a
    // refusal), each within the cash box's timeout: the reservation's lease is no longer than that.
    return { external: { request: JSON.stringify(job), timeoutMs: 2 * config.timeoutMs + CALL_MARGIN_MS } }
  }

  private async jobOf(
    context: SigningContext,
    receipt: Receipt,
    kind: Exclude<ItReceiptKind, { kind: 'none' }>,
    config: ItCashboxConfig,
  ): Promise<DeviceJob> {
    const device = { url: config.url, timeoutMs: config.timeoutMs }
    if (kind.kind === 'closing' || kind.kind === 'status')
      return { ...device, expect: kind.kind, xml: serializeRequest(REQUESTS[kind.kind]) }
    if (kind.kind === 'nonFiscal') {
      const lines = receipt.chargeItems.map((item) => item.description)
      const command: FpmateCommand = {
        root: 'printerNonFiscal',
        steps: [
          { kind: 'beginNonFiscal', operator: '1' },
          ...lines.map((data) => ({ kind: 'printNormal', operator: '1', font: 1, data }) as const),
          { kind: 'endNonFiscal', operator: '1' },
        ],
      }
      return { ...device, expect: 'nonFiscal', xml: serializeRequest(command) }
    }
    const reference =
      kind.document === 'sale'
        ? undefined
        : referenceOf(kind.document, await this.originalOf(context, receipt))
    const command = documentRequest(receipt, kind, config.departments, reference)
    const customerId = customerOf(receipt)?.taxId?.value
    const lotteryCode = lotteryCodeOf(receipt)
    const total = receipt.total < 0n ? -receipt.total : receipt.total
    return {
      ...device,
      expect: 'document',
      xml: serializeRequest(command),
      document: {
        kind: kind.document,
        totalCents: Number(total / 10_000n),
        ...(reference ? { reference } : {}),
        ...(customerId ? { customerId } : {}),
        ...(lotteryCode ? { lotteryCode } : {}),
      },
    }
  }

  /** The sale a refund or void names, by its receipt reference; the device needs its numbers. */
  private async originalOf(context: SigningContext, receipt: Receipt) {
    const previous = receipt.previousReference
    const reference = Array.isArray(previous) ? previous[0] : previous
    const original =
      reference === undefined
        ? undefined
        : await this.store.saleOfReferenceIn(context.unit, context.queueId, reference, receipt.terminalId)
    if (!original)
      throw invalid(
        'cbPreviousReceiptReference',
        "names no sale this cash box's RT device printed: a refund or void needs the original's device numbers",
      )
    return original
  }

  /**
   * Failed mode: a document the device cannot take now is held (stored with its request, numbered by
   * fiscalbox, not printed) and answered with ftState 0x2. `sent`: it may have reached the device, whose last
   * document is read before it is sent again.
   */
  private async hold(
    context: SigningContext,
    receipt: Receipt,
    job: DeviceJob,
    state: 'held' | 'sent',
  ): Promise<MarketOutcome> {
    await this.store.holdIn(context.unit, {
      queueId: context.queueId,
      queueRow: context.queueRow,
      receiptNumber: context.receiptNumber,
      receiptReference: receipt.reference,
      terminalId: receipt.terminalId ?? null,
      job: JSON.stringify(job),
      state,
      error: null,
    })
    return {
      signatures: [
        itSignature(
          IT_SIGNATURE.held,
          'RT device not reachable: receipt held',
          `fiscalbox receipt ${context.receiptNumber}, held: the RT device prints it at the next zero receipt that reaches it`,
        ),
      ],
      stateFlags: State.SigningUnitFailed,
    }
  }

  /** The held answer of a document whose device could not be reached, if its cash box is in failed mode. */
  private async holdInFailedMode(
    context: SigningContext,
    receipt: Receipt,
    state: 'held' | 'sent',
  ): Promise<MarketOutcome | undefined> {
    const kind = itReceiptKind(receipt)
    if (kind.kind !== 'document') return undefined
    const config = await this.store.configIn(context.unit, context.queueId)
    if (!config?.failedMode) return undefined
    return this.hold(context, receipt, await this.jobOf(context, receipt, kind, config), state)
  }

  private async complete(
    context: SigningContext,
    receipt: Receipt,
    result: UnitResult,
  ): Promise<MarketOutcome> {
    if ('failure' in result) {
      const held = await this.holdInFailedMode(context, receipt, 'sent')
      if (held) return held
      throw deviceNotReachable(undefined, undefined, result.failure)
    }
    const answer = JSON.parse(result.answer) as DeviceAnswer
    const outcome = await this.outcomeOf(context, receipt, answer)
    if (!answer.job.resend) return outcome
    // A zero receipt of a cash box in failed mode: what it sent, and 0x2 while receipts are still held.
    const report = answer.resend
    return {
      ...outcome,
      stateFlags: (outcome.stateFlags ?? 0n) | (report?.waiting === 0 ? 0n : State.SigningUnitFailed),
      ...(report ? { stateData: { ...(outcome.stateData as object), HeldReceipts: report } } : {}),
    }
  }

  private async outcomeOf(
    context: SigningContext,
    receipt: Receipt,
    answer: DeviceAnswer,
  ): Promise<MarketOutcome> {
    const { job, outcome } = answer
    switch (outcome.type) {
      case 'unknown': {
        const held = await this.holdInFailedMode(context, receipt, 'sent')
        if (held) return held
        // The device may have printed the document: the reservation stays until its last document can be read.
        throw deviceNotReachable(job.url, answer.lastContact, outcome.reason)
      }
      case 'unreachable':
        if (job.expect === 'status') return statusUnreachable(outcome.reason)
        return (
          (await this.holdInFailedMode(context, receipt, 'held')) ??
          failed(
            DEVICE_NOT_REACHABLE | State.Error,
            `RT device not reachable, nothing was printed: ${outcome.reason}`,
          )
        )
      case 'notPrinted':
        return failed(State.Error, `no answer from the RT device, and it printed nothing: ${outcome.reason}`)
      case 'unconfirmed':
        // A status read prints nothing: for a zero receipt that was to send held receipts, no answer is
        // the device still out of reach, and they stay held.
        if (job.resend) return statusUnreachable(outcome.reason)
        return failed(
          State.Error,
          `no answer from the RT device: ${outcome.reason}; check the device before sending again`,
        )
      case 'printed':
        return this.printed(context, receipt, job, outcome.document)
      case 'answered':
        return this.answered(context, receipt, job, outcome.response)
    }
  }

  private answered(
    context: SigningContext,
    receipt: Receipt,
    job: DeviceAnswer['job'],
    response: FpmateResponse,
  ): Promise<MarketOutcome> | MarketOutcome {
    if (!response.success) return failed(State.Error, `the RT device refused: ${describeFailure(response)}`)
    switch (job.expect) {
      case 'document':
        return this.printed(context, receipt, job, readFiscalReceiptAnswer(response))
      case 'closing': {
        const z = readZReportAnswer(response).zNumber
        return {
          signatures: [itSignature(IT_SIGNATURE.zNumber, '<rt-z-number>', four(z))],
          identificationSuffix: `Z${four(z)}`,
        }
      }
      case 'status':
        return { signatures: [], stateData: { PrinterStatus: response.addInfo ?? {} } }
      case 'nonFiscal':
        return { signatures: [] }
    }
  }

  /** A document the device printed: its numbers recorded with the receipt, its signatures answered. */
  private async printed(
    context: SigningContext,
    receipt: Receipt,
    job: DeviceAnswer['job'],
    printed: PrintedDocument,
  ): Promise<MarketOutcome> {
    const document = job.document
    if (!document) throw new FiscalError(ErrorCode.Internal, 'a printed document without its job')
    const place = {
      queueId: context.queueId,
      queueRow: context.queueRow,
      receiptReference: receipt.reference,
      terminalId: receipt.terminalId ?? null,
    }
    await this.store.insertDocumentIn(context.unit, printedRecord(place, document, printed))
    return {
      signatures: documentSignatures(printed, document, printed.serialNumber),
      identificationSuffix: `${four(printed.zNumber)}-${four(printed.documentNumber)}`,
      cashBoxIdentification: printed.serialNumber,
    }
  }
}

/** A zero receipt whose status read did not reach the device. */
const statusUnreachable = (reason: string): MarketOutcome => ({
  signatures: [],
  stateFlags: DEVICE_NOT_REACHABLE,
  stateData: { PrinterStatus: null, error: reason },
})

/** Start and stop receipts, training and the cases the law asks nothing of: nothing goes to the device. */
function lifecycleOutcome(context: SigningContext, receipt: Receipt): MarketOutcome {
  const kind = caseOf(receipt.caseCode)
  if (kind === ReceiptCase.StartReceipt)
    return {
      signatures: [
        itSignature(IT_SIGNATURE.started, 'Initial-operation receipt', `Queue-ID: ${context.queueId}`),
      ],
    }
  if (kind === ReceiptCase.StopReceipt)
    return {
      signatures: [
        itSignature(IT_SIGNATURE.stopped, 'Out-of-operation receipt', `Queue-ID: ${context.queueId}`),
      ],
    }
  return { signatures: [] }
}

/**
 * Failed mode: the Z report closes the day's documents, so the held ones go to the device first; and a
 * non-fiscal print would become the device's last document, which a held receipt that may have been printed
 * is looked for as before it is sent again.
 */
const heldFirst = (waiting: number, kind: 'closing' | 'nonFiscal') =>
  new FiscalError(
    ErrorCode.Conflict,
    `${waiting} receipt(s) of this cash box are held while its RT device could not be reached: send a zero receipt (0x2000) that reaches the device, which prints them, then the ${kind === 'closing' ? 'closing' : 'non-fiscal print'}`,
    {
      field: 'ftReceiptCase',
      reason: `no ${kind === 'closing' ? 'closing' : 'non-fiscal print'} while receipts are held (failed mode)`,
    },
  )

/** The POS System API's device_not_reachable: the receipt cannot be completed until the device answers. */
const deviceNotReachable = (deviceId: string | undefined, lastContact: string | undefined, reason: string) =>
  new FiscalError(
    ErrorCode.DeviceNotReachable,
    `RT device is not responding: ${reason}. The receipt is completed from the device's last document once it answers: send it again with the same x-operation-id`,
    undefined,
    { details: { ...(deviceId ? { deviceId } : {}), ...(lastContact ? { lastContact } : {}) } },
  )
