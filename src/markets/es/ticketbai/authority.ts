import { invalid } from '../../../core/errors.ts'
import type {
  QueryResult,
  RecordOutcome,
  SpanishAuthority,
  SubmissionResult,
  SubmitOptions,
} from '../authority.ts'
import { type ClientCertificate, getRequest, type PostOutcome, postXml } from '../transport.ts'
import { parseXml } from '../xml/parse.ts'
import { serializeDocument } from '../xml/serialize.ts'
import { childAt, childElements, el, textAt } from '../xml/tree.ts'
import { type TicketBaiRecord, ticketBaiRecordKey } from './issue.ts'
import { LROE_NAMESPACE, TBAI_CODES } from './protocol.ts'
import { TERRITORY_RULES, type Territory } from './territories.ts'

export interface TicketBaiAuthorityOptions {
  territory: Territory
  /** upload URL (Araba, Gipuzkoa) or LROE URL (Bizkaia) */
  endpoint: string
  /** cancellation (AnulaTicketBai) URL of Araba and Gipuzkoa; Bizkaia cancels through the LROE */
  cancelEndpoint?: string
  /**
   * URL answering GET ?id=<TBAI identifier> with { registered, signatureValue } (the simulator's; the
   * territories publish no such look-up, so a live record whose answer was lost waits for a person).
   */
  queryEndpoint?: string
  /** the taxpayer (LROE header) */
  taxpayer: { nif: string; name: string }
  certificate?: ClientCertificate
  timeoutMs?: number
}

/**
 * TicketBAI submission: one signed invoice per upload for Araba and Gipuzkoa, batches of up to 1000
 * through the LROE channel for Bizkaia (the transactions API reports those as pending_lroe until the
 * batch is answered).
 */
export class TicketBaiAuthority implements SpanishAuthority<TicketBaiRecord> {
  readonly maxBatch: number

  constructor(private readonly options: TicketBaiAuthorityOptions) {
    this.maxBatch = TERRITORY_RULES[options.territory].channel === 'lroe' ? 1000 : 1
  }

  async submit(records: readonly TicketBaiRecord[], options: SubmitOptions = {}): Promise<SubmissionResult> {
    if (records.length < 1 || records.length > this.maxBatch)
      throw invalid(
        'records',
        `${TERRITORY_RULES[this.options.territory].name} takes 1 to ${this.maxBatch} invoices per submission`,
      )
    for (const [i, r] of records.entries())
      if (r.territory !== this.options.territory)
        throw invalid(`records[${i}].territory`, `must be ${this.options.territory}`)
    const lroe = this.maxBatch > 1
    const first = records[0] as TicketBaiRecord
    if (records.some((r) => r.kind !== first.kind))
      throw invalid('records', 'one submission holds either invoices or cancellations')
    let url = this.options.endpoint
    if (!lroe && first.kind === 'anulacion') {
      if (!this.options.cancelEndpoint) throw invalid('cancelEndpoint', 'is needed to send cancellations')
      url = this.options.cancelEndpoint
    }
    const body = lroe ? this.lroeRequest(records) : first.xml
    await options.sending?.()
    const outcome = await this.post(url, body)
    if (outcome.kind === 'not_delivered') return { kind: 'retryable', reason: outcome.reason }
    if (outcome.kind === 'unknown') return { kind: 'unknown', reason: outcome.reason }
    if (outcome.status === 401 || outcome.status === 403)
      return { kind: 'retryable', reason: `HTTP ${outcome.status}: refused, check the client certificate` }
    if ([429, 502, 503, 504].includes(outcome.status))
      return { kind: 'retryable', reason: `HTTP ${outcome.status}` }
    if (outcome.status === 400 && lroe)
      return { kind: 'retryable', reason: `LROE refused the batch: ${outcome.body.slice(0, 200)}` }
    try {
      const outcomes = lroe
        ? this.lroeOutcomes(outcome.body, records)
        : [this.uploadOutcome(outcome.body, records[0] as TicketBaiRecord)]
      return { kind: 'answered', outcomes, waitSeconds: 0, nextSubmissionAt: new Date() }
    } catch (error) {
      return {
        kind: 'unknown',
        reason: `unreadable answer (HTTP ${outcome.status}): ${(error as Error).message}`,
      }
    }
  }

  async query(record: TicketBaiRecord): Promise<QueryResult> {
    if (!this.options.queryEndpoint)
      return {
        kind: 'retryable',
        reason: `no look-up endpoint is configured for ${TERRITORY_RULES[this.options.territory].name}: check the record with the territory before it is sent again`,
      }
    const url = `${this.options.queryEndpoint}?id=${encodeURIComponent(record.identifier)}`
    const outcome = await getJson(url, this.options)
    if (outcome.kind !== 'answer') return { kind: 'retryable', reason: outcome.reason }
    if (outcome.status !== 200) return { kind: 'retryable', reason: `HTTP ${outcome.status}` }
    try {
      const answer = JSON.parse(outcome.body) as {
        registered?: boolean
        cancelled?: boolean
        signatureValue?: string
        state?: string
      }
      if (!answer.registered) return { kind: 'not_registered' }
      // A cancellation is registered when the invoice it names is cancelled.
      if (record.kind === 'anulacion')
        return answer.cancelled
          ? { kind: 'registered', sameRecord: true, authorityState: answer.state ?? 'Anulado' }
          : { kind: 'not_registered' }
      return {
        kind: 'registered',
        sameRecord: answer.signatureValue === record.signatureValue,
        authorityState: answer.state ?? '00',
      }
    } catch (error) {
      return { kind: 'retryable', reason: `unreadable answer: ${(error as Error).message}` }
    }
  }

  private uploadOutcome(body: string, record: TicketBaiRecord): RecordOutcome {
    const out = childAt(parseXml(body), 'Salida')
    if (!out) throw new Error('no Salida in the answer')
    const state = textAt(out, 'Estado') ?? ''
    const code = textAt(out, 'ResultadosValidacion', 'Codigo')
    const description = textAt(out, 'ResultadosValidacion', 'Descripcion')
    const csv = textAt(out, 'CSV')
    const status =
      state === '00'
        ? code
          ? 'accepted_with_errors'
          : 'accepted'
        : code === TBAI_CODES.duplicate || code === TBAI_CODES.alreadyCancelled
          ? 'duplicate'
          : 'rejected'
    return {
      key: ticketBaiRecordKey(record),
      status,
      authorityState: state,
      ...(code ? { code } : {}),
      ...(description ? { description } : {}),
      ...(csv ? { csv } : {}),
    }
  }

  private lroeRequest(records: readonly TicketBaiRecord[]): string {
    const years = new Set(records.map((r) => r.issueDate.slice(6)))
    if (years.size !== 1) throw invalid('records', 'one LROE batch holds invoices of one year')
    return serializeDocument(
      el(
        'lrpjfecsgap:LROEPJ240FacturasEmitidasConSGAltaPeticion',
        { 'xmlns:lrpjfecsgap': LROE_NAMESPACE },
        el(
          'Cabecera',
          null,
          el('Modelo', null, '240'),
          el('Capitulo', null, '1'),
          el('Subcapitulo', null, '1.1'),
          el('Operacion', null, records[0]?.kind === 'anulacion' ? 'AN0' : 'A00'),
          el('Version', null, '1.0'),
          el('Ejercicio', null, [...years][0] as string),
          el(
            'ObligadoTributario',
            null,
            el('NIF', null, this.options.taxpayer.nif),
            el('ApellidosNombreRazonSocial', null, this.options.taxpayer.name),
          ),
        ),
        el(
          'FacturasEmitidas',
          null,
          records.map((r) =>
            el(
              'FacturaEmitida',
              null,
              el(
                r.kind === 'anulacion' ? 'AnulacionTicketBai' : 'TicketBai',
                null,
                Buffer.from(r.xml, 'utf8').toString('base64'),
              ),
            ),
          ),
        ),
      ),
    )
  }

  private lroeOutcomes(body: string, records: readonly TicketBaiRecord[]): RecordOutcome[] {
    const lines = childElements(childAt(parseXml(body), 'Registros') ?? parseXml(body), 'Registro')
    const byInvoice = new Map(
      lines.map((l) => [
        `${textAt(l, 'Identificador', 'IDFactura', 'SerieFactura') ?? ''}|${textAt(l, 'Identificador', 'IDFactura', 'NumFactura')}|${textAt(l, 'Identificador', 'IDFactura', 'FechaExpedicionFactura')}`,
        l,
      ]),
    )
    return records.map((r): RecordOutcome => {
      const key = ticketBaiRecordKey(r)
      const line = byInvoice.get(`${r.series ?? ''}|${r.number}|${r.issueDate}`)
      if (!line) throw new Error(`the answer has no line for ${key}`)
      const state = textAt(line, 'SituacionRegistro', 'EstadoRegistro') ?? ''
      const code = textAt(line, 'SituacionRegistro', 'CodigoErrorRegistro')
      const description = textAt(line, 'SituacionRegistro', 'DescripcionErrorRegistroES')
      const status =
        state === 'Correcto'
          ? 'accepted'
          : state === 'AceptadoConErrores'
            ? 'accepted_with_errors'
            : code === TBAI_CODES.duplicate || code === TBAI_CODES.alreadyCancelled
              ? 'duplicate'
              : 'rejected'
      return {
        key,
        status,
        authorityState: state,
        ...(code ? { code } : {}),
        ...(description ? { description } : {}),
      }
    })
  }

  private post(url: string, body: string): Promise<PostOutcome> {
    return postXml(url, body, {
      contentType: 'application/xml; charset=utf-8',
      timeoutMs: this.options.timeoutMs ?? 30_000,
      ...(this.options.certificate ? { certificate: this.options.certificate } : {}),
    })
  }
}

// The query is read-only: the same transport with a GET; any failure is simply retried.
function getJson(url: string, options: TicketBaiAuthorityOptions): Promise<PostOutcome> {
  return getRequest(url, {
    timeoutMs: options.timeoutMs ?? 30_000,
    ...(options.certificate ? { certificate: options.certificate } : {}),
  })
}
