import { randomUUID } from 'node:crypto'
import type { Cashbox, Step, WriteSurface } from './surfaces.ts'

/**
 * The client's side of every operation a suite sends: its id and exact body, every answer, and the bytes of
 * the first acknowledgement. What the server stored is later compared with this record.
 */
export interface Operation {
  surface: WriteSurface
  cashbox: Cashbox
  id: string
  body: string
  /** The bytes of the first 2xx answer: what the POS printed. */
  acked?: string
  attempts: number
  /** Copies currently on the wire (duplicates sent to several nodes at once count each). */
  inFlight: number
}

export type Outcome =
  | { kind: 'ok'; text: string }
  /** No answer (connection refused, reset, process killed): whether it executed is unknown. */
  | { kind: 'lost'; error: string }
  /** A 503 problem document: the server said it did not answer the operation as done. */
  | { kind: 'unavailable'; text: string }
  /** Anything else: always a finding. */
  | { kind: 'bad'; status: number; text: string }

export class OperationLog {
  readonly all: Operation[] = []
  /** Findings: answers that were neither 2xx, 503 problem nor a lost connection; replays that differ. */
  readonly findings: string[] = []
  readonly counts = { sent: 0, ok: 0, lost: 0, unavailable: 0, bad: 0, replayMismatch: 0 }

  add(surface: WriteSurface, cashbox: Cashbox, body: string, id: string = randomUUID()): Operation {
    const op: Operation = { surface, cashbox, id, body, attempts: 0, inFlight: 0 }
    this.all.push(op)
    return op
  }

  private readonly retries: Operation[] = []

  /** The next operation that went unanswered (lost or 503) and has no copy on the wire, if any. */
  takeRetry(): Operation | undefined {
    for (let op = this.retries.shift(); op; op = this.retries.shift()) {
      if (op.acked === undefined && op.inFlight === 0) return op
    }
    return undefined
  }

  /** Operations that were never acknowledged and have no copy on the wire: to be retried. */
  unacked(): Operation[] {
    return this.all.filter((op) => op.acked === undefined && op.inFlight === 0)
  }

  /** Sends one copy of `op` to `baseUrl` and records the outcome. */
  async send(baseUrl: string, op: Operation, signal?: AbortSignal): Promise<Outcome> {
    op.attempts += 1
    op.inFlight += 1
    this.counts.sent += 1
    let outcome: Outcome
    try {
      outcome = await sendOnce(baseUrl, op, signal)
    } finally {
      op.inFlight -= 1
    }
    this.counts[outcome.kind] += 1
    if (outcome.kind === 'ok') {
      if (op.acked === undefined) op.acked = outcome.text
      else if (op.acked !== outcome.text) {
        this.counts.replayMismatch += 1
        this.findings.push(`operation ${op.id}: answered with other bytes than before`)
      }
    } else if (op.acked === undefined && op.inFlight === 0) {
      this.retries.push(op)
    }
    if (outcome.kind === 'bad') {
      this.findings.push(`operation ${op.id}: ${outcome.status} ${outcome.text.slice(0, 300)}`)
    }
    return outcome
  }
}

async function sendOnce(baseUrl: string, op: Operation, signal?: AbortSignal): Promise<Outcome> {
  let outcome: Outcome = { kind: 'lost', error: 'no step' }
  for (const step of op.surface.steps(op.cashbox, op.id, op.body)) {
    outcome = await sendStep(baseUrl, step, signal)
    if (outcome.kind !== 'ok') return outcome
  }
  return outcome
}

async function sendStep(baseUrl: string, step: Step, signal?: AbortSignal): Promise<Outcome> {
  let response: Response
  let text: string
  try {
    response = await fetch(`${baseUrl}${step.path}`, {
      method: step.method,
      headers: { 'content-type': 'application/json', ...step.headers },
      body: step.body,
      ...(signal ? { signal } : {}),
    })
    text = await response.text()
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause
    return { kind: 'lost', error: cause?.code ?? (error as Error).message }
  }
  if (response.status >= 200 && response.status < 300) return { kind: 'ok', text }
  if (response.status === 503 && isUnavailableProblem(response, text)) return { kind: 'unavailable', text }
  return { kind: 'bad', status: response.status, text }
}

/** A 503 must be a problem document that says the database (or the service) is unavailable, with Retry-After. */
function isUnavailableProblem(response: Response, text: string): boolean {
  if (!response.headers.get('retry-after')) return false
  // The SIGN DE API answers in its own error shape (docs/sign-de-v2.md#errors).
  if (/^application\/json/.test(response.headers.get('content-type') ?? '')) {
    try {
      const error = JSON.parse(text) as { status_code?: number; code?: string }
      return error.status_code === 503 && error.code === 'E_SERVICE_UNAVAILABLE'
    } catch {
      return false
    }
  }
  if (!/^application\/problem\+json/.test(response.headers.get('content-type') ?? '')) return false
  try {
    const problem = JSON.parse(text) as { status?: number; error?: string; message?: string }
    return (
      problem.status === 503 &&
      (problem.error === 'database_unavailable' || problem.error === 'service_unavailable') &&
      typeof problem.message === 'string' &&
      /retry/.test(problem.message)
    )
  } catch {
    return false
  }
}
