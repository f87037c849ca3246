import { createServer, type Server } from 'node:http'
import { fileURLToPath } from 'node:url'
import { readBody, sendJson } from './http-json.ts'

/**
 * A stand-in tax authority for the outbox tests and the bench, run as its own process (a real peer that
 * fails by configuration, not a mock of the engine). Protocol, JSON over HTTP:
 *   POST /submit   {records: [{id, hash, record}]} -> 200 {outcomes: {id: {status, fiscal_id?, error?}}}
 *   GET  /records/:id                              -> 200 {registered, fiscal_id?}
 *   POST /control  {mode?, rejectIds?, failEvery?}  -> 200 (test control)
 *   GET  /stats                                     -> 200 {registered, duplicates, submissions, failed}
 * Modes: ok; down (503 "not processed"); hang (register, then never answer: an unknown outcome for the
 * client); slow (answer after delayMs). failEvery n: every n-th submission answers 503.
 */
interface State {
  mode: 'ok' | 'down' | 'hang' | 'slow'
  delayMs: number
  rejectIds: Set<string>
  /** Records accepted into a later batch (TicketBAI Bizkaia's LROE): registered, answered pending_lroe. */
  lroeIds: Set<string>
  failEvery: number
  /** Retry-After (seconds) on the 503 answers, when set. */
  retryAfterS: number
  registered: Map<string, { fiscalId: string; hash: string }>
  duplicates: number
  submissions: number
  failed: number
}

export function authorityStub(): Server {
  const state: State = {
    mode: 'ok',
    delayMs: 0,
    rejectIds: new Set(),
    lroeIds: new Set(),
    failEvery: 0,
    retryAfterS: 0,
    registered: new Map(),
    duplicates: 0,
    submissions: 0,
    failed: 0,
  }
  return createServer((request, response) => {
    void (async () => {
      const url = request.url ?? '/'
      if (request.method === 'POST' && url === '/control') {
        const body = JSON.parse(await readBody(request)) as Partial<{
          mode: State['mode']
          delayMs: number
          rejectIds: string[]
          lroeIds: string[]
          failEvery: number
          retryAfterS: number
        }>
        if (body.mode) state.mode = body.mode
        if (body.delayMs !== undefined) state.delayMs = body.delayMs
        if (body.rejectIds) state.rejectIds = new Set(body.rejectIds)
        if (body.lroeIds) state.lroeIds = new Set(body.lroeIds)
        if (body.failEvery !== undefined) state.failEvery = body.failEvery
        if (body.retryAfterS !== undefined) state.retryAfterS = body.retryAfterS
        return sendJson(response, 200, { ok: true })
      }
      if (request.method === 'GET' && url === '/stats') {
        return sendJson(response, 200, {
          registered: state.registered.size,
          duplicates: state.duplicates,
          submissions: state.submissions,
          failed: state.failed,
          ids: [...state.registered.keys()],
        })
      }
      const lookup = /^\/records\/([^/]+)$/.exec(url)
      if (request.method === 'GET' && lookup) {
        const found = state.registered.get(decodeURIComponent(lookup[1] ?? ''))
        return sendJson(
          response,
          200,
          found ? { registered: true, fiscal_id: found.fiscalId } : { registered: false },
        )
      }
      if (request.method === 'POST' && url === '/submit') {
        const body = JSON.parse(await readBody(request)) as { records: Array<{ id: string; hash: string }> }
        state.submissions += 1
        if (state.mode === 'down' || (state.failEvery > 0 && state.submissions % state.failEvery === 0)) {
          state.failed += 1
          if (state.retryAfterS > 0) response.setHeader('retry-after', String(state.retryAfterS))
          return sendJson(response, 503, { error: 'service unavailable, not processed' })
        }
        const outcomes: Record<string, unknown> = {}
        for (const record of body.records) {
          if (state.rejectIds.has(record.id)) {
            outcomes[record.id] = { status: 'rejected', error: 'record refused by the stub' }
            continue
          }
          const existing = state.registered.get(record.id)
          if (existing) {
            // The authority's duplicate check: the record stays registered once; the test counts these.
            state.duplicates += 1
            outcomes[record.id] = { status: 'duplicate', fiscal_id: existing.fiscalId }
            continue
          }
          const fiscalId = `AUTH-${state.registered.size + 1}`
          state.registered.set(record.id, { fiscalId, hash: record.hash })
          outcomes[record.id] = {
            status: state.lroeIds.has(record.id) ? 'pending_lroe' : 'registered',
            fiscal_id: fiscalId,
          }
        }
        if (state.mode === 'hang') return // registered, but the answer never comes
        if (state.mode === 'slow') await new Promise((r) => setTimeout(r, state.delayMs))
        return sendJson(response, 200, { outcomes })
      }
      sendJson(response, 404, { error: 'no such route' })
    })().catch((error: Error) => sendJson(response, 500, { error: error.message }))
  })
}

// As a process: `node --import tsx test/helpers/authority-stub.ts` prints `listening <port>`.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = authorityStub()
  server.listen(0, '127.0.0.1', () => {
    const address = server.address()
    process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`)
  })
}
