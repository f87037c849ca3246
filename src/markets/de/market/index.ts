import { createHash } from 'node:crypto'
import { ErrorCode, FiscalError, invalid } from '../../../core/errors.ts'
import type {
  ExternalUnit,
  Market,
  MarketOutcome,
  Sealed,
  SignatureItem,
  SigningContext,
  SigningUnitView,
  UnitResult,
} from '../../../core/market.ts'
import { formatDecimal } from '../../../core/money.ts'
import type { Receipt } from '../../../core/receipt.ts'
import { KASSENBELEG_V1, formatCents, kassenbelegV1 } from '../dsfinvk/kassenbeleg.ts'
import { checkFits, checkQuantity, clipped, RECEIPT_COLUMNS } from '../dsfinvk/limits.ts'
import type { ClosingRecord, VorgangLine, VorgangRecord } from '../dsfinvk/records.ts'
import type { DeServices } from '../services.ts'
import type { TransactionView } from '../tss/model.ts'
import { BUCKET_OF, businessCaseOf, centsOf, paymentOf, paymentsForProcessData, vatKeyOf } from './items.ts'
import { callerOf } from './caller.ts'
import { cashboxTssStatus } from './cashbox-tss.ts'
import { berlinDay } from '../local-time.ts'
import { MAX_RECOVERED_CALLS, MAX_REMOTE_TIMEOUT_MS, parsePlan, remoteCallBound } from '../remote/bounds.ts'
import type { RemoteAnswer, RemotePlan } from '../remote/operations.ts'
import type { RemoteTseRecord } from '../remote/ports.ts'
import { FAILED, LocalTssSession, PlannedSession, ReplayedSession, type TseSession } from './tse-session.ts'
import type { DeCashboxRecord, DeStore } from './ports.ts'
import {
  type DeQueueState,
  initialState,
  type OpenTransaction,
  parseState,
  serializeState,
} from './queue-state.ts'
import { bonTypOf, type DeReceiptKind, deReceiptKind, isImplicit } from './receipt-kind.ts'
import {
  closingSignature,
  failureSignature,
  finishedTransactionSignatures,
  recoveredSignature,
  transactionSignatures,
} from './signatures.ts'

export const DE_COUNTRY = 0x4445
const SIGNING_UNIT_FAILED = 0x2n
const SONSTIGER_VORGANG = 'SonstigerVorgang'
const BESTELLUNG_V1 = 'Bestellung-V1'
const ORDER_CASE = 0x3004

const rawSchema = (processType: string, processData: string) => ({
  raw: { process_type: processType, process_data: Buffer.from(processData).toString('base64') },
})

/** What one receipt's TSS work made of it, before anything is written. */
interface Decided {
  signatures: SignatureItem[]
  flags: bigint
  suffix: string
  state: DeQueueState
  zNr: number
  moment: string
  vorgang: VorgangRecord | null
  closing: ClosingRecord | null
}

/** Circuit breaker: after a failure no TSS call until a zero receipt; the operator's switch always holds. */
function circuitOf(context: SigningContext, box: DeCashboxRecord) {
  const state = parseState(context.marketState) ?? initialState()
  const outOfService = box.tssOutOfServiceSince !== null
  return {
    tries: (kind: DeReceiptKind) =>
      !outOfService && (state.failedSince === null || kind === 'zero' || kind === 'start'),
    reason: outOfService
      ? `TSS out of service since ${box.tssOutOfServiceSince}`
      : `TSS failed since ${state.failedSince}: a zero receipt ends the failure`,
  }
}

/**
 * The TSS transaction id of the receipt's new transaction: SIGN DE lets the client choose it, and choosing
 * it from the receipt's place makes a lost answer readable back under the same id.
 */
function transactionIdOf(context: SigningContext): string {
  const hex = createHash('sha256').update(`${context.queueId}/${context.receiptNumber}`).digest('hex')
  const variant = ((Number.parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

/** The explicit-flow key of a receipt: its reference, per terminal. */
const transactionKey = (receipt: Receipt) => `${receipt.terminalId ?? ''}|${receipt.reference}`

/**
 * Germany (KassenSichV): every receipt runs a transaction on the cash box's TSS (BSI TR-03151, the
 * software TSS of src/markets/de/tss) inside the receipt's unit of work, and is kept for the DSFinV-K
 * export. See docs/country-de.md.
 */
export class GermanMarket implements Market {
  readonly name = 'de'

  /** A cash box on a remote TSE (de_remote_tse) is signed through it; others use the local TSS in seal. */
  readonly external: ExternalUnit

  constructor(
    private readonly store: DeStore,
    /** Shared with the SIGN DE API and the CLI (services.ts' deServicesOf). */
    readonly de: DeServices,
  ) {
    this.external = {
      // Each call is bounded by its plan (seal); this bounds a recovery, whose cash box the core does not name.
      timeoutMs: remoteCallBound(MAX_REMOTE_TIMEOUT_MS, MAX_RECOVERED_CALLS),
      perform: async (call, signal) =>
        JSON.stringify(await de.remote.perform(parsePlan(call.request), signal)),
      recover: async (call, signal) => {
        const answer = await de.remote.recover(parsePlan(call.request), signal)
        return answer && JSON.stringify(answer)
      },
      complete: (context, receipt, result) => this.complete(context, receipt, result),
    }
  }

  /** The cash box's TSS as /de/v1/tss shows it; the start receipt creates it. */
  async signingUnits({ queueId }: { queueId: string }): Promise<SigningUnitView[]> {
    if (!(await this.store.cashbox(queueId)))
      return [{ Type: 'TSS', Id: null, State: 'not created: the start receipt creates it' }]
    const tss = await cashboxTssStatus(this.de, queueId)
    return [
      {
        Type: 'TSS',
        Id: tss.serial_number,
        State: tss.in_service ? 'in service' : 'out of service',
        Details: tss,
      },
    ]
  }

  validate(receipt: Receipt): void {
    receipt.chargeItems.forEach((item, i) => {
      vatKeyOf(item, `cbChargeItems[${i}]`)
    })
    const kind = deReceiptKind(receipt)
    const noItems: DeReceiptKind[] = ['start', 'stop', 'zero', 'daily-closing', 'tx-start']
    if (noItems.includes(kind) && (receipt.chargeItems.length > 0 || receipt.payItems.length > 0)) {
      throw invalid('cbChargeItems', `this receipt case (${kind}) carries no charge or pay items`)
    }
    if (kind.startsWith('tx-') && isImplicit(receipt)) {
      throw invalid(
        'ftReceiptCase',
        'start/update/delta/fail-transaction receipts are the explicit flow: they cannot carry the implicit-flow flag 0x0000000100000000',
      )
    }
    checkExportColumns(receipt, kind)
  }

  async seal(context: SigningContext, receipt: Receipt): Promise<Sealed> {
    const kind = deReceiptKind(receipt)
    const remote = await this.de.remote.remoteIn(context.unit, context.queueId)
    let box = await this.store.cashboxIn(context.unit, context.queueId)
    if (kind === 'start') box = await this.initialize(context, box, remote)
    if (!box) {
      throw new FiscalError(
        ErrorCode.MarketNotConfigured,
        'this German cash box has no TSS: it is set up by the start receipt (0x4445200000004001)',
      )
    }
    const breaker = circuitOf(context, box)
    if (!remote) {
      const tss = this.de.tss.within(context.unit)
      const session = new LocalTssSession(
        tss,
        callerOf(context.cashboxId),
        box,
        breaker.tries(kind),
        breaker.reason,
      )
      return this.record(context, await this.decide(context, receipt, session))
    }
    // A remote TSE is called outside every transaction: this pass only names the calls the receipt makes.
    const planned = new PlannedSession(box, breaker.tries(kind), breaker.reason)
    const decided = await this.decide(context, receipt, planned)
    if (planned.operations.length === 0) return this.record(context, decided)
    const plan: RemotePlan = { queueId: context.queueId, tssId: box.tssId, operations: planned.operations }
    return {
      external: {
        request: JSON.stringify(plan),
        timeoutMs: remoteCallBound(remote.timeoutMs, planned.operations.length),
      },
    }
  }

  /** The remote TSE's answers, given to the same receipt logic in the result's transaction. */
  private async complete(
    context: SigningContext,
    receipt: Receipt,
    result: UnitResult,
  ): Promise<MarketOutcome> {
    const box = await this.store.cashboxIn(context.unit, context.queueId)
    if (!box) throw new FiscalError(ErrorCode.Internal, `German cash box ${context.queueId} lost its TSS`)
    const answer: RemoteAnswer =
      'answer' in result
        ? (JSON.parse(result.answer) as RemoteAnswer)
        : // The call as a whole failed (timed out): its first call may have reached the TSE.
          { results: [], failure: result.failure, uncertain: true }
    const breaker = circuitOf(context, box)
    const replayed = new ReplayedSession(answer, box, breaker.tries(deReceiptKind(receipt)), breaker.reason)
    return this.record(context, await this.decide(context, receipt, replayed))
  }

  /** The receipt's TSS work and what it makes of the receipt; nothing is written here. */
  private async decide(context: SigningContext, receipt: Receipt, session: TseSession): Promise<Decided> {
    const kind = deReceiptKind(receipt)
    const state = parseState(context.marketState) ?? initialState()
    const signatures: SignatureItem[] = []
    let suffix = ''
    const zNr = state.closingNumber + 1
    const key = transactionKey(receipt)
    const moment = receipt.moment.toISOString()
    let vorgang: VorgangRecord | null = null
    let closing: ClosingRecord | null = null

    /** A transaction the TSE may have done without its answer reaching the receipt: never started again. */
    const orphan = (txId: string, open: Omit<OpenTransaction, 'txId' | 'lookUp'>) => {
      state.open[`orphan|${txId}`] = {
        txId,
        ...open,
        ...(session.uncertain ? { lookUp: true as const } : {}),
      }
    }

    /**
     * An open transaction whose closing call (finish, cancel) may have reached the TSE: the receipt that
     * closed it is answered, so it is looked up and settled as an orphan, never finished again.
     */
    const abandon = (key: string, open: OpenTransaction) => {
      delete state.open[key]
      orphan(open.txId, open)
    }

    // Looked up before anything else: what the TSE has of a transaction whose last answer was lost.
    let settled = 0
    for (const [openKey, open] of Object.entries(state.open)) {
      if (!open.lookUp) continue
      const view = await session.settle(open.txId)
      if (view === FAILED) break
      delete state.open[openKey]
      if (view?.state === 'CANCELLED') settled += 1
    }

    const cancelOpen = async (only?: (key: string) => boolean) => {
      let cancelled = 0
      for (const [openKey, open] of Object.entries(state.open)) {
        if (only && !only(openKey)) continue
        const view = await session.step(open.txId, open.revision + 1, { state: 'CANCELLED' })
        if (view === FAILED) break
        delete state.open[openKey]
        cancelled += 1
      }
      return cancelled
    }

    /** Start (unless open) and finish one transaction; the Vorgang records what happened. */
    const finishVorgang = async (
      processType: string,
      processData: string,
      open: DeQueueState['open'][string] | undefined,
    ) => {
      let txId = open?.txId
      let revision = open ? open.revision + 1 : 2
      if (!open) {
        txId = transactionIdOf(context)
        const started = await session.start(txId)
        if (started === FAILED) {
          if (session.uncertain) orphan(txId, { number: 0, revision: 0, start: moment })
          return FAILED
        }
        revision = 2
      }
      const view = await session.step(txId as string, revision, {
        state: 'FINISHED',
        schema: rawSchema(processType, processData) as never,
      })
      if (view === FAILED) {
        // Started but not finished: the zero receipt or the daily closing cancels it. A finish of an open
        // transaction that may have reached the TSE ends it for this receipt: looked up, not finished again.
        if (!open) orphan(txId as string, { number: 0, revision: 1, start: moment })
        else if (session.uncertain) abandon(key, open)
        return FAILED
      }
      delete state.open[key]
      return view
    }

    switch (kind) {
      case 'tx-start':
      case 'tx-update':
      case 'tx-delta': {
        const open = state.open[key]
        if (kind === 'tx-start' && open) {
          throw invalid(
            'cbReceiptReference',
            `a TSS transaction (${open.number}) is already open for this reference`,
          )
        }
        if (kind !== 'tx-start' && !open && session.ok) {
          throw invalid(
            'cbReceiptReference',
            'no TSS transaction is open for this reference: start one (0x3008) first',
          )
        }
        let view: TransactionView | typeof FAILED
        if (kind === 'tx-start') {
          const txId = transactionIdOf(context)
          view = await session.start(txId)
          if (view !== FAILED)
            state.open[key] = { txId, number: view.number, revision: 1, start: isoOf(view.timeStart) }
          else if (session.uncertain) orphan(txId, { number: 0, revision: 0, start: moment })
        } else {
          const current = open as NonNullable<typeof open>
          view = await session.step(current.txId, current.revision + 1, {
            state: 'ACTIVE',
            schema: rawSchema(BESTELLUNG_V1, orderData(receipt)) as never,
          })
          if (view !== FAILED) current.revision = view.revision
        }
        if (view !== FAILED) {
          signatures.push(...transactionSignatures(context.countryCode, view))
          suffix = `${{ 'tx-start': 'ST', 'tx-update': 'UT', 'tx-delta': 'DT' }[kind]}${view.number}`
        }
        break
      }
      case 'daily-closing': {
        const cancelled = settled + (await cancelOpen())
        state.closingNumber = zNr
        closing = {
          type: 'closing',
          zNr,
          createdAt: context.moment.toISOString(),
          businessDay: berlinDay(receipt.moment),
          cancelledTransactions: cancelled,
          tseError: session.failure,
        }
        signatures.push(
          closingSignature(
            context.countryCode,
            `Kassenabschluss Z-Nr. ${zNr}`,
            `${cancelled} offene TSE-Transaktion(en) abgebrochen${Object.keys(state.open).length > 0 ? `, ${Object.keys(state.open).length} noch offen (TSE ausgefallen)` : ''}`,
          ),
        )
        suffix = `Z${zNr}`
        break
      }
      default: {
        // A Vorgang: sale, fail-transaction, start, stop, zero, other closings and other log receipts.
        const bonTyp = bonTypOf(receipt, kind)
        const recovering = kind === 'zero' && state.failedSince !== null
        if (kind === 'stop') await cancelOpen()
        let view: TransactionView | typeof FAILED
        let processType = SONSTIGER_VORGANG
        let processData = ''
        let explicit = false
        if (kind === 'tx-fail') {
          const open = state.open[key]
          if (!open && session.ok) {
            throw invalid('cbReceiptReference', 'no TSS transaction is open for this reference')
          }
          processType = KASSENBELEG_V1
          processData = 'AVBelegabbruch^0.00_0.00_0.00_0.00_0.00^'
          view = open ? await session.step(open.txId, open.revision + 1, { state: 'CANCELLED' }) : FAILED
          if (view !== FAILED) delete state.open[key]
          else if (open && session.uncertain) abandon(key, open)
        } else {
          ;({ processType, processData } = vorgangProcess(receipt, kind, bonTyp))
          const open = state.open[key]
          if (open && isImplicit(receipt)) {
            throw invalid(
              'ftReceiptCase',
              `a TSS transaction (${open.number}) is open for this reference: finish it without the implicit-flow flag`,
            )
          }
          explicit = kind === 'sale' && open !== undefined
          view = await finishVorgang(processType, processData, explicit ? open : undefined)
        }
        if (view !== FAILED) {
          signatures.push(...finishedTransactionSignatures(context.countryCode, view))
          suffix = `${explicit ? 'T' : 'IT'}${view.number}`
          if (recovering) {
            const cancelled = settled + (await cancelOpen((k) => k.startsWith('orphan|')))
            signatures.push(
              recoveredSignature(
                context.countryCode,
                `ausgefallen seit ${state.failedSince}, ${state.failedReceipts} Vorgang/Vorgänge ohne TSE, ${cancelled} abgebrochene TSE-Transaktion(en) beendet`,
              ),
            )
            state.failedSince = null
            state.failedReceipts = 0
          }
        }
        if (kind === 'stop' && session.ok) await session.disable()
        vorgang = vorgangOf(context, receipt, bonTyp, view === FAILED ? null : view, session.failure)
      }
    }

    let flags = 0n
    if (!session.ok) {
      flags |= SIGNING_UNIT_FAILED
      state.failedSince ??= moment
      state.failedReceipts += vorgang ? 1 : 0
      signatures.push(
        failureSignature(
          context.countryCode,
          `Sicherheitseinrichtung ausgefallen (${session.failure}); seit ${state.failedSince}, ${state.failedReceipts} Vorgang/Vorgänge ohne TSE; ein Nullbeleg beendet den Ausfall`,
        ),
      )
    }
    return { signatures, flags, suffix, state, zNr, moment, vorgang, closing }
  }

  /** The receipt's DSFinV-K records, written with it; its signatures and the queue's new state. */
  private async record(context: SigningContext, decided: Decided): Promise<MarketOutcome> {
    for (const [kind, data] of [
      ['receipt', decided.vorgang],
      ['closing', decided.closing],
    ] as const) {
      if (!data) continue
      await this.store.insertReceiptIn(context.unit, {
        queueId: context.queueId,
        receiptNumber: context.receiptNumber,
        zNr: decided.zNr,
        kind,
        moment: decided.moment,
        data: JSON.stringify(data),
      })
    }
    return {
      signatures: decided.signatures,
      stateFlags: decided.flags,
      identificationSuffix: decided.suffix,
      marketState: serializeState(decided.state),
    }
  }

  /**
   * The start receipt creates and initializes the cash box's TSS and registers the cash box as its client;
   * a remote TSE was set up before (`fiscalbox de remote-tse`), and the cash box takes its TSS and client.
   */
  private async initialize(
    context: SigningContext,
    existing: DeCashboxRecord | undefined,
    remote: RemoteTseRecord | undefined,
  ) {
    if (existing) return existing
    const caller = callerOf(context.cashboxId)
    if (remote) {
      const box: DeCashboxRecord = {
        queueId: context.queueId,
        organizationId: caller.organizationId,
        tssId: remote.tssId,
        clientId: remote.clientId,
        clientSerial: remote.clientSerial,
        tssOutOfServiceSince: null,
        createdAt: context.moment.toISOString(),
      }
      await this.store.insertCashboxIn(context.unit, box)
      return box
    }
    const box: DeCashboxRecord = {
      queueId: context.queueId,
      organizationId: caller.organizationId,
      tssId: context.queueId,
      clientId: context.cashboxId,
      clientSerial: context.cashboxId,
      tssOutOfServiceSince: null,
      createdAt: context.moment.toISOString(),
    }
    const tss = this.de.tss.within(context.unit)
    try {
      await tss.createTss(caller, box.tssId, { description: `fiscalbox cash box ${context.cashboxId}` })
      await tss.updateTss(caller, box.tssId, { state: 'UNINITIALIZED' })
      await tss.updateTss(caller, box.tssId, { state: 'INITIALIZED' })
      await tss.registerClient(caller, box.tssId, box.clientId, box.clientSerial)
    } catch (error) {
      if (!(error instanceof FiscalError)) throw error
      throw new FiscalError(
        ErrorCode.MarketNotConfigured,
        `the start receipt could not set up the TSS (${error.code}: ${error.message})`,
      )
    }
    await this.store.insertCashboxIn(context.unit, box)
    return box
  }
}

/**
 * Every value of the receipt that the DSFinV-K export writes to a text column fits it, and its quantities
 * fit MENGE: refused here, before anything is signed or written, rather than exported past the schema.
 */
function checkExportColumns(receipt: Receipt, kind: DeReceiptKind): void {
  receipt.chargeItems.forEach((item, i) => {
    checkFits(item.description, `cbChargeItems[${i}].Description`, RECEIPT_COLUMNS.itemText)
    checkQuantity(item.quantity, `cbChargeItems[${i}].Quantity`)
  })
  receipt.payItems.forEach((item, i) => {
    checkFits(item.description, `cbPayItems[${i}].Description`, RECEIPT_COLUMNS.paymentName)
    if (item.currency !== undefined)
      checkFits(item.currency, `cbPayItems[${i}].Currency`, RECEIPT_COLUMNS.currency)
  })
  if (receipt.terminalId !== undefined)
    checkFits(receipt.terminalId, 'cbTerminalID', RECEIPT_COLUMNS.terminalId)
  checkFits(receipt.reference, 'cbReceiptReference', RECEIPT_COLUMNS.reference)
  const previous = receipt.previousReference
  if (Array.isArray(previous))
    previous.forEach((reference, i) => {
      checkFits(reference, `cbPreviousReceiptReference[${i}]`, RECEIPT_COLUMNS.previousReference)
    })
  else if (previous !== undefined)
    checkFits(previous, 'cbPreviousReceiptReference', RECEIPT_COLUMNS.previousReference)
  // processData is composed from the items (Bestellung-V1 escapes their quotes) and the payments.
  const { processType, processData } = vorgangProcess(receipt, kind, bonTypOf(receipt, kind))
  checkFits(
    processData,
    processType === BESTELLUNG_V1 ? 'cbChargeItems' : 'cbPayItems',
    RECEIPT_COLUMNS.processData,
    `the processData (${processType}) the receipt signs`,
  )
}

/** What a Vorgang's TSS transaction finishes with, but for a fail-transaction (AVBelegabbruch). */
function vorgangProcess(
  receipt: Receipt,
  kind: DeReceiptKind,
  bonTyp: string,
): { processType: string; processData: string } {
  if (kind === 'sale') return { processType: KASSENBELEG_V1, processData: kassenbelegData(receipt, bonTyp) }
  if (receipt.caseCode % 0x10000n === BigInt(ORDER_CASE))
    return { processType: BESTELLUNG_V1, processData: orderData(receipt) }
  return { processType: SONSTIGER_VORGANG, processData: '' }
}

const isoOf = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString()

/** Kassenbeleg-V1 of a receipt: gross per rate bucket, payments per means and currency. */
export function kassenbelegData(receipt: Receipt, bonTyp: string): string {
  const gross = [0n, 0n, 0n, 0n, 0n]
  receipt.chargeItems.forEach((item, i) => {
    const bucket = BUCKET_OF[vatKeyOf(item, `cbChargeItems[${i}]`)]
    gross[bucket] = (gross[bucket] as bigint) + item.amount
  })
  return kassenbelegV1(bonTyp, gross.map(centsOf), paymentsForProcessData(receipt.payItems))
}

/** Bestellung-V1: one line per charge item, `quantity;"text";unit price`, lines separated by CR. */
export function orderData(receipt: Receipt): string {
  return receipt.chargeItems
    .map((item) => {
      const unit = item.quantity === 0n ? 0n : (item.amount * 1_000_000n) / item.quantity
      return `${formatDecimal(item.quantity)};"${item.description.replaceAll('"', '""')}";${formatCents(centsOf(unit))}`
    })
    .join('\r')
}

function vorgangOf(
  context: SigningContext,
  receipt: Receipt,
  bonTyp: string,
  view: TransactionView | null,
  failure: string | null,
): VorgangRecord {
  const moment = receipt.moment.toISOString()
  const lines: VorgangLine[] = receipt.chargeItems.map((item, i) => ({
    position: i + 1,
    text: item.description,
    businessCase: businessCaseOf(item),
    vatKey: vatKeyOf(item, `cbChargeItems[${i}]`),
    grossCents: centsOf(item.amount).toString(),
    quantityMicros: item.quantity.toString(),
    storno: (item.caseCode & 0x1_0000n) !== 0n,
    productNumber: null,
  }))
  const previous = receipt.previousReference
  return {
    type: 'vorgang',
    bonId: String(context.receiptNumber),
    bonNr: context.receiptNumber,
    bonTyp,
    reference: receipt.reference,
    terminalId: receipt.terminalId ?? null,
    storno: bonTyp === 'AVBelegstorno',
    start: view ? isoOf(view.timeStart) : moment,
    end: view?.timeEnd ? isoOf(view.timeEnd) : moment,
    lines,
    payments: receipt.payItems.map((item) => {
      const p = paymentOf(item)
      return {
        kind: p.kind,
        name: p.name,
        currency: p.currency,
        cents: p.cents.toString(),
        baseCents: p.baseCents.toString(),
      }
    }),
    references: previous === undefined ? [] : Array.isArray(previous) ? previous : [previous],
    tse: view
      ? {
          tssId: view.tssId,
          number: view.number,
          start: isoOf(view.timeStart),
          end: isoOf(view.timeEnd ?? view.timeStart),
          processType: view.processType,
          processData: Buffer.from(view.processData, 'base64').toString('utf8'),
          signatureCounter: view.signature.counter,
          signature: view.signature.value,
        }
      : null,
    tseError: view ? null : failure && clipped(failure, RECEIPT_COLUMNS.tseError),
  }
}
