import { randomUUID } from 'node:crypto'
import type { LoadResult } from './load.ts'
import { cpuSeconds, type Server } from './processes.ts'
import { counter, step } from './terminal.ts'
import { saleBody } from './transactions.ts'

/**
 * The API half of `npm run bench -- es`: VERI*FACTU locations (test key) whose records go to
 * the authority simulator that `fiscalbox serve` starts in-process, so every accepted transaction costs a
 * seal (number, Huella, QR) in the commit plus a SOAP submission the simulator parses, checks and registers.
 * 1. accepted transactions/s with inline fiscalization (the default X-Fiscalization-Timeout of 5 s);
 * 2. drain: the simulator is in an outage (every request 503) while 10,000 transactions are created with
 *    `X-Fiscalization-Timeout: 0`; once every submission job has been tried (each location's first open
 *    record refused, the records behind it waiting for it, in chain order) the outage ends, and
 *    the time until every transaction is `success` is measured.
 * The simulator runs in the server process, so the server's CPU includes the authority's own work.
 */
export interface SpainTransactionsResult {
  locations: number
  create: LoadResult
  /** JOBS_SUBMISSION_CLAIM_BATCH of the server: submission jobs one worker loop claims at once. */
  submissionClaimBatch: number
  /** Of the transactions stored by the run (warm-up included), those `success` right after it ended. */
  succeeded: number
  stored: number
  drain: {
    transactions: number
    /** Submission jobs waiting for their next attempt when the outage ended. */
    backlogAtRecovery: number
    seconds: number
    transactionsPerSecond: number
    serverCpuMicrosPerTransaction: number | null
    /** AEAT submissions the simulator received during the drain (batches of up to 1000 records). */
    submissions: number
    /** Records the simulator saw twice: must be 0. */
    duplicates: number
  }
}

const SPANISH_NIF = 'B12345674'

async function call(url: string, method: string, key?: string, body?: unknown, headers = {}) {
  const response = await fetch(url, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  if (response.status >= 300) throw new Error(`${method} ${url} answered ${response.status}: ${text}`)
  return (text ? JSON.parse(text) : {}) as Record<string, unknown>
}

/** The simulator `serve` started: it prints the address right after its own. */
export async function simulatorUrlOf(server: Server): Promise<string> {
  for (let i = 0; i < 100; i++) {
    for (const line of server.output) {
      const match = /Spain, test records .* go to: (https?:\/\/\S+)/.exec(line)
      if (match?.[1]) return match[1]
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error('fiscalbox serve did not print the address of its Spanish simulator')
}

/** An account (test key) with VERI*FACTU locations. */
export async function setupSpanishAccount(server: Server, locations: number) {
  const account = await call(`${server.url}/v1/accounts`, 'POST', undefined, {
    name: 'bench es',
    billing_email: `bench-es-${randomUUID()}@example.com`,
  })
  const key = account.api_key as string
  const ids: string[] = []
  for (let i = 0; i < locations; i++) {
    const location = await call(`${server.url}/v1/locations`, 'POST', key, {
      name: `tienda ${i}`,
      country: 'ES',
      country_config: { system: 'verifactu', nif: SPANISH_NIF, name: 'Bar Ejemplo SL' },
    })
    ids.push(location.id as string)
  }
  return { key, locations: ids }
}

/** How many of the account's transactions have a status (all when none is given). */
export async function countTransactions(server: Server, key: string, status?: string): Promise<number> {
  const query = status ? `&status=${status}` : ''
  const page = await call(`${server.url}/v1/transactions?limit=1${query}`, 'GET', key)
  return Number(page.total)
}

const stats = (server: Server, key: string) => call(`${server.url}/v1/retry-queue/stats`, 'GET', key)

export async function drainSpanishBacklog(
  server: Server,
  transactions: number,
): Promise<SpainTransactionsResult['drain']> {
  const simulator = await simulatorUrlOf(server)
  const { key, locations } = await setupSpanishAccount(server, 10)
  // An outage far longer than the run: every submission is refused (503) until it is ended by hand.
  await call(`${simulator}/_sim/outage`, 'POST', undefined, { seconds: 86_400 })
  step(`drain es: simulator in outage, creating ${transactions.toLocaleString('en')} VERI*FACTU transactions`)
  const shown = counter('creating transactions', transactions)
  let created = 0
  const worker = async () => {
    while (created < transactions) {
      created += 1
      const response = await fetch(`${server.url}/v1/transactions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${key}`,
          'x-fiscalization-timeout': '0',
        },
        body: saleBody(locations[created % locations.length] as string),
      })
      const text = await response.text()
      if (response.status !== 201) throw new Error(`create answered ${response.status}: ${text}`)
      if (created % 250 === 0) shown.update(created)
    }
  }
  await Promise.all(Array.from({ length: 32 }, worker))
  shown.done()
  // Every submission job has been tried: a real backlog, with backoff. Records go in chain order, so the
  // first open record of each location is refused and retried, and the ones behind it wait for it (pending,
  // with the reason): claims are oldest first, so once the newest pending jobs all carry a reason, so do the
  // older ones.
  for (;;) {
    const s = await stats(server, key)
    if (Number(s.dead) > 0) throw new Error(`jobs died during the outage: ${JSON.stringify(s)}`)
    if (Number(s.failed) >= locations.length) {
      const newest = (await call(`${server.url}/v1/retry-queue?status=pending&limit=100`, 'GET', key)) as {
        data: Array<{ last_error: string | null }>
      }
      if (newest.data.every((job) => job.last_error !== null)) break
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  const before = await stats(server, key)
  const backlogAtRecovery = Number(before.failed) + Number(before.processing)
  const simBefore = (await call(`${simulator}/_sim/state`, 'GET')) as { aeat: { submissions: number } }
  step(`drain es: backlog of ${backlogAtRecovery} failing submissions; simulator back`)
  const cpuBefore = cpuSeconds(server.pid)
  const start = process.hrtime.bigint()
  await call(`${simulator}/_sim/outage`, 'DELETE')
  for (let polls = 0; ; polls++) {
    const s = await stats(server, key)
    if (Number(s.dead) > 0) throw new Error(`jobs died during the drain: ${JSON.stringify(s)}`)
    if (Number(s.completed) >= transactions) break
    if (polls % 100 === 99) step(`  drain es: ${JSON.stringify(s)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  const cpuAfter = cpuSeconds(server.pid)
  const succeeded = await countTransactions(server, key, 'success')
  if (succeeded !== transactions)
    throw new Error(`after the drain ${succeeded} of ${transactions} transactions are success`)
  const simAfter = (await call(`${simulator}/_sim/state`, 'GET')) as {
    aeat: { submissions: number; duplicates: number }
  }
  return {
    transactions,
    backlogAtRecovery,
    seconds,
    transactionsPerSecond: transactions / seconds,
    serverCpuMicrosPerTransaction:
      cpuBefore !== undefined && cpuAfter !== undefined
        ? ((cpuAfter - cpuBefore) / transactions) * 1e6
        : null,
    submissions: simAfter.aeat.submissions - simBefore.aeat.submissions,
    duplicates: simAfter.aeat.duplicates,
  }
}
