import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'

/** Client TLS credentials: the taxpayer's (or its representative's) certificate, PEM or PKCS#12. */
export interface ClientCertificate {
  key?: string | Buffer
  cert?: string | Buffer
  pfx?: Buffer
  passphrase?: string
  /** Extra trusted roots (tests: the simulator's own CA). Production uses the system store. */
  ca?: string | Buffer
}

export interface PostOptions {
  contentType: string
  /** Abandon the exchange after this long without an answer (the outcome is then unknown). */
  timeoutMs: number
  certificate?: ClientCertificate
  headers?: Record<string, string>
}

/**
 * What happened to one HTTP exchange, in the terms a submitter needs: an answer, a failure where the
 * request certainly never reached the service (safe to resend), or one where it may have (must be
 * reconciled by a query before anything is resent).
 */
export type PostOutcome =
  | { kind: 'answer'; status: number; body: string; headers: Record<string, string | string[] | undefined> }
  | { kind: 'not_delivered'; reason: string }
  | { kind: 'unknown'; reason: string }

// Failures that happen before a single byte of the request can have been processed by the service.
const NOT_DELIVERED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

const MAX_ANSWER_BYTES = 64 * 1024 * 1024

/** POSTs a body over HTTP or HTTPS (client certificate when given) and classifies the outcome. */
export function postXml(url: string, body: string, options: PostOptions): Promise<PostOutcome> {
  return exchange('POST', url, Buffer.from(body, 'utf8'), options)
}

/** A GET with the same TLS credentials and outcome classification (queries). */
export function getRequest(url: string, options: Omit<PostOptions, 'contentType'>): Promise<PostOutcome> {
  return exchange('GET', url, undefined, options)
}

function exchange(
  method: 'GET' | 'POST',
  url: string,
  payload: Buffer | undefined,
  options: Omit<PostOptions, 'contentType'> & { contentType?: string },
): Promise<PostOutcome> {
  const target = new URL(url)
  const secure = target.protocol === 'https:'
  return new Promise((resolve) => {
    let settled = false
    let responded = false
    const settle = (outcome: PostOutcome) => {
      if (settled) return
      settled = true
      resolve(outcome)
    }
    const requestOptions = {
      method,
      headers: {
        ...(payload && options.contentType
          ? { 'content-type': options.contentType, 'content-length': String(payload.length) }
          : {}),
        ...options.headers,
      },
      ...(secure && options.certificate ? options.certificate : {}),
    }
    const req = (secure ? httpsRequest : httpRequest)(target, requestOptions, (res) => {
      responded = true
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > MAX_ANSWER_BYTES) req.destroy(new Error('answer too large'))
        else chunks.push(chunk)
      })
      res.on('end', () =>
        settle({
          kind: 'answer',
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          headers: res.headers,
        }),
      )
      res.on('error', (error) => settle({ kind: 'unknown', reason: `answer cut off: ${error.message}` }))
    })
    req.setTimeout(options.timeoutMs, () => {
      req.destroy(new Error(`no answer within ${options.timeoutMs} ms`))
    })
    req.on('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? ''
      if (NOT_DELIVERED.has(code) || code.startsWith('ERR_SSL_'))
        settle({ kind: 'not_delivered', reason: `${code}: ${error.message}` })
      else
        settle({
          kind: 'unknown',
          reason: `${responded ? 'answer cut off' : 'no answer'}: ${code ? `${code}: ` : ''}${error.message}`,
        })
    })
    req.end(payload)
  })
}
