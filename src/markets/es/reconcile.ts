import type { SpanishAuthority } from './authority.ts'

/**
 * After an unknown outcome, what to do with each record of the submission: the authority is asked
 * before anything is resent, so that no invoice is ever registered twice.
 */
export interface Reconciliation<R> {
  /** registered with this record's own hash / signature: the submission went through */
  registered: R[]
  /** not at the authority: safe to send again */
  resend: R[]
  /** the authority holds a different record under the same invoice number: needs a person */
  conflicting: R[]
  /** the query itself failed: ask again later, send nothing yet */
  later: R[]
}

export async function reconcile<R>(
  authority: SpanishAuthority<R>,
  records: readonly R[],
): Promise<Reconciliation<R>> {
  const result: Reconciliation<R> = { registered: [], resend: [], conflicting: [], later: [] }
  for (const record of records) {
    const answer = await authority.query(record)
    if (answer.kind === 'registered')
      (answer.sameRecord ? result.registered : result.conflicting).push(record)
    else if (answer.kind === 'not_registered') result.resend.push(record)
    else result.later.push(record)
  }
  return result
}

/** Splits records, in chain order, into submissions of at most `maxBatch`. */
export function batches<R>(records: readonly R[], maxBatch: number): R[][] {
  const out: R[][] = []
  for (let i = 0; i < records.length; i += maxBatch) out.push(records.slice(i, i + maxBatch))
  return out
}
