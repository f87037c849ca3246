import { createPublicKey, type KeyObject } from 'node:crypto'

/** What a verifier found in one export: how many records, the chain head, and what is wrong. */
export interface VerifyReport {
  receipts: number
  head: string
  problems: string[]
}

export const ZERO_HASH = '0'.repeat(64)

/** A report keeps the first thousand problems: a broken export would otherwise fill the memory. */
const MOST_PROBLEMS = 1000

/**
 * The reading common to the project's JSONL exports (journal, transactions): the first JSON line is the
 * header, every line after it a record, blank lines are passed over and a line that is not JSON is a
 * problem. A subclass checks the header and the records by its own format's rules.
 */
export abstract class JsonlExportVerifier<H, R> {
  protected header: H | undefined
  readonly report: VerifyReport = { receipts: 0, head: ZERO_HASH, problems: [] }

  line(text: string, lineNumber: number): void {
    if (text.trim() === '') return
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      this.problem(`line ${lineNumber}: not JSON`)
      return
    }
    if (!this.header) {
      this.header = value as H
      this.readHeader(value as H, lineNumber)
      return
    }
    this.check(value as R)
  }

  protected abstract readHeader(header: H, lineNumber: number): void

  protected abstract check(record: R): void

  protected problem(text: string): void {
    if (this.report.problems.length < MOST_PROBLEMS) this.report.problems.push(text)
  }
}

/** The public key a header carries as base64 DER SPKI, or undefined when it is not one. */
export function spkiPublicKey(base64: string): KeyObject | undefined {
  try {
    return createPublicKey({ key: Buffer.from(base64, 'base64'), format: 'der', type: 'spki' })
  } catch {
    return undefined
  }
}
