import type {
  AuthorityClient,
  LookupResult,
  RecordAnswer,
  SubmissionResult,
  SubmitHooks,
} from '../../core/delivery.ts'
import type { RecordOutcome, SpanishAuthority } from './authority.ts'
import { ticketBaiRecordKey, type TicketBaiRecord } from './ticketbai/issue.ts'
import { recordKey, type VerifactuRecord } from './verifactu/records.ts'

export type SpanishRecord = VerifactuRecord | TicketBaiRecord

export function keyOf(value: SpanishRecord): string {
  return 'huella' in value ? recordKey(value) : ticketBaiRecordKey(value)
}

/** What the authority said of a record it holds or refused, before a surface words it for its own store. */
export interface SpanishStatement {
  status: 'accepted' | 'accepted_with_errors' | 'rejected'
  /** The service's own state word: Correcto, AceptadoConErrores, Incorrecto; TicketBAI 00 / 01 */
  state: string
  code?: string
  description?: string
  csv?: string
  /** TiempoEsperaEnvio of the submission's answer, when the AEAT asked for one */
  waitSeconds?: number
  /** Found by a look-up after a lost answer or a duplicate, not answered by a submission */
  reconciled?: true
}

/**
 * The one delivery client of Spain, for /v1 transactions and /v2/sign receipts alike: a Spanish authority
 * (VERI*FACTU or a TicketBAI territory) as core/delivery.ts takes it. `valueOf` reads a surface's record
 * as the Spanish record it carries; `word` turns a statement into what that surface stores.
 */
export class SpanishDelivery<R, A> implements AuthorityClient<R, A> {
  readonly maxBatch: number

  constructor(
    private readonly authority: SpanishAuthority<SpanishRecord>,
    private readonly valueOf: (record: R) => SpanishRecord,
    private readonly word: (statement: SpanishStatement) => A,
  ) {
    this.maxBatch = authority.maxBatch
  }

  /** The AEAT takes altas and anulaciones together; a TicketBAI submission carries one kind. */
  mayShare(first: R, next: R): boolean {
    const a = this.valueOf(first)
    return 'huella' in a || a.kind === this.valueOf(next).kind
  }

  async submit(records: readonly R[], hooks: SubmitHooks): Promise<SubmissionResult<A>> {
    const values = records.map(this.valueOf)
    const result = await this.authority.submit(values, { sending: hooks.sending })
    if (result.kind === 'unknown') return { kind: 'unknown', error: result.reason }
    if (result.kind === 'retryable')
      return {
        kind: 'retryable',
        error: result.reason,
        ...(result.retryAfterSeconds ? { retryAfterMs: result.retryAfterSeconds * 1000 } : {}),
        ...(result.heldUntil ? { heldUntil: result.heldUntil.getTime() } : {}),
      }
    const byKey = new Map(result.outcomes.map((o) => [o.key, o]))
    return {
      kind: 'answered',
      answers: values.map((value) => {
        const outcome = byKey.get(keyOf(value))
        return outcome && this.answerOf(outcome, result.waitSeconds)
      }),
    }
  }

  async query(record: R): Promise<LookupResult<A>> {
    const value = this.valueOf(record)
    const found = await this.authority.query(value)
    if (found.kind === 'retryable') return { kind: 'retryable', error: found.reason }
    if (found.kind === 'not_registered') return found
    if (found.sameRecord)
      return {
        kind: 'registered',
        answer: this.word({ status: 'accepted', state: found.authorityState, reconciled: true }),
      }
    return {
      kind: 'conflicting',
      error: `the authority holds a different record under ${keyOf(value)}: needs a person`,
      answer: this.word({ status: 'rejected', state: found.authorityState }),
    }
  }

  private answerOf(outcome: RecordOutcome, waitSeconds: number): RecordAnswer<A> {
    if (outcome.status === 'duplicate') return { kind: 'duplicate' }
    const answer = this.word({
      status: outcome.status,
      state: outcome.authorityState,
      ...(outcome.code ? { code: outcome.code } : {}),
      ...(outcome.description ? { description: outcome.description } : {}),
      ...(outcome.csv ? { csv: outcome.csv } : {}),
      ...(waitSeconds > 0 ? { waitSeconds } : {}),
    })
    if (outcome.status === 'rejected')
      return {
        kind: 'refused',
        error:
          `rejected by the authority: ${outcome.authorityState} ${outcome.code ?? ''} ${outcome.description ?? ''}`.trim(),
        answer,
      }
    return { kind: 'settled', answer }
  }
}
