import type { Step } from './commands.ts'

/**
 * The line that turns a fiscal receipt into a return ("reso") or a void ("annullo") of an earlier
 * document: `printRecMessage messageType="4"` with `REFUND|VOID {Z:0000} {doc:0000} {ddMMyyyy} {serial}`.
 * An original the POS cannot identify is written `REFUND 0000 0000 {date} ND`.
 */
export type ReferenceKind = 'REFUND' | 'VOID'

export interface DocumentReference {
  kind: ReferenceKind
  zNumber: number
  documentNumber: number
  /** The original's date, `yyyy-MM-dd`. */
  date: string
  /** The device serial that printed the original, or `ND` when unknown. */
  serialNumber: string
}

export const REFERENCE_MESSAGE_TYPE = 4
export const UNKNOWN_SERIAL = 'ND'

const LINE = /^(REFUND|VOID) (\d{4}) (\d{4}) (\d{2})(\d{2})(\d{4}) (\S+)$/
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/

export class ReferenceLineError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ReferenceLineError'
  }
}

export function formatReferenceLine(reference: DocumentReference): string {
  const date = DATE.exec(reference.date)
  if (!date) throw new ReferenceLineError(`date must be yyyy-MM-dd, got ${JSON.stringify(reference.date)}`)
  for (const name of ['zNumber', 'documentNumber'] as const) {
    const value = reference[name]
    if (!Number.isInteger(value) || value < 0 || value > 9999)
      throw new ReferenceLineError(`${name} must be a whole number from 0 to 9999, got ${value}`)
  }
  if (!/^\S+$/.test(reference.serialNumber))
    throw new ReferenceLineError('serialNumber must be the device serial without spaces, or ND')
  const four = (n: number) => String(n).padStart(4, '0')
  return `${reference.kind} ${four(reference.zNumber)} ${four(reference.documentNumber)} ${date[3]}${date[2]}${date[1]} ${reference.serialNumber}`
}

/** The reference a message line holds, or undefined when it is not a REFUND/VOID reference line. */
export function parseReferenceLine(message: string): DocumentReference | undefined {
  const match = LINE.exec(message.trim())
  if (!match) return undefined
  const [, kind, z, doc, day, month, year, serialNumber = ''] = match
  return {
    kind: kind as ReferenceKind,
    zNumber: Number(z),
    documentNumber: Number(doc),
    date: `${year}-${month}-${day}`,
    serialNumber,
  }
}

/** The printRecMessage step that carries a reference. */
export function referenceMessage(reference: DocumentReference): Step<'printRecMessage'> {
  return {
    kind: 'printRecMessage',
    operator: '1',
    messageType: REFERENCE_MESSAGE_TYPE,
    message: formatReferenceLine(reference),
  }
}
