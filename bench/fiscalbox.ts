import { randomUUID } from 'node:crypto'
import { runLoad } from './load.ts'
import SqliteDatabase from 'better-sqlite3'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Request } from 'autocannon'
import { runCli, type Server, startServer } from './processes.ts'
import { counter } from './terminal.ts'

export interface BenchCashbox {
  cashboxId: string
  accessToken: string
  queueId: string
}

export interface ServerOptions {
  /** LOG_LEVEL of the server; the bench uses warn so that it measures the work, not the request log. */
  logLevel: string
  /** Write a V8 CPU profile of the server (node --cpu-prof) into this folder when it stops. */
  profileDir?: string
  /** Another checkout whose src/cli/main.ts is started instead of this one (for before/after figures). */
  serverRoot?: string
  /** More environment for the server (e.g. the transactions part's rate limit and backoff settings). */
  env?: NodeJS.ProcessEnv
}

/** A new empty data folder, under the temp folder unless another parent is given. */
export const freshDataDir = (label: string, parent: string = tmpdir()) =>
  mkdtempSync(join(parent, `fiscalbox-bench-${label}-`))

export const databaseEnv = (dataDir: string) => ({
  DATABASE_URL: `sqlite:${join(dataDir, 'fiscalbox.db')}`,
  FISCALBOX_DATA_DIR: dataDir,
})

/** Creates cash boxes with the real CLI, two processes at a time (one per core). */
export async function createCashboxes(
  dataDir: string,
  count: number,
  country = 'EU',
): Promise<BenchCashbox[]> {
  const created: BenchCashbox[] = []
  const shown = counter('creating cash boxes with `fiscalbox cashbox create`', count)
  // The first one alone: it writes the master key file that the others then read.
  const one = async () => {
    const out = await runCli(['cashbox', 'create', '--country', country, '--json'], databaseEnv(dataDir))
    created.push(JSON.parse(out) as BenchCashbox)
    shown.update(created.length)
  }
  await one()
  let next = 1
  const worker = async () => {
    while (next < count) {
      next += 1
      await one()
    }
  }
  await Promise.all([worker(), worker()])
  shown.done()
  return created
}

/** Starts the real `fiscalbox serve` on the data folder, on an ephemeral port of the loopback interface. */
export function startFiscalbox(dataDir: string, options: ServerOptions): Promise<Server> {
  const profile = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : []
  const main = options.serverRoot ? join(options.serverRoot, 'src/cli/main.ts') : 'src/cli/main.ts'
  return startServer('fiscalbox', [...profile, '--import', 'tsx', main, 'serve'], {
    ...databaseEnv(dataDir),
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: options.logLevel,
    ...options.env,
  })
}

export const START_RECEIPT_CASE = '0x4555200000004001'

/** A small sale as a POS sends it: one charge item, one cash payment (the README's example receipt). */
export function saleBody(reference: string, moment = new Date()): string {
  return `{"cbReceiptReference":"${reference}","cbReceiptMoment":"${moment.toISOString()}","ftReceiptCase":"0x4555200000000001","cbChargeItems":[{"Quantity":1,"Description":"Coffee","Amount":3.5,"VATRate":20,"ftChargeItemCase":"0x4555200000000013"}],"cbPayItems":[{"Description":"Cash","Amount":3.5,"ftPayItemCase":"0x4555200000000001"}]}`
}

/** The headers of a /v2/sign call of a cash box; each call a new operation id unless one is given. */
export const signHeaders = (cashbox: BenchCashbox, operationId: string = randomUUID()) => ({
  'content-type': 'application/json',
  'x-cashbox-id': cashbox.cashboxId,
  'x-cashbox-accesstoken': cashbox.accessToken,
  'x-operation-id': operationId,
})

/**
 * Sends each cash box its start receipt (ftReceiptCase 0x...4001, by default the generic market's) so that
 * it accepts sales.
 */
export async function startCashboxes(
  server: Server,
  cashboxes: BenchCashbox[],
  receiptCase: string = START_RECEIPT_CASE,
  title = 'sending start receipts',
): Promise<void> {
  const shown = counter(title, cashboxes.length)
  let done = 0
  for (const cashbox of cashboxes) {
    const body = JSON.stringify({
      cbReceiptReference: 'bench-start',
      cbReceiptMoment: new Date().toISOString(),
      ftReceiptCase: receiptCase,
      cbChargeItems: [],
      cbPayItems: [],
    })
    const response = await fetch(`${server.url}/v2/sign`, {
      method: 'POST',
      headers: signHeaders(cashbox),
      body,
    })
    const text = await response.text()
    const state = response.status === 200 ? (JSON.parse(text) as { ftState?: string }).ftState : undefined
    // A started queue answers state ok: the low 32 bits of ftState are 0.
    if (!state?.endsWith('00000000')) throw new Error(`start receipt answered ${response.status}: ${text}`)
    shown.update(++done)
  }
  shown.done()
}

/**
 * autocannon requests for /v2/sign: every request a new x-operation-id and receipt reference, the cash boxes
 * taken in turn across all connections. `sale` writes the body for a reference (by default the generic one).
 */
export function signRequests(
  cashboxes: BenchCashbox[],
  label: string,
  sale: (reference: string) => string = saleBody,
): Request[] {
  let n = 0
  return [
    {
      method: 'POST',
      path: '/v2/sign',
      setupRequest: (request) => {
        n += 1
        const cashbox = cashboxes[n % cashboxes.length] as BenchCashbox
        return {
          ...request,
          method: 'POST',
          path: '/v2/sign',
          headers: signHeaders(cashbox),
          body: sale(`${label}-${n}`),
        }
      },
    },
  ]
}

/** Receipts in the journal of the folder's database, read from a read-only connection. */
export function journaledReceipts(dataDir: string): number {
  const db = new SqliteDatabase(join(dataDir, 'fiscalbox.db'), { readonly: true })
  try {
    return (db.prepare('select count(*) as n from receipt_journal').get() as { n: number }).n
  } finally {
    db.close()
  }
}

/** Full load (the throughput settings) on generic cash boxes: the figure a part compares alone and beside others. */
export const genericSignLoad =
  (server: Server, generic: BenchCashbox[], connections: number) => (label: string, durationS: number) =>
    runLoad({
      label,
      url: server.url,
      connections,
      serverPid: server.pid,
      durationS,
      requests: signRequests(generic, label),
    })

/** The load settings a part that measures a share of the generic throughput runs with. */
export interface SharePartSettings {
  durationS: number
  warmupS: number
  connections: number
  quick: boolean
}
