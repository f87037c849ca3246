import { createServer, type Server as HttpServer } from 'node:http'
import { randomUUID } from 'node:crypto'
import type { Request } from 'autocannon'
import { cpuSeconds, type Server } from './processes.ts'
import { counter, step } from './terminal.ts'

/**
 * The transactions API v1 part of the bench (`npm run bench -- transactions`):
 * 1. accepted transactions/s: POST /v1/transactions answered 201, fiscalized inline by the generic
 *    fiscalizer (sealed, chained and signed in the commit that stores the transaction);
 * 2. drain: a webhook receiver is down while 10,000 transactions are created, so 10,000 delivery jobs
 *    pile up in the outbox and fail; then the receiver comes back and the time until every job is
 *    completed is measured, with the server's CPU time per job.
 */
export interface TransactionsResult {
  measuredAt: string
  locations: number
  create: import('./load.ts').LoadResult
  drain: {
    jobs: number
    /** Seconds from the receiver's return until the last job completed. */
    seconds: number
    jobsPerSecond: number
    serverCpuMicrosPerJob: number | null
    /** Backoff settings of the server during the run (env JOBS_BACKOFF_*). */
    backoffBaseMs: number
    backoffMaxMs: number
    /** Jobs waiting for their next attempt (failed or being retried) when the receiver came back. */
    backlogAtRecovery: number
  }
}

/** The environment of the measured server: no rate limit in the way, a short backoff cap for the drain. */
export const TRANSACTIONS_ENV = {
  RATE_LIMIT_PER_MINUTE: '100000000',
  RATE_LIMIT_BURST: '100000000',
  JOBS_BACKOFF_BASE_MS: '500',
  JOBS_BACKOFF_MAX_MS: '5000',
  JOBS_MAX_ATTEMPTS: '1000',
  WEBHOOK_MAX_ATTEMPTS: '1000',
}

async function json(server: Server, method: string, path: string, key?: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  if (response.status >= 300) throw new Error(`${method} ${path} answered ${response.status}: ${text}`)
  return JSON.parse(text) as Record<string, number | string>
}

export async function setupAccount(server: Server, locations: number) {
  const account = await json(server, 'POST', '/v1/accounts', undefined, {
    name: 'bench',
    billing_email: `bench-${randomUUID()}@example.com`,
  })
  const key = account.api_key as string
  const ids: string[] = []
  for (let i = 0; i < locations; i++) {
    ids.push(
      (await json(server, 'POST', '/v1/locations', key, { name: `shop ${i}`, country: 'EU' })).id as string,
    )
  }
  return { key, locations: ids }
}

export function saleBody(locationId: string): string {
  return `{"location_id":"${locationId}","timestamp":"${new Date().toISOString()}","items":[{"description":"Coffee","quantity":2,"unit_price":2.5,"tax_rate":0.21},{"description":"Toast","quantity":1,"unit_price":3,"tax_rate":0.21}],"pretax_amount":6.61,"tax_amount":1.39,"total_amount":8,"currency":"EUR","payment_method":"card"}`
}

/** autocannon requests: each a new Idempotency-Key, the locations taken in turn. */
export function createRequests(key: string, locations: string[]): Request[] {
  let n = 0
  return [
    {
      method: 'POST',
      path: '/v1/transactions',
      setupRequest: (request) => {
        n += 1
        return {
          ...request,
          method: 'POST',
          path: '/v1/transactions',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${key}`,
            'idempotency-key': randomUUID(),
          },
          body: saleBody(locations[n % locations.length] as string),
        }
      },
    },
  ]
}

/** A webhook receiver that can be taken down (connections refused) and brought back on the same port. */
class Receiver {
  private server: HttpServer | undefined
  received = 0
  constructor(public port = 0) {}

  async up(): Promise<void> {
    const server = createServer((request, response) => {
      request.resume()
      request.on('end', () => {
        this.received += 1
        response.writeHead(204).end()
      })
    })
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve))
    const address = server.address()
    this.port = typeof address === 'object' && address ? address.port : this.port
    this.server = server
  }

  async down(): Promise<void> {
    const server = this.server
    this.server = undefined
    if (!server) return
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
}

export async function drainBacklog(server: Server, jobs: number): Promise<TransactionsResult['drain']> {
  const { key, locations } = await setupAccount(server, 10)
  const receiver = new Receiver()
  await receiver.up()
  await json(server, 'POST', '/v1/webhooks', key, {
    url: `http://127.0.0.1:${receiver.port}/hooks`,
    events: ['fiscalization.completed'],
  })
  await receiver.down()
  step(`drain: receiver down, creating ${jobs.toLocaleString('en')} transactions (one webhook job each)`)
  const shown = counter('creating transactions', jobs)
  let created = 0
  const worker = async () => {
    while (created < jobs) {
      created += 1
      const response = await fetch(`${server.url}/v1/transactions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: saleBody(locations[created % locations.length] as string),
      })
      await response.arrayBuffer()
      if (response.status !== 201) throw new Error(`create answered ${response.status}`)
      if (created % 250 === 0) shown.update(created)
    }
  }
  await Promise.all(Array.from({ length: 32 }, worker))
  shown.done()
  // Every job has failed at least once (none is pending any more): a real backlog, with backoff. Jobs keep
  // being retried (processing) for as long as the receiver is down.
  const stats = () => json(server, 'GET', '/v1/retry-queue/stats', key)
  for (;;) {
    const s = await stats()
    if (Number(s.dead) > 0) throw new Error(`jobs died during the outage: ${JSON.stringify(s)}`)
    if (s.pending === 0) break
    await new Promise((r) => setTimeout(r, 200))
  }
  const before = await stats()
  step(
    `drain: backlog of ${Number(before.failed) + Number(before.processing)} failing jobs; receiver back up`,
  )
  const cpuBefore = cpuSeconds(server.pid)
  const start = process.hrtime.bigint()
  await receiver.up()
  for (let polls = 0; ; polls++) {
    const s = await stats()
    if (Number(s.completed) >= jobs) break
    if (Number(s.dead) > 0) throw new Error(`jobs died during the drain: ${JSON.stringify(s)}`)
    if (polls % 200 === 199) step(`  drain: ${JSON.stringify(s)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  const cpuAfter = cpuSeconds(server.pid)
  await receiver.down()
  return {
    jobs,
    seconds,
    jobsPerSecond: jobs / seconds,
    serverCpuMicrosPerJob:
      cpuBefore !== undefined && cpuAfter !== undefined ? ((cpuAfter - cpuBefore) / jobs) * 1e6 : null,
    backoffBaseMs: Number(TRANSACTIONS_ENV.JOBS_BACKOFF_BASE_MS),
    backoffMaxMs: Number(TRANSACTIONS_ENV.JOBS_BACKOFF_MAX_MS),
    backlogAtRecovery: Number(before.failed) + Number(before.processing),
  }
}
