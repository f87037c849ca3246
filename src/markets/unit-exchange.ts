import { Agent as HttpAgent, type IncomingHttpHeaders, request as httpRequest } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'

/** The unit did not answer within the exchange's timeout (the request may have reached it). */
export class NoAnswerInTime extends Error {}

// One connection pool per process, kept alive between receipts. node:http rather than fetch: a signing
// unit's exchange runs on the event loop that serves every cash box, and fetch's web streams cost about
// twice as much CPU per exchange.
const AGENTS = { 'http:': new HttpAgent({ keepAlive: true }), 'https:': new HttpsAgent({ keepAlive: true }) }

export interface UnitRequest {
  method: string
  headers: Record<string, string>
  /** Sent with its content-length; none: no body. */
  body?: string
  timeoutMs: number
  signal?: AbortSignal
}

/**
 * One HTTP exchange with an external signing unit (an RT printer, a cloud TSE): the whole answer, or a
 * rejection with the connection's error, an answer cut off before its end, or NoAnswerInTime.
 */
export function exchangeWithUnit(
  url: URL,
  { method, headers, body, timeoutMs, signal }: UnitRequest,
): Promise<{ status: number; headers: IncomingHttpHeaders; raw: Buffer }> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    let timedOut = false
    const fail = (error: Error) => {
      clearTimeout(timer)
      reject(timedOut ? new NoAnswerInTime() : error)
    }
    const request = send(
      url,
      {
        method,
        agent: AGENTS[url.protocol === 'https:' ? 'https:' : 'http:'],
        headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
        ...(signal ? { signal } : {}),
      },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('error', fail)
        response.on('close', () => {
          if (!response.complete) fail(new Error('the connection closed before the answer was complete'))
        })
        response.on('end', () => {
          clearTimeout(timer)
          resolve({ status: response.statusCode ?? 0, headers: response.headers, raw: Buffer.concat(chunks) })
        })
      },
    )
    const timer = setTimeout(() => {
      timedOut = true
      request.destroy()
    }, timeoutMs)
    request.on('error', fail)
    request.end(body)
  })
}
