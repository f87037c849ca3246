/**
 * The interface the outbox worker uses to hand Spanish records to an authority (AEAT VERI*FACTU or a
 * Basque TicketBAI service), whatever the transport. Three kinds of result, because they call for three
 * different actions:
 *  - `answered`: the service processed the submission; each record has its own outcome. A rejected
 *    record does not affect the others.
 *  - `retryable`: certainly nothing was registered (connection refused, service unavailable, SOAP fault
 *    of the whole envelope, or the service's waiting time not yet over); resend later, as is.
 *  - `unknown`: the request may have been processed (timeout, connection lost after sending). Call
 *    `query` for each record before resending anything, so that no invoice is registered twice.
 */
export interface SpanishAuthority<R> {
  /** Largest number of records one `submit` accepts (1000 for VERI*FACTU, 1 per TicketBAI upload). */
  readonly maxBatch: number
  submit(records: readonly R[], options?: SubmitOptions): Promise<SubmissionResult>
  query(record: R): Promise<QueryResult>
}

export interface SubmitOptions {
  /** Records sent late because of an incident (VERI*FACTU Incidencia=S); decided from the records' age when absent. */
  incident?: boolean
  /** The clock (tests). */
  now?: Date
  /**
   * Awaited right before the request leaves, after the local checks (TiempoEsperaEnvio): from then on the
   * records may reach the service, so a caller that must look them up after a lost answer marks them here,
   * and a submission held back locally marks nothing.
   */
  sending?: () => Promise<void>
}

export type RecordStatus =
  /** registered as sent */
  | 'accepted'
  /** registered, with errors the issuer should correct (e.g. a hash the service computes differently) */
  | 'accepted_with_errors'
  /** not registered; the description says why; resending the same record will fail again */
  | 'rejected'
  /** already registered earlier (a resend after an unknown outcome): treat as done if `query` says it is ours */
  | 'duplicate'

export interface RecordOutcome {
  /** recordKey() of the record this outcome belongs to */
  key: string
  status: RecordStatus
  /** The service's own state word: Correcto, AceptadoConErrores, Incorrecto; TicketBAI 00 / 01 */
  authorityState: string
  code?: string
  description?: string
  /** Secure verification code of the accepted submission, when the service gives one */
  csv?: string
}

export type SubmissionResult =
  | {
      kind: 'answered'
      outcomes: RecordOutcome[]
      /** TiempoEsperaEnvio: seconds the service asks to wait before the next submission (0 = none) */
      waitSeconds: number
      /** the earliest moment the next submission of fewer than maxBatch records may be sent */
      nextSubmissionAt: Date
    }
  | {
      kind: 'retryable'
      reason: string
      retryAfterSeconds?: number
      /**
       * Set when nothing left this process because the service's waiting time (TiempoEsperaEnvio) is not
       * over: the exact moment it is, so that every record held back by it can go in the next submission.
       */
      heldUntil?: Date
    }
  | { kind: 'unknown'; reason: string }

export type QueryResult =
  | {
      kind: 'registered'
      /** true when the registered record carries this record's hash / signature (it is ours) */
      sameRecord: boolean
      authorityState: string
    }
  | { kind: 'not_registered' }
  | { kind: 'retryable'; reason: string }
