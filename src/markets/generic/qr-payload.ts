/**
 * The generic market's receipt code, self-verifiable with the queue's public key:
 * `FB1_{queueId}_{receiptNumber}_{moment}_{total}_{previousHash}_{signature}` where the signature is
 * ECDSA P-256 SHA-256 (IEEE P1363 r||s, base64url) over everything before its last underscore.
 */
export interface GenericPayload {
  queueId: string
  receiptNumber: number
  moment: string
  total: string
  previousHash: string
}

export const PAYLOAD_PREFIX = 'FB1'

export function signedPart(p: GenericPayload): string {
  return [PAYLOAD_PREFIX, p.queueId, p.receiptNumber, p.moment, p.total, p.previousHash].join('_')
}

export function parsePayload(
  code: string,
): (GenericPayload & { signed: string; signature: Buffer }) | undefined {
  const parts = code.split('_')
  if (parts.length !== 7 || parts[0] !== PAYLOAD_PREFIX) return undefined
  const [, queueId = '', number = '', moment = '', total = '', previousHash = '', signature = ''] = parts
  return {
    queueId,
    receiptNumber: Number(number),
    moment,
    total,
    previousHash,
    signed: parts.slice(0, 6).join('_'),
    signature: Buffer.from(signature, 'base64url'),
  }
}
