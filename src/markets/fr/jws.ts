import { createHash } from 'node:crypto'
import type { QueueSigner } from '../../core/market.ts'

/** base64url of {"alg":"ES256","typ":"JWT"}: the protected header of every French entry (fr.md §2). */
export const JWS_HEADER = 'eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9'

/**
 * A compact JWS (RFC 7515) over the JSON payload, signed ES256 with the queue's key. The signature is the
 * 64-byte r||s of RFC 7518 §3.4 (the queue signer's IEEE P1363 output), not DER: any JOSE library verifies it.
 */
export function signEntry(signer: QueueSigner, payload: object): string {
  const input = `${JWS_HEADER}.${Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url')}`
  return `${input}.${signer.sign(input).toString('base64url')}`
}

/**
 * What the next entry of the same chain carries in `hash`: base64 SHA-256 of the signing input
 * (header.payload, ASCII), as fiskaltrust's FR chains do.
 */
export const chainValue = (jws: string): string =>
  createHash('sha256')
    .update(jws.slice(0, jws.lastIndexOf('.')), 'ascii')
    .digest('base64')

/** The payload of a compact JWS (not verified: verifiers check the signature first). */
export const payloadOf = (jws: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>
