import type { FpmateCommand, FpmateResponse, LastDocument } from './fpmate/index.ts'
import type { ItDocument } from './ports.ts'

/** Clears a document a refusal may have left open on the device, so that the next one starts clean. */
export const RESET: FpmateCommand = {
  root: 'printerCommand',
  steps: [{ kind: 'resetPrinter', operator: '1' }],
}

/**
 * Failures of the device's web service waiting for its own fiscal firmware: the firmware may still have
 * printed, so these answers are no refusal but no answer at all.
 */
const NO_ANSWER_CODES = new Set([
  'LAN_TIME_OUT',
  'LAN_ERROR',
  'FP_NO_ANSWER',
  'FP_NO_ANSWER_NETWORK',
  'TM_NO_ANSWER',
])

/** An answer that says nothing of whether the document was printed. */
export const isNoAnswer = (response: FpmateResponse): boolean =>
  !response.success && NO_ANSWER_CODES.has(response.code)

/**
 * Whether the device's last document is the one a call sent: fiscal, of the same total, and numbered
 * after the newest document the cash box recorded (or the first one it will record).
 */
export function isThisDocument(
  last: LastDocument,
  totalCents: number,
  recorded: ItDocument | undefined,
): boolean {
  if (!last.fiscal || last.amount !== totalCents) return false
  if (!recorded || last.serialNumber !== recorded.serial) return true
  return (
    last.zNumber > recorded.zNumber ||
    (last.zNumber === recorded.zNumber && last.documentNumber > recorded.docNumber)
  )
}
