import { createHash } from 'node:crypto'
import type { Fiscalizer, FiscalInput, SealContext, SealedRecord } from '../../core/v1/fiscalizer.ts'

/**
 * The generic record of a v1 transaction, for countries without a fiscal authority (docs/transactions-api-v1.md
 * "Generic fiscal records"). The record text is
 *
 *   FBT1|{location_id}|{environment}|{sequence}|{type}|{transaction_id}|{timestamp}|{amount_cents}|{currency}|{reference}|{previous_hash}
 *
 * where reference is the cancelled transaction's fiscal id for a cancellation and empty for a sale. The
 * chain hash is SHA-256(previous_hash as 32 bytes || record text as UTF-8); the signature is ECDSA P-256
 * SHA-256 over the record text (IEEE P1363 r||s, base64url) with the location's key.
 */
export const GENERIC_RECORD_PREFIX = 'FBT1'

export function genericRecordText(
  context: Pick<SealContext, 'sequence' | 'previousHash'>,
  input: FiscalInput,
) {
  return [
    GENERIC_RECORD_PREFIX,
    input.location.id,
    input.environment,
    context.sequence,
    input.type,
    input.transactionId,
    input.timestamp,
    input.amountCents,
    input.currency,
    input.original?.fiscalId ?? '',
    context.previousHash,
  ].join('|')
}

export const genericChainHash = (previousHash: string, text: string): string =>
  createHash('sha256').update(Buffer.from(previousHash, 'hex')).update(text, 'utf8').digest('hex')

/** fiscal id: FBT-{first 8 hex digits of the location}-{T|L}-{sequence, 6 digits at least}. */
export const genericFiscalId = (locationId: string, environment: string, sequence: number): string =>
  `FBT-${locationId.slice(0, 8).toUpperCase()}-${environment === 'live' ? 'L' : 'T'}-${String(sequence).padStart(6, '0')}`

export async function sealGenericRecord(context: SealContext, input: FiscalInput): Promise<SealedRecord> {
  const text = genericRecordText(context, input)
  const hash = genericChainHash(context.previousHash, text)
  const signature = context.signer.sign(text).toString('base64url')
  const fiscalId = genericFiscalId(input.location.id, input.environment, context.sequence)
  return {
    hash,
    record: text,
    fiscalId,
    payload: {
      fiscalizer: 'generic',
      record: text,
      sequence: context.sequence,
      previous_hash: context.previousHash,
      hash,
      algorithm: context.signer.algorithm,
      signature,
      qr: `${text}|${signature}`,
    },
  }
}

/** Signed and chained in-process: the transaction is fiscalized when it is stored. */
export const genericFiscalizer: Fiscalizer = {
  name: 'generic',
  seal: sealGenericRecord,
}
