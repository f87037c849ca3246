import { exchangeWithUnit, NoAnswerInTime } from '../../unit-exchange.ts'
import type { FpmateCommand } from './commands.ts'
import { decodeLastDocument, LAST_DOCUMENT_COMMAND, type LastDocument } from './last-document.ts'
import { serializeRequest } from './requests.ts'
import { type FpmateResponse, parseResponse, readDirectIoData } from './responses.ts'

export const FPMATE_PATH = '/cgi-bin/fpmate.cgi'

export interface FpmateClientOptions {
  /** The device's base URL, e.g. `http://192.168.1.20` (the path /cgi-bin/fpmate.cgi is added). */
  url: string
  /** Give up on an exchange after this long without a complete answer (ms); default 15000. */
  timeoutMs?: number
  /** How long the device's web service waits for its fiscal firmware (the `timeout` query, ms); default 10000. */
  deviceTimeoutMs?: number
}

/**
 * What became of one exchange. `unreachable`: the request never reached the device, so nothing can
 * have been printed and it may be sent again. `no_answer`: it was sent but no readable answer came
 * (timeout, abort, dropped connection, HTTP error, garbage), so the device may have printed it: read
 * the last document (directIO 1387) before sending anything again.
 */
export type FpmateOutcome =
  | { kind: 'answer'; response: FpmateResponse }
  | { kind: 'unreachable'; reason: string }
  | { kind: 'no_answer'; reason: string }

export type LastDocumentOutcome =
  | { kind: 'document'; document: LastDocument }
  | { kind: 'refused'; response: FpmateResponse }
  | Exclude<FpmateOutcome, { kind: 'answer' }>

// Failures of the connection itself: not one byte of the request reached the device.
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])

export const LAST_DOCUMENT_REQUEST: FpmateCommand = {
  root: 'printerCommand',
  steps: [{ kind: 'directIO', command: LAST_DOCUMENT_COMMAND, data: '01' }],
}

/** An Epson RT printer (or anything speaking fpmate) at one URL. */
export class FpmateClient {
  readonly endpoint: string
  private readonly url: URL
  private readonly timeoutMs: number

  constructor(options: FpmateClientOptions) {
    const base = options.url.replace(/\/+$/, '')
    this.endpoint = `${base}${FPMATE_PATH}?timeout=${options.deviceTimeoutMs ?? 10_000}`
    this.url = new URL(this.endpoint)
    this.timeoutMs = options.timeoutMs ?? 15_000
  }

  send(command: FpmateCommand, signal?: AbortSignal): Promise<FpmateOutcome> {
    return this.post(serializeRequest(command), signal)
  }

  /** Sends a request exactly as given (e.g. the bytes stored before a crash, to be compared or resent). */
  async post(xml: string, signal?: AbortSignal): Promise<FpmateOutcome> {
    let answer: { status: number; body: string }
    try {
      const { status, raw } = await exchangeWithUnit(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/xml; charset=utf-8' },
        body: xml,
        timeoutMs: this.timeoutMs,
        ...(signal ? { signal } : {}),
      })
      answer = { status, body: raw.toString('utf8') }
    } catch (error) {
      return classify(
        error,
        error instanceof NoAnswerInTime ? `no answer within ${this.timeoutMs} ms` : undefined,
      )
    }
    if (answer.status !== 200)
      return { kind: 'no_answer', reason: `the device answered HTTP ${answer.status}` }
    try {
      return { kind: 'answer', response: parseResponse(answer.body) }
    } catch (error) {
      return { kind: 'no_answer', reason: `unreadable answer: ${(error as Error).message}` }
    }
  }

  /** The last document the device emitted (directIO 1387). */
  async lastDocument(signal?: AbortSignal): Promise<LastDocumentOutcome> {
    const outcome = await this.send(LAST_DOCUMENT_REQUEST, signal)
    if (outcome.kind !== 'answer') return outcome
    if (!outcome.response.success) return { kind: 'refused', response: outcome.response }
    try {
      return { kind: 'document', document: decodeLastDocument(readDirectIoData(outcome.response)) }
    } catch (error) {
      return { kind: 'no_answer', reason: `unreadable last document: ${(error as Error).message}` }
    }
  }
}

function classify(error: unknown, timedOut: string | undefined): FpmateOutcome {
  if (timedOut) return { kind: 'no_answer', reason: timedOut }
  const failure = error as Error & {
    code?: string
    errors?: { code?: string }[]
  }
  // node:http reports a refused dual-stack connect as an AggregateError whose members carry the code.
  const code = failure.code ?? failure.errors?.[0]?.code ?? ''
  const reason = `${code && !failure.message.includes(code) ? `${code}: ` : ''}${failure.message}`
  if (NOT_CONNECTED.has(code)) return { kind: 'unreachable', reason }
  if (failure.name === 'AbortError') return { kind: 'no_answer', reason: 'aborted by the caller' }
  return { kind: 'no_answer', reason }
}
