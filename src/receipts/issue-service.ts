import { randomBytes } from 'node:crypto'
import { canonicalJson, sha256Hex } from '../core/canonical-json.ts'
import type { Cashboxes } from '../core/cashboxes.ts'
import { ErrorCode, FiscalError, invalid } from '../core/errors.ts'
import type { CashboxRecord } from '../core/ports.ts'
import { buildReceiptDocument, type ReceiptDocument } from './document.ts'
import { matchStoredResponse } from './response-match.ts'

/** A receipt issued as a document: the link's token and when the customer got it. */
export interface IssuedReceipt {
  id: string
  cashboxId: string
  queueId: string
  queueItemId: string
  createdAt: string
  deliveredAt: string | null
  deliveredBy: string | null
}

/** A journaled receipt as stored: the queue item with its receipt journal link. */
export interface StoredReceipt {
  queueItemId: string
  queueRow: number
  request: string
  requestHash: string
  response: string
  responseHash: string
  /** The receipt journal's response hash; absent when the receipt got no number (rejected). */
  journalResponseHash: string | undefined
}

export interface IssuedReceiptStore {
  storedReceipt(queueId: string, queueItemId: string): Promise<StoredReceipt | undefined>
  /** Stores the document unless the receipt has one, and returns the receipt's document either way. */
  issue(receipt: IssuedReceipt): Promise<IssuedReceipt>
  byQueueItem(queueId: string, queueItemId: string): Promise<IssuedReceipt | undefined>
  byId(id: string): Promise<IssuedReceipt | undefined>
  /** Sets the delivery once; returns the document as stored after. */
  markDelivered(id: string, at: string, by: 'pos' | 'viewer'): Promise<IssuedReceipt>
}

export interface IssueRequestBody {
  ReceiptRequest: Record<string, unknown>
  ReceiptResponse: Record<string, unknown>
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * /v2/issue: a signed receipt becomes a document behind a public link with an unguessable id (128 random
 * bits). The POS's copy of the receipt is only a claim: it must match, field for field, what the journal
 * stored when the receipt was signed, and the document is always rendered from the journal's copy.
 */
export class IssueService {
  constructor(
    private readonly store: IssuedReceiptStore,
    private readonly cashboxes: Cashboxes,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async issue(
    cashbox: CashboxRecord,
    body: IssueRequestBody,
  ): Promise<{ issued: IssuedReceipt; queueRow: number }> {
    const response = body.ReceiptResponse
    const queueId = String(response.ftQueueID ?? '').toLowerCase()
    const queueItemId = String(response.ftQueueItemID ?? '').toLowerCase()
    if (!UUID.test(queueItemId))
      throw invalid('ReceiptResponse.ftQueueItemID', 'must be the UUID /v2/sign answered')
    if (queueId !== cashbox.queueId) {
      throw new FiscalError(ErrorCode.NotFound, `queue ${queueId} is not the queue of this cash box`, {
        field: 'ReceiptResponse.ftQueueID',
        reason: "must be this cash box's queue",
      })
    }
    const stored = await this.store.storedReceipt(queueId, queueItemId)
    if (!stored) {
      throw new FiscalError(ErrorCode.NotFound, `no receipt ${queueItemId} in this queue`, {
        field: 'ReceiptResponse.ftQueueItemID',
        reason: 'must name a receipt signed by this cash box',
      })
    }
    checkAgainstJournal(stored, body)
    const issued = await this.store.issue({
      id: randomBytes(16).toString('base64url'),
      cashboxId: cashbox.id,
      queueId,
      queueItemId,
      createdAt: this.clock().toISOString(),
      deliveredAt: null,
      deliveredBy: null,
    })
    return { issued, queueRow: stored.queueRow }
  }

  async delivery(cashbox: CashboxRecord, queueId: string, queueItemId: string): Promise<IssuedReceipt> {
    const issued =
      queueId.toLowerCase() === cashbox.queueId
        ? await this.store.byQueueItem(cashbox.queueId, queueItemId.toLowerCase())
        : undefined
    if (!issued) {
      // Another cash box's queue answers as an unknown one: the same words, no hint that it exists.
      throw new FiscalError(ErrorCode.NotFound, `receipt ${queueItemId} of queue ${queueId} was not issued`, {
        field: 'queueItemId',
        reason: 'no issued receipt of this cash box has this queue and queue item id',
      })
    }
    return issued
  }

  async markDeliveredByPos(
    cashbox: CashboxRecord,
    queueId: string,
    queueItemId: string,
  ): Promise<IssuedReceipt> {
    const issued = await this.delivery(cashbox, queueId, queueItemId)
    return this.store.markDelivered(issued.id, this.clock().toISOString(), 'pos')
  }

  async markDeliveredByViewer(id: string): Promise<IssuedReceipt> {
    const issued = await this.issuedDocument(id)
    return this.store.markDelivered(issued.id, this.clock().toISOString(), 'viewer')
  }

  /** The document behind a public link, rendered from the journal. */
  async document(id: string): Promise<{ document: ReceiptDocument; moment: Date }> {
    const issued = await this.issuedDocument(id)
    const cashbox = await this.cashboxes.find(issued.cashboxId)
    if (!cashbox) throw noSuchDocument()
    return this.journaledDocument(cashbox, issued.queueItemId)
  }

  /** Any receipt of the cash box's journal as a document, issued or not (the operators' dashboard). */
  async journaledDocument(
    cashbox: CashboxRecord,
    queueItemId: string,
  ): Promise<{ document: ReceiptDocument; moment: Date }> {
    const stored = UUID.test(queueItemId)
      ? await this.store.storedReceipt(cashbox.queueId, queueItemId.toLowerCase())
      : undefined
    if (!stored) throw noSuchDocument()
    const moment = new Date(
      String((JSON.parse(stored.response) as { ftReceiptMoment: string }).ftReceiptMoment),
    )
    return {
      document: buildReceiptDocument({
        request: stored.request,
        response: stored.response,
        country: cashbox.country,
        issuer: cashbox.label,
        queueRow: stored.queueRow,
      }),
      moment,
    }
  }

  private async issuedDocument(id: string): Promise<IssuedReceipt> {
    const issued = /^[A-Za-z0-9_-]{22}$/.test(id) ? await this.store.byId(id) : undefined
    if (!issued) throw noSuchDocument()
    return issued
  }
}

/**
 * The POS's ReceiptRequest must be what the journal holds for the receipt (its client sends the object it
 * sent to /v2/sign), and its ReceiptResponse must mean what the journal holds (its client re-serializes it).
 */
function checkAgainstJournal(stored: StoredReceipt, body: IssueRequestBody): void {
  if (stored.journalResponseHash === undefined) {
    throw invalid(
      'ReceiptResponse',
      'is a receipt that was not signed (rejected, no receipt number): only signed receipts can be issued',
    )
  }
  // The journal's own integrity first: the stored response is the one its chain link hashes.
  if (
    sha256Hex(stored.response) !== stored.journalResponseHash ||
    sha256Hex(stored.request) !== stored.requestHash
  ) {
    throw new FiscalError(ErrorCode.Internal, 'the stored receipt does not match its journal hashes')
  }
  matchStoredResponse(body.ReceiptResponse, stored.response)
  if (sha256Hex(canonicalJson(body.ReceiptRequest)) !== stored.requestHash) {
    throw invalid('ReceiptRequest', 'does not match the request stored in the journal for this receipt')
  }
}

/** The one answer to a link that leads nowhere, whatever the reason: nothing to tell a guesser apart. */
const noSuchDocument = (): FiscalError =>
  new FiscalError(ErrorCode.NotFound, 'no such receipt', {
    field: 'id',
    reason: 'no receipt document has this link id',
  })
