import { canonicalJson } from '../core/canonical-json.ts'
import { parseCaseCode } from '../core/case-codes.ts'
import { invalid } from '../core/errors.ts'
import { parseMoment } from '../core/receipt.ts'

/**
 * Whether the ReceiptResponse a POS re-sends to /v2/issue is the one the journal stored, by meaning: a
 * client that deserialized the response into its own model writes it back in its own way. fiskaltrust's
 * devkit writes case codes as JSON numbers, ftReceiptMoment with 7 fractional digits, GUIDs in lower
 * case, and leaves out what its model does not carry (cbTerminalID, ftStateData) or holds at its default
 * (null, an ftSignatureType of 0). So: case codes compare as 64-bit values, moments as instants (to the
 * millisecond the journal keeps), ids without regard to case; a member may be left out or null unless
 * the receipt cannot be told without it; a member the stored response does not have is refused.
 */
type Same = (sent: unknown, stored: unknown, field: string) => boolean

const sameText: Same = (sent, stored) => sent === stored
const sameId: Same = (sent, stored) =>
  typeof sent === 'string' && typeof stored === 'string' && sent.toLowerCase() === stored.toLowerCase()
const sameNumber: Same = (sent, stored) =>
  (typeof sent === 'number' || (typeof sent === 'string' && /^\d{1,20}$/.test(sent))) &&
  String(sent) === String(stored)
const sameCode: Same = (sent, stored, field) => parseCaseCode(sent, field) === parseCaseCode(stored, field)
const sameMoment: Same = (sent, stored, field) =>
  typeof sent === 'string' && parseMoment(sent, field).getTime() === Date.parse(String(stored))
const sameJson: Same = (sent, stored) => canonicalJson(sent) === canonicalJson(stored)

interface Rule {
  same: Same
  /** the receipt cannot be told without it: a client's model always carries it */
  required?: boolean
  /** what a member left out stands for: the default a .NET client does not write */
  absent?: unknown
}

const RESPONSE: Record<string, Rule> = {
  ftQueueID: { same: sameId, required: true },
  ftQueueItemID: { same: sameId, required: true },
  ftQueueRow: { same: sameNumber },
  ftCashBoxIdentification: { same: sameText, required: true },
  ftCashBoxID: { same: sameId },
  cbTerminalID: { same: sameText },
  cbReceiptReference: { same: sameText },
  ftReceiptIdentification: { same: sameText, required: true },
  ftReceiptMoment: { same: sameMoment, required: true },
  ftSignatures: { same: sameSignatures, required: true },
  ftState: { same: sameCode, required: true },
  ftStateData: { same: sameJson },
}

const SIGNATURE: Record<string, Rule> = {
  ftSignatureFormat: { same: sameCode, required: true },
  ftSignatureType: { same: sameCode, absent: 0 },
  Caption: { same: sameText, absent: '' },
  Data: { same: sameText, required: true },
}

const MISMATCH = 'does not match the signed receipt stored in the journal: send it as /v2/sign answered it'

function matchObject(
  sent: unknown,
  stored: Record<string, unknown>,
  rules: Record<string, Rule>,
  at: string,
): void {
  if (typeof sent !== 'object' || sent === null || Array.isArray(sent)) throw invalid(at, 'must be an object')
  const given = sent as Record<string, unknown>
  for (const key of Object.keys(given)) {
    if (!(key in rules) || (!(key in stored) && given[key] !== null)) {
      throw invalid(`${at}.${key}`, 'is not a member of the signed receipt stored in the journal')
    }
  }
  for (const [key, rule] of Object.entries(rules)) {
    const field = `${at}.${key}`
    const value = given[key]
    if (value === undefined || value === null) {
      if (rule.required) throw invalid(field, `is required: ${MISMATCH}`)
      if ('absent' in rule && key in stored && !rule.same(rule.absent, stored[key], field)) {
        throw invalid(field, MISMATCH)
      }
      continue
    }
    if (!(key in stored) || !rule.same(value, stored[key], field)) throw invalid(field, MISMATCH)
  }
}

function sameSignatures(sent: unknown, stored: unknown, field: string): boolean {
  if (!Array.isArray(sent) || !Array.isArray(stored) || sent.length !== stored.length) return false
  sent.forEach((signature, i) => matchObject(signature, stored[i], SIGNATURE, `${field}[${i}]`))
  return true
}

/** Throws a 400 naming the first member of `sent` that does not mean what the stored response says. */
export function matchStoredResponse(sent: unknown, storedText: string): void {
  matchObject(sent, JSON.parse(storedText) as Record<string, unknown>, RESPONSE, 'ReceiptResponse')
}
