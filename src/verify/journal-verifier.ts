import { createHash, type KeyObject, verify as ecdsaVerify } from 'node:crypto'
import { JsonlExportVerifier, spkiPublicKey, type VerifyReport, ZERO_HASH } from './jsonl-export.ts'

export type { VerifyReport } from './jsonl-export.ts'

/**
 * Checks a journal export (docs/journal-format.md) from its bytes alone. Written from the format document,
 * not from the writer's code, so that a bug in the writer cannot hide itself.
 */
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex')

interface Header {
  format: string
  queueId: string
  /** Two letters. Country markets (AT, DE) sign under their own law instead of FB1 (see checkResponse). */
  country?: string
  publicKey: string
  receipts: number
}

interface Entry {
  number: number
  queueRow: number
  moment: string
  receiptCase: string
  total: string
  requestHash: string
  responseHash: string
  previousHash: string
  hash: string
  request: string
  response: string
}

export class JournalVerifier extends JsonlExportVerifier<Header, Entry> {
  private key: KeyObject | undefined
  private expectedNumber = 1
  private lastRow = 0
  private previous = ZERO_HASH

  finish(): VerifyReport {
    if (!this.header) this.problem('the file has no header line: is it a fiscalbox journal export?')
    else if (this.header.receipts !== this.report.receipts) {
      this.problem(
        `the header announces ${this.header.receipts} receipts but the file holds ${this.report.receipts}: the export is truncated or padded`,
      )
    }
    this.report.head = this.previous
    return this.report
  }

  protected readHeader(header: Header, lineNumber: number): void {
    if (header.format !== 'fiscalbox-journal-export-v1') {
      this.problem(
        `line ${lineNumber}: format is ${JSON.stringify(header.format)}, expected "fiscalbox-journal-export-v1"`,
      )
    }
    this.key = spkiPublicKey(header.publicKey)
    if (!this.key) this.problem('header: publicKey is not a base64 SPKI public key')
  }

  protected check(e: Entry): void {
    const at = `receipt ${e.number}`
    this.report.receipts += 1
    if (e.number !== this.expectedNumber)
      this.problem(`${at}: expected receipt number ${this.expectedNumber} (gap or duplicate)`)
    this.expectedNumber = e.number + 1
    if (!(e.queueRow > this.lastRow))
      this.problem(`${at}: queue row ${e.queueRow} does not increase after ${this.lastRow}`)
    this.lastRow = e.queueRow
    if (sha256(e.request) !== e.requestHash) this.problem(`${at}: request does not match requestHash`)
    if (sha256(e.response) !== e.responseHash) this.problem(`${at}: response does not match responseHash`)
    if (e.previousHash !== this.previous)
      this.problem(`${at}: previousHash does not link to the hash of receipt ${e.number - 1}`)
    const text = [
      'fiscalbox-journal-v1',
      this.header?.queueId,
      e.number,
      e.queueRow,
      e.moment,
      e.receiptCase,
      e.total,
      e.requestHash,
      e.responseHash,
    ].join('|')
    const hash = createHash('sha256')
      .update(Buffer.from(e.previousHash, 'hex'))
      .update(text, 'utf8')
      .digest('hex')
    if (hash !== e.hash) this.problem(`${at}: hash does not match the chain rule`)
    this.previous = e.hash
    this.checkResponse(e, at)
  }

  private checkResponse(e: Entry, at: string): void {
    let response: {
      ftQueueID?: string
      ftQueueRow?: number
      ftReceiptIdentification?: string
      ftSignatures?: Array<{ Data?: string }>
    }
    try {
      response = JSON.parse(e.response)
    } catch {
      this.problem(`${at}: response is not JSON`)
      return
    }
    if (response.ftQueueID !== this.header?.queueId)
      this.problem(`${at}: response belongs to queue ${response.ftQueueID}`)
    if (response.ftQueueRow !== e.queueRow)
      this.problem(`${at}: response ftQueueRow ${response.ftQueueRow} is not ${e.queueRow}`)
    if (!response.ftReceiptIdentification?.startsWith(`ft${e.number.toString(16).toUpperCase()}#`)) {
      this.problem(
        `${at}: ftReceiptIdentification ${response.ftReceiptIdentification} does not carry number ${e.number}`,
      )
    }
    // The FB1 signature is the generic market's. Country markets sign under their own law instead (AT
    // RKSV, DE TSS) and are checked in their own exports (DEP7, TAR); the chain above covers every
    // receipt either way, so a response that carries no FB1 code has none to check here.
    const code = response.ftSignatures?.find((s) => s.Data?.startsWith('FB1_'))?.Data
    if (!code) return
    const parts = code.split('_')
    const signed = parts.slice(0, 6).join('_')
    const expected = ['FB1', this.header?.queueId, e.number, e.moment, e.total, e.previousHash].join('_')
    if (parts.length < 7 || signed !== expected)
      this.problem(`${at}: signed payload does not match the journal entry`)
    // base64url may contain underscores: the signature is everything after the sixth separator.
    const encoded = parts.slice(6).join('_')
    const signature = Buffer.from(encoded, 'base64url')
    // Only the canonical encoding counts: otherwise unused bits of the last character could change unseen.
    if (signature.toString('base64url') !== encoded)
      this.problem(`${at}: signature is not canonical base64url`)
    if (
      !this.key ||
      !ecdsaVerify('sha256', Buffer.from(signed), { key: this.key, dsaEncoding: 'ieee-p1363' }, signature)
    ) {
      this.problem(`${at}: signature does not verify with the queue's public key`)
    }
  }
}
