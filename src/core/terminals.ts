import { ErrorCode, FiscalError, invalid } from './errors.ts'
import type { TerminalRecord, TerminalStore } from './ports.ts'

/** Past this many a cash box pairs no more: its configuration stays a page a POS can read at start-up. */
export const MAX_TERMINALS = 1000
const MAX_LENGTH = 200

export interface PairingRequest {
  cbTerminalID?: unknown
  Description?: unknown
}

/**
 * Text a receipt can print and a log can show: well-formed Unicode without control characters, at most
 * MAX_LENGTH characters. The same id must always name the same terminal, so it is compared as sent.
 */
function text(value: unknown, field: string, required: boolean): string {
  if (value === undefined && !required) return ''
  if (typeof value !== 'string') throw invalid(field, 'must be a string')
  if (required && value.trim() === '') throw invalid(field, 'must not be empty or blank')
  if (value.length > MAX_LENGTH) throw invalid(field, `must be at most ${MAX_LENGTH} characters`)
  // With the u flag a surrogate matches only when it is lone: a pair is one code point.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f\uD800-\uDFFF]/u.test(value))
    throw invalid(field, 'must be well-formed Unicode without control characters')
  return value
}

/**
 * Terminals of a cash box (the tills, tablets and customer displays that share its credentials). Pairing
 * is idempotent by the terminal's id: the same id and description again change nothing; another
 * description for a paired id is a conflict, not a silent rename.
 */
export class Terminals {
  constructor(private readonly store: TerminalStore) {}

  /** Checks the request before anything is read or written: a bad one is refused whole. */
  parse(request: PairingRequest): { terminalId: string; description: string } {
    return {
      terminalId: text(request.cbTerminalID, 'cbTerminalID', true),
      description: text(request.Description, 'Description', false),
    }
  }

  async pair(cashboxId: string, request: PairingRequest, at: Date): Promise<TerminalRecord> {
    const { terminalId, description } = this.parse(request)
    let paired = await this.store.find(cashboxId, terminalId)
    if (!paired) {
      if ((await this.store.count(cashboxId)) >= MAX_TERMINALS)
        throw new FiscalError(
          ErrorCode.Conflict,
          `this cash box has ${MAX_TERMINALS} terminals paired already: no more can pair`,
          { field: 'cbTerminalID', reason: `a cash box pairs at most ${MAX_TERMINALS} terminals` },
        )
      await this.store.insert({ cashboxId, terminalId, description, pairedAt: at.toISOString() })
      // A call that raced this one may have won: the stored pairing is the answer either way.
      paired = await this.store.find(cashboxId, terminalId)
      if (!paired) throw new Error(`terminal ${terminalId} of cash box ${cashboxId} vanished`)
    }
    if (paired.description !== description)
      throw new FiscalError(
        ErrorCode.Conflict,
        `terminal ${JSON.stringify(terminalId)} is paired with the description ${JSON.stringify(paired.description)}: pair it with that one, or under a new cbTerminalID`,
        { field: 'Description', reason: 'a paired terminal keeps the description it paired with' },
      )
    return paired
  }

  list(cashboxId: string): Promise<TerminalRecord[]> {
    return this.store.list(cashboxId)
  }
}
