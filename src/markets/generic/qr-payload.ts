/**
 * The generic market's receipt code, self-verifiable with the queue's public key:
 * `FB1_{queueId}_{receiptNumber}_{moment}_{total}_{previousHash}_{signature}` where the signature is
 * ECDSA P-256 SHA-256 (IEEE P1363 r||s, base64url) over the first six fields joined by underscores.
 * base64url may itself contain underscores: the signature is everything after the sixth underscore.
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
