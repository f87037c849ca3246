import { createHash, type KeyObject, verify as ecdsaVerify } from 'node:crypto'
import { JsonlExportVerifier, spkiPublicKey, type VerifyReport, ZERO_HASH } from './jsonl-export.ts'

/**
 * Checks a transactions export (docs/transactions-api-v1.md "Generic fiscal records" and "Export") from
 * its bytes alone, written from that document and not from the producer's code: numbering without gaps,
 * the hash chain, the record text's own fields, every signature, and the generic fiscal ids.
 */
interface Header {
  format: string
  location_id: string
  environment: string
  public_key: string
  records: number
}

interface Line {
  sequence: number
  transaction_id: string
  type: string
  fiscal_id: string | null
  record: string
  previous_hash: string
  hash: string
  signature: string | null
}

export class TransactionsVerifier extends JsonlExportVerifier<Header, Line> {
  private key: KeyObject | undefined
  private expected = 1
  private previous = ZERO_HASH

  finish(): VerifyReport {
    if (!this.header) this.problem('the file is empty')
    else if (this.report.receipts !== this.header.records) {
      this.problem(
        `the header announces ${this.header.records} records, the file holds ${this.report.receipts}`,
      )
    }
    this.report.head = this.previous
    return this.report
  }

  protected readHeader(header: Header): void {
    if (header.format !== 'fiscalbox-transactions-export-v1')
      this.problem(`unknown format ${String(header.format)}`)
    this.key = spkiPublicKey(header.public_key)
    if (!this.key) this.problem('the header public_key is not a SPKI public key')
  }

  protected check(line: Line): void {
    const header = this.header as Header
    const at = `record ${line.sequence}`
    this.report.receipts += 1
    if (line.sequence !== this.expected)
      this.problem(`${at}: expected number ${this.expected} (a gap or a fork)`)
    if (line.previous_hash !== this.previous)
      this.problem(`${at}: previous_hash does not match the record before`)
    const fields = String(line.record).split('|')
    const [prefix, locationId, environment, sequence, type, transactionId, , amount, , , previousHash] =
      fields
    if (fields.length !== 11 || prefix !== 'FBT1')
      this.problem(`${at}: the record text is not FBT1 with 11 fields`)
    if (locationId !== header.location_id) this.problem(`${at}: the record names another location`)
    if (environment !== header.environment) this.problem(`${at}: the record names another environment`)
    if (Number(sequence) !== line.sequence) this.problem(`${at}: the record text carries number ${sequence}`)
    if (type !== line.type) this.problem(`${at}: the record text carries type ${type}`)
    if (transactionId !== line.transaction_id)
      this.problem(`${at}: the record text names another transaction`)
    if (!/^\d+$/.test(amount ?? '')) this.problem(`${at}: the amount is not whole cents`)
    if (previousHash !== this.previous) this.problem(`${at}: the record text chains to another hash`)
    const hash = createHash('sha256')
      .update(Buffer.from(this.previous, 'hex'))
      .update(line.record, 'utf8')
      .digest('hex')
    if (line.hash !== hash) this.problem(`${at}: hash is not SHA-256(previous || record)`)
    const signed =
      this.key !== undefined &&
      typeof line.signature === 'string' &&
      ecdsaVerify(
        'sha256',
        Buffer.from(line.record, 'utf8'),
        { key: this.key, dsaEncoding: 'ieee-p1363' },
        Buffer.from(line.signature, 'base64url'),
      )
    if (!signed) this.problem(`${at}: the signature does not verify with the location's public key`)
    if (line.fiscal_id?.startsWith('FBT-')) {
      const id = `FBT-${header.location_id.slice(0, 8).toUpperCase()}-${header.environment === 'live' ? 'L' : 'T'}-${String(line.sequence).padStart(6, '0')}`
      if (line.fiscal_id !== id) this.problem(`${at}: fiscal_id should be ${id}`)
    }
    this.expected = line.sequence + 1
    this.previous = line.hash
  }
}
