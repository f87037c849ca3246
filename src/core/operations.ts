import { canonicalJson, sha256Hex } from './canonical-json.ts'
import { ErrorCode, FiscalError } from './errors.ts'

/**
 * The x-operation-id rules every operation of the POS System API shares (/v2/sign, /v2/pay): a body is
 * compared by its canonical text's hash, the same id with another body is a conflict, and a duplicate of a
 * running operation waits at most x-operation-lifetime for it.
 */
export function fingerprint(body: unknown): { text: string; hash: string } {
  const text = canonicalJson(body)
  return { text, hash: sha256Hex(text) }
}

export const operationConflict = () =>
  new FiscalError(
    ErrorCode.OperationConflict,
    'x-operation-id was already used with a different request body: retries must send the same body, new operations a new id',
    { field: 'headers.x-operation-id', reason: 'was already used with a different body' },
  )

export const EXPIRED: unique symbol = Symbol('expired')

/** The promise's value, or EXPIRED when it has not settled within `ms` (the promise itself goes on). */
export async function settleWithin<T>(promise: Promise<T>, ms: number): Promise<T | typeof EXPIRED> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<typeof EXPIRED>((resolve) => {
    timer = setTimeout(() => resolve(EXPIRED), ms)
  })
  try {
    return await Promise.race([promise, expired])
  } finally {
    clearTimeout(timer)
  }
}
