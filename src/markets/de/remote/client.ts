import { createHash } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { exchangeWithUnit, NoAnswerInTime } from '../../unit-exchange.ts'

/** Where a remote TSE is and how fiscalbox signs in to it (SIGN DE v2: POST /api/v2/auth). */
export interface RemoteTseAccess {
  /** e.g. `https://kassensichv-middleware.fiskaly.com`; requests go to `{baseUrl}/api/v2/...` */
  baseUrl: string
  apiKey: string
  apiSecret: string
  /** One exchange (request and complete answer) may take this long. */
  timeoutMs: number
}

/**
 * What became of one exchange. `unreachable`: the request never left (connection refused), so the TSE did
 * nothing. `no_answer`: it was sent but no answer came (timeout, dropped connection, 5xx of a gateway): the
 * TSE may have done it. `answered`: the TSE's status and JSON body (4xx included).
 */
export type Exchange =
  | { kind: 'answered'; status: number; body: unknown; raw: Buffer }
  | { kind: 'unreachable'; reason: string }
  | { kind: 'no_answer'; reason: string }

// Failures of the connection itself: not one byte of the request reached the TSE.
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])

/** Access tokens by base URL and credentials: shared by every cash box signing in with the same credentials. */
const TOKENS = new Map<string, { token: string; until: number }>()

/** A SIGN DE v2 API (fiskaly's, or another fiscalbox's /api/v2) with one set of credentials. */
export class SignDeClient {
  private readonly tokenKey: string

  constructor(private readonly access: RemoteTseAccess) {
    // The secret is part of the key: a token got with the right secret must not vouch for a wrong one.
    this.tokenKey = createHash('sha256')
      .update(`${access.baseUrl}\n${access.apiKey}\n${access.apiSecret}`)
      .digest('hex')
  }

  /** An authenticated call; a token the TSE no longer accepts is renewed once. */
  async call(
    method: 'GET' | 'PUT' | 'PATCH' | 'POST',
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<Exchange> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.token(signal)
      if (typeof token !== 'string') return token
      const result = await this.exchange(method, path, body, token, signal)
      if (result.kind !== 'answered' || result.status !== 401 || attempt > 0) return result
      TOKENS.delete(this.tokenKey)
    }
  }

  private async token(signal?: AbortSignal): Promise<string | Exchange> {
    const cached = TOKENS.get(this.tokenKey)
    if (cached && cached.until > Date.now()) return cached.token
    const result = await this.exchange(
      'POST',
      '/auth',
      { api_key: this.access.apiKey, api_secret: this.access.apiSecret },
      undefined,
      signal,
    )
    if (result.kind !== 'answered') return result
    const grant = result.body as { access_token?: string; access_token_expires_in?: number }
    if (result.status !== 200 || typeof grant.access_token !== 'string')
      return { ...result, kind: 'answered' }
    // Renewed a minute before it runs out, so that no call carries a token that expires on the way.
    const seconds = Math.max((grant.access_token_expires_in ?? 0) - 60, 0)
    TOKENS.set(this.tokenKey, { token: grant.access_token, until: Date.now() + seconds * 1000 })
    return grant.access_token
  }

  private async exchange(
    method: string,
    path: string,
    body: unknown,
    token: string | undefined,
    signal?: AbortSignal,
  ): Promise<Exchange> {
    const url = new URL(`${this.access.baseUrl.replace(/\/+$/, '')}/api/v2${path}`)
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const timeoutMs = this.access.timeoutMs
    try {
      const answer = await exchangeWithUnit(url, {
        method,
        headers: {
          accept: 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(payload === undefined ? {} : { body: payload }),
        timeoutMs,
        ...(signal ? { signal } : {}),
      })
      if (answer.status >= 500) return { kind: 'no_answer', reason: `the TSE answered HTTP ${answer.status}` }
      return {
        kind: 'answered',
        status: answer.status,
        body: parseJson(answer.raw, answer.headers),
        raw: answer.raw,
      }
    } catch (error) {
      return classify(error, timeoutMs)
    }
  }
}

function parseJson(raw: Buffer, headers: IncomingHttpHeaders): unknown {
  if (!String(headers['content-type'] ?? '').includes('json')) return undefined
  try {
    return JSON.parse(raw.toString('utf8'))
  } catch {
    return undefined
  }
}

function classify(error: unknown, timeoutMs: number): Exchange {
  if (error instanceof NoAnswerInTime)
    return { kind: 'no_answer', reason: `no answer within ${timeoutMs} ms` }
  const failure = error as Error & { code?: string; errors?: { code?: string }[] }
  // node:http reports a refused dual-stack connect as an AggregateError whose members carry the code.
  const code = failure.code ?? failure.errors?.[0]?.code ?? ''
  const reason = `${code && !failure.message.includes(code) ? `${code}: ` : ''}${failure.message}`
  if (NOT_CONNECTED.has(code)) return { kind: 'unreachable', reason }
  if (failure.name === 'AbortError') return { kind: 'no_answer', reason: 'aborted by the caller' }
  return { kind: 'no_answer', reason }
}

/** The TSE's own words for a refusal: its error code and message when the body carries them. */
export function refusalOf(exchange: Exchange): string {
  if (exchange.kind !== 'answered') return exchange.reason
  const body = (exchange.body ?? {}) as { code?: string; error?: string; message?: string }
  return `HTTP ${exchange.status}${body.code ? ` ${body.code}` : ''}: ${body.message ?? body.error ?? 'refused'}`
}
