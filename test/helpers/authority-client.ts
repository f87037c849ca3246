import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { RecordAnswer, SubmissionResult } from '../../src/core/delivery.ts'
import type { AuthorityAnswer, AuthorityClient, Fiscalizer } from '../../src/core/v1/fiscalizer.ts'
import { sealGenericRecord } from '../../src/markets/generic/transaction-record.ts'

/**
 * The client side of test/helpers/authority-stub.ts, shaped like the Spanish clients: it classifies every
 * failure as retryable (nothing reached the authority) or unknown (it may have).
 */
/**
 * A v1 fiscalizer whose generic records go to an authority through `client`: the outbox's own submissions
 * (jobs/fiscalize.ts) against a stand-in authority, registered for a country in place of its market.
 */
export const authorityStandIn = (client: () => AuthorityClient): Fiscalizer => ({
  name: 'authority-stand-in',
  seal: sealGenericRecord,
  authority: client,
})

export function stubClient(baseUrl: string, timeoutMs = 2_000, maxBatch = 1): AuthorityClient {
  return {
    maxBatch,
    mayShare: () => true,
    async submit(records, hooks): Promise<SubmissionResult<AuthorityAnswer>> {
      let response: Response
      try {
        await hooks.sending()
        response = await fetch(`${baseUrl}/submit`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            records: records.map((r) => ({ id: r.transactionId, hash: r.hash, record: r.record })),
          }),
          signal: AbortSignal.timeout(timeoutMs),
        })
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause
        // Refused: the request never left. Anything else (timeout, reset): it may have been processed.
        if (cause?.code === 'ECONNREFUSED')
          return { kind: 'retryable', error: `authority unreachable: ${cause.code}` }
        return { kind: 'unknown', error: `no answer from the authority: ${(error as Error).name}` }
      }
      if (response.status === 503) {
        await response.arrayBuffer()
        const after = Number(response.headers.get('retry-after'))
        return {
          kind: 'retryable',
          error: 'authority answered 503 (not processed)',
          ...(after > 0 ? { retryAfterMs: after * 1000 } : {}),
        }
      }
      if (!response.ok) return { kind: 'unknown', error: `authority answered ${response.status}` }
      const body = (await response.json()) as {
        outcomes: Record<string, { status: string; fiscal_id?: string; error?: string }>
      }
      const answerOf = (id: string): RecordAnswer<AuthorityAnswer> | undefined => {
        const outcome = body.outcomes[id]
        if (!outcome) return undefined
        if (outcome.status === 'rejected')
          return {
            kind: 'refused',
            error: `rejected by the authority: ${outcome.error ?? 'rejected'}`,
            answer: { status: 'registered', response: outcome },
          }
        return {
          kind: 'settled',
          answer: {
            status: outcome.status === 'pending_lroe' ? 'pending_lroe' : 'registered',
            fiscalId: outcome.fiscal_id ?? null,
            response: outcome,
          },
        }
      }
      return { kind: 'answered', answers: records.map((r) => answerOf(r.transactionId)) }
    },
    async query(record) {
      const response = await fetch(`${baseUrl}/records/${encodeURIComponent(record.transactionId)}`, {
        signal: AbortSignal.timeout(timeoutMs),
      })
      if (!response.ok) return { kind: 'retryable', error: `authority query answered ${response.status}` }
      const body = (await response.json()) as { registered: boolean; fiscal_id?: string }
      return body.registered
        ? {
            kind: 'registered',
            answer: { status: 'registered', fiscalId: body.fiscal_id ?? null, response: body },
          }
        : { kind: 'not_registered' }
    },
  }
}

export interface StubProcess {
  url: string
  child: ChildProcess
  control(settings: Record<string, unknown>): Promise<void>
  stats(): Promise<{
    registered: number
    duplicates: number
    submissions: number
    failed: number
    ids: string[]
  }>
  stop(): Promise<void>
}

/** Starts the stub authority as a child process and waits for its port. */
export async function startAuthorityStub(): Promise<StubProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', new URL('./authority-stub.ts', import.meta.url).pathname],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  const port = await new Promise<number>((resolve, reject) => {
    lines.once('line', (line) => resolve(Number(/listening (\d+)/.exec(line)?.[1])))
    child.once('exit', (code) => reject(new Error(`authority stub exited with ${code}`)))
  })
  const url = `http://127.0.0.1:${port}`
  return {
    url,
    child,
    async control(settings) {
      const response = await fetch(`${url}/control`, { method: 'POST', body: JSON.stringify(settings) })
      await response.arrayBuffer()
    },
    async stats() {
      return (await (await fetch(`${url}/stats`)).json()) as Awaited<ReturnType<StubProcess['stats']>>
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}
