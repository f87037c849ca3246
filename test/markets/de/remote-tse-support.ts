import { randomInt } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type IncomingMessage, request as httpRequest, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { deServicesOf } from '../../../src/markets/de/services.ts'
import type { EngineName } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import { DE_CASE, DePos, deReceipt, stateLow } from './support.ts'

/**
 * A fault proxy between fiscalbox and its remote TSE (node:http). Every exchange waits 50-250 ms (what
 * cloud TSE vendors publish); faults are armed per kind of request:
 * - `error`: the next matching request is answered 503 and never reaches the TSE;
 * - `busy`: the next matching request is answered 429 (rate limited) and never reaches the TSE;
 * - `drop`: the next matching request reaches the TSE, which does it, and its answer is thrown away (the
 *   connection is cut);
 * - `cut`: the next matching request reaches the TSE, which does it, and its answer is cut off after the
 *   status line and half of its body;
 * - `delay`: the next matching request is kept back, unsent, until `release()`: it reaches the TSE after
 *   fiscalbox gave up on it, as a request held up in a network does;
 * - `hold`: matching requests reach the TSE and their answers are never delivered (the connection stays
 *   open), as when fiscalbox dies waiting;
 * - `outage`: every connection is cut at once, nothing reaches the TSE (set directly, or armed to begin
 *   with the next matching request).
 */
type Fault = 'error' | 'busy' | 'drop' | 'cut' | 'hold' | 'delay' | 'outage'

export interface FaultProxy {
  url: string
  outage: boolean
  /** Arms a fault for the next request whose method and path (with query) match. */
  arm(fault: Fault, method: string, path: RegExp): void
  /** Sends the requests kept back by `delay` on to the TSE; resolves when the TSE has answered them. */
  release(): Promise<void>
  /** How many requests `delay` keeps back now. */
  readonly keptBack: number
  /** Takes every armed fault back (answers already held stay held). */
  disarm(): void
  /** Requests that reached the TSE, with their status once it answered. */
  readonly forwarded: { method: string; path: string; status?: number }[]
  close(): Promise<void>
}

export async function startFaultProxy(
  target: string,
  latencyMs = { min: 50, max: 250 },
): Promise<FaultProxy> {
  const upstream = new URL(target)
  const armed: { fault: Fault; method: string; path: RegExp; sticky: boolean }[] = []
  const held: IncomingMessage[] = []
  const delayed: (() => Promise<void>)[] = []
  const forwarded: FaultProxy['forwarded'] = []
  const state = { outage: false }
  const server: Server = createServer((request, response) => {
    const method = request.method ?? 'GET'
    const path = request.url ?? '/'
    const index = state.outage ? -1 : armed.findIndex((a) => a.method === method && a.path.test(path))
    const fault = index >= 0 ? armed[index] : undefined
    if (fault && !fault.sticky) armed.splice(index, 1)
    if (fault?.fault === 'outage') state.outage = true
    if (state.outage) {
      request.socket.destroy()
      return
    }
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      setTimeout(
        () => {
          if (fault?.fault === 'error' || fault?.fault === 'busy') {
            const status = fault.fault === 'error' ? 503 : 429
            response.writeHead(status, { 'content-type': 'application/json' })
            response.end(JSON.stringify({ status_code: status, error: 'refused by the proxy' }))
            return
          }
          const forward = () =>
            new Promise<void>((forwardedAll) => {
              const entry: FaultProxy['forwarded'][number] = { method, path }
              forwarded.push(entry)
              const out = httpRequest(
                { host: upstream.hostname, port: upstream.port, method, path, headers: request.headers },
                (answer) => {
                  const body: Buffer[] = []
                  answer.on('data', (chunk: Buffer) => body.push(chunk))
                  answer.on('end', () => {
                    entry.status = answer.statusCode
                    forwardedAll()
                    if (fault?.fault === 'drop' || fault?.fault === 'delay') {
                      request.socket.destroy()
                      return
                    }
                    if (fault?.fault === 'hold') {
                      held.push(request)
                      return
                    }
                    const whole = Buffer.concat(body)
                    response.writeHead(answer.statusCode ?? 502, answer.headers)
                    if (fault?.fault === 'cut') {
                      response.write(whole.subarray(0, whole.length >> 1), () => request.socket.destroy())
                      return
                    }
                    response.end(whole)
                  })
                },
              )
              out.on('error', () => {
                forwardedAll()
                request.socket.destroy()
              })
              out.end(Buffer.concat(chunks))
            })
          if (fault?.fault === 'delay') delayed.push(forward)
          else void forward()
        },
        randomInt(latencyMs.min, latencyMs.max + 1),
      )
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    get outage() {
      return state.outage
    },
    set outage(value: boolean) {
      state.outage = value
    },
    arm(fault, method, path) {
      armed.push({ fault, method, path, sticky: fault === 'hold' })
    },
    disarm() {
      armed.length = 0
    },
    get keptBack() {
      return delayed.length
    },
    async release() {
      await Promise.all(delayed.splice(0).map((forward) => forward()))
    },
    forwarded,
    async close() {
      for (const request of held) request.socket.destroy()
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    },
  }
}

/** A second fiscalbox (its own database, its own port) serving SIGN DE v2 as the remote TSE. */
export interface RemoteTse {
  harness: Harness
  url: string
  apiKey: string
  apiSecret: string
  /** GET on its SIGN DE API with its own token. */
  get(path: string): Promise<{ status: number; json(): any; raw: Buffer }>
  close(): Promise<void>
}

export async function startRemoteTse(): Promise<RemoteTse> {
  const harness = await startHarness('sqlite')
  const url = await harness.app.listen({ port: 0, host: '127.0.0.1' })
  // What `fiscalbox sign-de credentials create` does on the TSE's side.
  const credentials = await deServicesOf(harness.runtime.marketFor).credentials.create('LIVE')
  const auth = await harness.app.inject({
    method: 'POST',
    url: '/api/v2/auth',
    payload: { api_key: credentials.api_key, api_secret: credentials.api_secret },
  })
  const token = auth.json().access_token as string
  return {
    harness,
    url,
    apiKey: credentials.api_key,
    apiSecret: credentials.api_secret,
    async get(path) {
      const r = await harness.app.inject({
        method: 'GET',
        url: `/api/v2${path}`,
        headers: { authorization: `Bearer ${token}` },
      })
      return { status: r.statusCode, json: () => r.json(), raw: r.rawPayload }
    },
    close: () => harness.close(),
  }
}

/**
 * A suite's remote TSE, fault proxy and node (on `engine`): started before its tests, closed after them.
 * `onRemote` puts a new cash box on the remote TSE through /de/v1/remote-tse and signs its start receipt.
 */
export function remoteTseSuite(engine: EngineName) {
  let started: { remote: RemoteTse; proxy: FaultProxy; h: Harness } | undefined
  const get = () => {
    if (!started) throw new Error('the suite has not started')
    return started
  }
  before(async () => {
    const remote = await startRemoteTse()
    const proxy = await startFaultProxy(remote.url)
    started = { remote, proxy, h: await startHarness(engine) }
  })
  after(async () => {
    const { remote, proxy, h } = get()
    await h.close()
    await proxy.close()
    await remote.close()
  })
  return {
    get remote() {
      return get().remote
    },
    get proxy() {
      return get().proxy
    },
    get h() {
      return get().h
    },
    async onRemote(timeoutMs?: number) {
      const { remote, proxy, h } = get()
      const pos = new DePos(h.app, await h.runtime.cashboxes.create('DE'))
      const configured = await pos.request('PUT', '/de/v1/remote-tse', {
        base_url: proxy.url,
        api_key: remote.apiKey,
        api_secret: remote.apiSecret,
        ...(timeoutMs ? { timeout_ms: timeoutMs } : {}),
      })
      assert.equal(configured.status, 200, configured.payload)
      const start = await pos.signOk(deReceipt(DE_CASE.start))
      assert.equal(stateLow(start), 0n, JSON.stringify(start))
      return { pos, tssId: configured.json().tss_id as string, config: configured.json() }
    },
    /** The cash box's transactions as the remote TSE's own API lists them. */
    async transactions(tssId: string): Promise<any[]> {
      const list = await get().remote.get(`/tss/${tssId}/tx?limit=100`)
      assert.equal(list.status, 200)
      return list.json().data
    },
  }
}
