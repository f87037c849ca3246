import type { UnitOfWork } from '../../../core/ports.ts'
import type { JobScope } from '../../../core/outbox.ts'
import type { SpainDocument } from '../documents.ts'
import type { Territory } from '../ticketbai/territories.ts'
import type { OpenJobStatus } from '../../module.ts'

/** The Spanish configuration of one ES cash box (PUT /es/v1/cashbox, `fiscalbox es configure`). */
export interface EsCashboxConfig {
  system: 'verifactu' | 'ticketbai'
  /** TicketBAI only: the foral territory the records go to */
  territory?: Territory
  /** the issuer (obligado a expedir): NIF and legal name */
  nif: string
  name: string
  /** series of invoices and of rectifying invoices (Spanish law keeps rectifying invoices apart) */
  series: string
  rectifyingSeries: string
  /** test: records go to the authority simulator; production: to the authority */
  environment: 'test' | 'production'
  /**
   * The cash box of a location of the transactions API v1, in one environment: its records are the
   * location's transactions (receipt reference = transaction id), one VERI*FACTU installation
   * `{location id}-{environment}`.
   */
  location?: { id: string; environment: 'test' | 'live' }
  /**
   * The account's stored certificate (core/certificates) that signs the cash box's TicketBAI invoices and
   * authenticates its submissions: a location's country_config.certificate_id.
   */
  certificateId?: string
}

/** pending until the authority answered; failed_permanent = its submission job went to the dead letter. */
export const ES_RECORD_STATUSES = [
  'pending',
  'accepted',
  'accepted_with_errors',
  'rejected',
  'failed_permanent',
] as const
export type EsRecordStatus = (typeof ES_RECORD_STATUSES)[number]

/** One record of a cash box's chain: an invoice (alta) or a cancellation (anulacion), and its submission. */
export interface EsRecord {
  queueId: string
  /** position in the cash box's chain, 1, 2, 3 ... */
  seq: number
  /** ftQueueRow of the receipt that made it */
  queueRow: number
  receiptReference: string
  invoiceNumber: string
  kind: 'alta' | 'anulacion'
  /** F1, F2, R1 or R5; null for a cancellation */
  invoiceType: string | null
  document: SpainDocument
  status: EsRecordStatus
  /** the authority's answer (state, code, description, csv), once there is one */
  authority: Record<string, unknown> | null
  /** when it was first handed to the authority: from then on it is looked up before being sent again */
  sentAt: string | null
  createdAt: string
  updatedAt: string
}

/** A record as GET /es/v1/records lists it: with the batch window its submission is held for, if any. */
export interface EsListedRecord extends EsRecord {
  held: { window: string; until: string } | null
}

export type NewEsRecord = Omit<EsRecord, 'status' | 'authority' | 'sentAt' | 'updatedAt'>

export interface EsRecordQuery {
  afterSeq: number
  limit: number
  status?: EsRecordStatus
  queueRow?: number
}

/** What the Spanish market needs from storage; store.ts implements it with Kysely. */
export interface EsStore {
  config(queueId: string): Promise<EsCashboxConfig | undefined>
  /** Sets the configuration unless the cash box has records already; false when it has. */
  saveConfig(queueId: string, config: EsCashboxConfig, at: string): Promise<boolean>
  records(queueId: string, query: EsRecordQuery): Promise<EsRecord[]>
  /** Of these records, those whose submission job is held for a batch window past `now`: seq -> hold. */
  heldOf(
    queueId: string,
    seqs: readonly number[],
    now: number,
  ): Promise<Map<number, { window: string; until: number }>>
  recordsBySeq(queueId: string, seqs: readonly number[]): Promise<EsRecord[]>
  /** seqs of the cash box's first `limit` records still pending below `seq`, in chain order */
  pendingBelow(queueId: string, seq: number, limit: number): Promise<number[]>
  /** The open submission job of a record (pending, failed or claimed), when it has one. */
  openSubmission(queueId: string, seq: number): Promise<{ status: OpenJobStatus; runAt: number } | undefined>
  /** Makes the cash box's submission jobs that wait past `now` for an earlier record of the chain due now. */
  releaseSubmissions(queueId: string, now: number): Promise<number>
  /** Inside a receipt's unit of work. */
  configIn(unit: UnitOfWork, queueId: string): Promise<EsCashboxConfig | undefined>
  accountOfIn(unit: UnitOfWork, queueId: string): Promise<string>
  /** The invoice a receipt reference made, and whether a cancellation of it exists. */
  invoiceOfReferenceIn(
    unit: UnitOfWork,
    queueId: string,
    receiptReference: string,
  ): Promise<{ invoice: EsRecord; cancelled: boolean } | undefined>
  /** The record and its submission job, in the receipt's commit. */
  insertRecordIn(unit: UnitOfWork, record: NewEsRecord, job: EsSubmissionJob): Promise<void>
  /** Written before a submission: these records may reach the authority from now on. */
  markSent(queueId: string, seqs: readonly number[], at: string): Promise<void>
  /** Undoes `markSent(…, at)` after the authority refused the submission before processing any of it. */
  unmarkSent(queueId: string, seqs: readonly number[], at: string): Promise<void>
  /** The answer to a record that an attempt took along without its job (pending records only). */
  setStatus(
    queueId: string,
    seq: number,
    status: EsRecordStatus,
    authority: Record<string, unknown>,
  ): Promise<void>
  /** A record, inside a job's commit. */
  recordIn(unit: UnitOfWork, queueId: string, seq: number): Promise<EsRecord | undefined>
  /** Inside a job attempt's commit. */
  setStatusIn(
    unit: UnitOfWork,
    queueId: string,
    seq: number,
    status: EsRecordStatus,
    /** the authority's answer; undefined keeps the one stored */
    authority: Record<string, unknown> | undefined,
    /** only a record in this status changes (a rejected record stays rejected in the dead letter) */
    onlyFrom?: EsRecordStatus,
  ): Promise<void>
}

export interface EsSubmissionJob {
  id: string
  accountId: string
  maxAttempts: number
  runAt: number
  /** held for this batch window until `runAt` (Bizkaia: lroe) */
  batchWindow?: string
}

/**
 * The outbox job kind of /v2/sign's Spanish records; subject `{queueId}:{seq}`, group the queue. The kind
 * keeps its first name: it is stored in the jobs of existing databases.
 */
export const ES_SUBMIT_JOB = 'es-pos-submit'
export const jobSubject = (queueId: string, seq: number): string => `${queueId}:${seq}`
export function parseJobSubject(subject: string): { queueId: string; seq: number } {
  const at = subject.lastIndexOf(':')
  return { queueId: subject.slice(0, at), seq: Number(subject.slice(at + 1)) }
}

/** The outbox jobs of one ES cash box: its records' submissions (group: its queue) in its account. */
export const cashboxJobScope = (cashbox: { accountId: string; queueId: string }): JobScope => ({
  accountId: cashbox.accountId,
  groupKey: cashbox.queueId,
})
