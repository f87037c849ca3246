import { createHmac, randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SignatureFormat, SignatureTypeCategory, State, v2Code } from '../../src/core/case-codes.ts'
import type { Market, SigningContext, UnitCall, UnitResult } from '../../src/core/market.ts'
import { formatDecimal } from '../../src/core/money.ts'
import type { Receipt } from '../../src/core/receipt.ts'
import { readBody, sendJson } from './http-json.ts'

/**
 * A test double of a signing unit outside the process (an RT printer, a cloud TSE): an HTTP server on the
 * loopback that answers after a configurable latency (300 ms by default, an RT printer's order), numbers
 * and "signs" each document, and remembers what it issued for each call key, so that a caller can ask it
 * after a crash. A document is issued when the request arrives, before the answer goes out: a caller that
 * dies while waiting leaves an issued document behind, as with a real device.
 */
export interface ExternalUnitDouble {
  readonly url: string
  /** Every document issued, in order: a second one for the same key would be a double issue. */
  readonly issued: IssuedDocument[]
  readonly calls: { perform: number; recover: number }
  latencyMs: number
  /** Until the returned function is called, documents are issued (perform) but not answered. */
  hold(): () => void
  /** Until the returned function is called, calls are taken but nothing is issued; then they get 503. */
  stall(): () => void
  /** Refuses connections' requests with 503 until switched back. */
  offline: boolean
  close(): Promise<void>
}

export interface IssuedDocument {
  key: string
  number: number
  request: string
  signature: string
}

interface Answer {
  number: number
  signature: string
}

export async function startExternalUnitDouble(
  options: { latencyMs?: number } = {},
): Promise<ExternalUnitDouble> {
  const secret = randomBytes(32)
  const byKey = new Map<string, IssuedDocument>()
  const issued: IssuedDocument[] = []
  const calls = { perform: 0, recover: 0 }
  let gate: Promise<void> | undefined
  let stalled: Promise<void> | undefined
  const state = { latencyMs: options.latencyMs ?? 300, offline: false }

  const answerOf = (doc: IssuedDocument): Answer => ({ number: doc.number, signature: doc.signature })

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = JSON.parse(await readBody(request)) as { key: string; request?: string }
    if (state.offline) return sendJson(response, 503, { error: 'unit offline' })
    if (request.url === '/perform') {
      calls.perform += 1
      if (stalled) {
        await stalled
        return sendJson(response, 503, { error: 'unit was busy' })
      }
      let doc = byKey.get(body.key)
      if (!doc) {
        const number = issued.length + 1
        const text = `${number}|${body.request ?? ''}`
        doc = {
          key: body.key,
          number,
          request: body.request ?? '',
          signature: createHmac('sha256', secret).update(text).digest('base64url'),
        }
        byKey.set(body.key, doc)
        issued.push(doc)
      }
      await sleep(state.latencyMs)
      if (gate) await gate
      return sendJson(response, 200, answerOf(doc))
    }
    if (request.url === '/recover') {
      calls.recover += 1
      const doc = byKey.get(body.key)
      return sendJson(response, 200, doc ? { issued: answerOf(doc) } : { issued: null })
    }
    sendJson(response, 404, { error: 'no such operation' })
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => sendJson(response, 500, { error: String(error) }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    issued,
    calls,
    get latencyMs() {
      return state.latencyMs
    },
    set latencyMs(ms: number) {
      state.latencyMs = ms
    },
    get offline() {
      return state.offline
    },
    set offline(value: boolean) {
      state.offline = value
    },
    hold() {
      const opened = opening()
      gate = opened.promise
      return () => {
        gate = undefined
        opened.open()
      }
    },
    stall() {
      const opened = opening()
      stalled = opened.promise
      return () => {
        stalled = undefined
        opened.open()
      }
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** ftSignatureType low part of the unit's document signature. */
const DOCUMENT_SIGNATURE = 0x1n

/**
 * A market whose receipts are signed by an external unit double: seal() asks for the external step with the
 * receipt's number, total and chain position, and complete() prints the unit's document number and
 * signature, or the failure with ftState 0x2 (signing unit failed) when the unit did not answer.
 */
export function externalUnitMarket(unitUrl: string, options: { timeoutMs?: number } = {}): Market {
  const post = async (path: string, body: unknown, signal: AbortSignal) => {
    const reply = await fetch(`${unitUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal,
    })
    if (!reply.ok) throw new Error(`unit answered ${reply.status}`)
    return (await reply.json()) as Record<string, unknown>
  }
  return {
    name: 'external-unit-double',
    validate(_receipt: Receipt): void {},
    async seal(context: SigningContext, receipt: Receipt) {
      return {
        external: {
          request: JSON.stringify({
            receiptNumber: context.receiptNumber,
            total: formatDecimal(receipt.total),
            previousHash: context.previousHash,
          }),
        },
      }
    },
    external: {
      timeoutMs: options.timeoutMs ?? 5_000,
      async perform(call: UnitCall, signal: AbortSignal) {
        return JSON.stringify(await post('/perform', { key: call.key, request: call.request }, signal))
      },
      async recover(call: UnitCall, signal: AbortSignal) {
        const { issued } = await post('/recover', { key: call.key }, signal)
        return issued ? JSON.stringify(issued) : undefined
      },
      async complete(context: SigningContext, _receipt: Receipt, result: UnitResult) {
        if ('failure' in result) {
          return {
            signatures: [
              {
                ftSignatureFormat: SignatureFormat.Text,
                ftSignatureType: v2Code(
                  context.countryCode,
                  SignatureTypeCategory.Failure | DOCUMENT_SIGNATURE,
                ),
                Caption: 'signing unit failed',
                Data: result.failure,
              },
            ],
            stateFlags: State.SigningUnitFailed,
          }
        }
        const answer = JSON.parse(result.answer) as Answer
        return {
          signatures: [
            {
              ftSignatureFormat: SignatureFormat.Text,
              ftSignatureType: v2Code(context.countryCode, DOCUMENT_SIGNATURE),
              Caption: `unit document ${answer.number}`,
              Data: answer.signature,
            },
          ],
          identificationSuffix: `U${answer.number}`,
        }
      },
    },
  }
}

function opening(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => {}
  const promise = new Promise<void>((resolve) => {
    open = resolve
  })
  return { promise, open }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
