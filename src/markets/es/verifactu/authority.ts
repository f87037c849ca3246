import type {
  QueryResult,
  RecordOutcome,
  SpanishAuthority,
  SubmissionResult,
  SubmitOptions,
} from '../authority.ts'
import { type ClientCertificate, type PostOutcome, postXml } from '../transport.ts'
import { serializeDocument } from '../xml/serialize.ts'
import { consultaBody, parseConsultaResponse } from './consulta.ts'
import { MAX_RECORDS_PER_SUBMISSION } from './namespaces.ts'
import { type Party, recordKey, type VerifactuRecord } from './records.ts'
import { parseSubmissionResponse } from './response.ts'
import { soapEnvelope, submissionBody } from './xml.ts'

export interface VerifactuAuthorityOptions {
  /** SOAP endpoint: AEAT_ENDPOINTS.test / .production, or the simulator's URL */
  endpoint: string
  /** the taxpayer (ObligadoEmision) whose records this instance submits */
  taxpayer: Party
  representative?: Party
  certificate?: ClientCertificate
  timeoutMs?: number
  /** records generated longer ago than this are sent with Incidencia=S (default 300 s) */
  lateAfterSeconds?: number
  /** the waiting time to assume until the AEAT has told its own (first submission: none) */
  pacer?: SubmissionPacer
  /** epoch ms; the outbox's clock, so that TiempoEsperaEnvio runs on the same time as the jobs' due times */
  clock?: () => number
}

/**
 * Keeps the AEAT's TiempoEsperaEnvio per taxpayer: after an answer, the next submission with fewer than
 * 1000 records must wait that many seconds. In memory by default; a multi-node deployment passes one
 * backed by its database so that every node honours the same wait.
 */
export interface SubmissionPacer {
  notBefore(taxpayerNif: string): number
  answered(taxpayerNif: string, notBefore: number): void
}

export function memoryPacer(): SubmissionPacer {
  const waits = new Map<string, number>()
  return {
    notBefore: (nif) => waits.get(nif) ?? 0,
    answered: (nif, at) => {
      waits.set(nif, at)
    },
  }
}

const SOAP_CONTENT_TYPE = 'text/xml; charset=utf-8'
/** AEAT error code of "Registro de facturación duplicado" */
export const DUPLICATE_CODE = '3000'

/** VERI*FACTU submission over the AEAT SOAP web service (RegFactuSistemaFacturacion). */
export class VerifactuAuthority implements SpanishAuthority<VerifactuRecord> {
  readonly maxBatch = MAX_RECORDS_PER_SUBMISSION
  private readonly pacer: SubmissionPacer

  constructor(private readonly options: VerifactuAuthorityOptions) {
    this.pacer = options.pacer ?? memoryPacer()
  }

  async submit(records: readonly VerifactuRecord[], options: SubmitOptions = {}): Promise<SubmissionResult> {
    const now = options.now ?? new Date((this.options.clock ?? Date.now)())
    const nif = this.options.taxpayer.nif
    const notBefore = this.pacer.notBefore(nif)
    // A full batch may go at once; anything smaller waits for the time the AEAT asked for.
    if (records.length < this.maxBatch && now.getTime() < notBefore)
      return {
        kind: 'retryable',
        reason: 'TiempoEsperaEnvio not over',
        retryAfterSeconds: Math.ceil((notBefore - now.getTime()) / 1000),
        heldUntil: new Date(notBefore),
      }
    const incident = options.incident ?? this.isLate(records, now)
    const body = submissionBody(
      {
        taxpayer: this.options.taxpayer,
        ...(this.options.representative ? { representative: this.options.representative } : {}),
        incident,
      },
      records,
    )
    const envelope = serializeDocument(soapEnvelope(body))
    await options.sending?.()
    const outcome = await this.post(envelope)
    if (outcome.kind === 'not_delivered') return { kind: 'retryable', reason: outcome.reason }
    if (outcome.kind === 'unknown') return { kind: 'unknown', reason: outcome.reason }
    const unavailable = this.unavailable(outcome)
    if (unavailable) return unavailable
    let parsed: ReturnType<typeof parseSubmissionResponse>
    try {
      parsed = parseSubmissionResponse(outcome.body)
    } catch (error) {
      // An answer we cannot read may still mean the records were registered.
      return {
        kind: 'unknown',
        reason: `unreadable answer (HTTP ${outcome.status}): ${(error as Error).message}`,
      }
    }
    if (parsed.kind === 'fault')
      return { kind: 'retryable', reason: `SOAP fault ${parsed.code}: ${parsed.message}` }
    const next = now.getTime() + parsed.waitSeconds * 1000
    this.pacer.answered(nif, next)
    const byKey = new Map(
      parsed.lines.map((l) => [
        `${l.operation === 'Alta' ? 'alta' : 'anulacion'}:${l.issuerNif}:${l.seriesNumber}:${l.issueDate}`,
        l,
      ]),
    )
    // An answer without a line for some record says nothing about it: reconcile rather than guess.
    const missing = records.filter((r) => !byKey.has(recordKey(r)))
    if (missing.length > 0)
      return { kind: 'unknown', reason: `the answer has no line for ${missing.map(recordKey).join(', ')}` }
    const outcomes = records.map((record): RecordOutcome => {
      const key = recordKey(record)
      const line = byKey.get(key)
      if (!line) throw new Error('unreachable: lines were checked')
      const status =
        line.state === 'Correcto'
          ? 'accepted'
          : line.state === 'AceptadoConErrores'
            ? 'accepted_with_errors'
            : line.code === DUPLICATE_CODE || line.duplicate
              ? 'duplicate'
              : 'rejected'
      return {
        key,
        status,
        authorityState: line.state,
        ...(line.code ? { code: line.code } : {}),
        ...(line.description ? { description: line.description } : {}),
        ...(parsed.csv && status !== 'rejected' ? { csv: parsed.csv } : {}),
      }
    })
    return { kind: 'answered', outcomes, waitSeconds: parsed.waitSeconds, nextSubmissionAt: new Date(next) }
  }

  async query(record: VerifactuRecord): Promise<QueryResult> {
    const outcome = await this.post(
      serializeDocument(soapEnvelope(consultaBody(this.options.taxpayer, record))),
    )
    if (outcome.kind !== 'answer') return { kind: 'retryable', reason: outcome.reason }
    const unavailable = this.unavailable(outcome)
    if (unavailable) return { kind: 'retryable', reason: unavailable.reason }
    let parsed: ReturnType<typeof parseConsultaResponse>
    try {
      parsed = parseConsultaResponse(outcome.body)
    } catch (error) {
      return { kind: 'retryable', reason: `unreadable answer: ${(error as Error).message}` }
    }
    if (parsed.kind === 'fault') return { kind: 'retryable', reason: parsed.message }
    const found = parsed.records.find(
      (r) =>
        r.issuerNif === record.issuerNif &&
        r.seriesNumber === record.seriesNumber &&
        r.issueDate === record.issueDate,
    )
    if (!found) return { kind: 'not_registered' }
    if (record.kind === 'anulacion')
      return found.state === 'Anulado'
        ? { kind: 'registered', sameRecord: true, authorityState: found.state }
        : { kind: 'not_registered' }
    return { kind: 'registered', sameRecord: found.huella === record.huella, authorityState: found.state }
  }

  private isLate(records: readonly VerifactuRecord[], now: Date): boolean {
    const limit = now.getTime() - (this.options.lateAfterSeconds ?? 300) * 1000
    return records.some((r) => Date.parse(r.generatedAt) < limit)
  }

  private post(body: string): Promise<PostOutcome> {
    return postXml(this.options.endpoint, body, {
      contentType: SOAP_CONTENT_TYPE,
      timeoutMs: this.options.timeoutMs ?? 30_000,
      ...(this.options.certificate ? { certificate: this.options.certificate } : {}),
      headers: { soapaction: '""' },
    })
  }

  /**
   * 502/503/504/429 come from the service's front door before any processing, 401/403 from a refused
   * certificate: nothing was registered.
   */
  private unavailable(outcome: Extract<PostOutcome, { kind: 'answer' }>) {
    if (outcome.status === 401 || outcome.status === 403)
      return {
        kind: 'retryable' as const,
        reason: `HTTP ${outcome.status}: refused, check the client certificate`,
      }
    if (
      outcome.status === 502 ||
      outcome.status === 503 ||
      outcome.status === 504 ||
      outcome.status === 429
    ) {
      const header = outcome.headers['retry-after']
      const retryAfter = Number(Array.isArray(header) ? header[0] : header)
      return {
        kind: 'retryable' as const,
        reason: `HTTP ${outcome.status}`,
        ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
      }
    }
    return undefined
  }
}
