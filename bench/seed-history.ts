import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { Worker } from 'node:worker_threads'
import { formatCaseCode, State, v2Code } from '../src/core/case-codes.ts'
import { canonicalJson, sha256Hex } from '../src/core/canonical-json.ts'
import { chainHash } from '../src/core/journal-chain.ts'
import { formatDecimal } from '../src/core/money.ts'
import type { OperationRecord, UnitOfWork, QueueItemRecord, ReceiptJournalRecord } from '../src/core/ports.ts'
import { parseReceipt, type ReceiptRequestBody } from '../src/core/receipt.ts'
import { serializeReceiptResponse } from '../src/core/receipt-response.ts'
import { SignService } from '../src/core/sign-service.ts'
import { addReceipt } from '../src/core/totalizers.ts'
import { type Market, needsExternalStep } from '../src/core/market.ts'
import { openRuntime } from '../src/runtime.ts'
import { createLedger, SqliteStatements } from '../src/storage/repositories/ledger.ts'
import { type BenchCashbox, databaseEnv, START_RECEIPT_CASE, saleBody } from './fiscalbox.ts'
import type { WriterMessage, WriterReply } from './seed-writer.ts'
import { counter } from './terminal.ts'

/**
 * Writes a long receipt history for one new cash box, quickly, in the layout the server writes.
 *
 * The cash box is made by the core (as `fiscalbox cashbox create` does) and its start receipt goes through
 * the real SignService. Every further receipt is the same small sale, made the way SignService.persist
 * makes a sale, from the same core pieces: canonical request JSON and its SHA-256, the generic market's
 * ECDSA P-256 signature over the chained payload (every receipt is signed), the serialized response, the
 * chain hash of core/journal-chain.ts and the running totals. The rows go in with the server's own prepared
 * statements (storage/repositories/ledger.ts) from a worker thread, in transactions of 20,000 receipts,
 * while this thread signs the next ones; the queue row gets its final state at the end. So the journal
 * verifies with `fiscalbox export journal` and `fiscalbox verify` like one written over HTTP. Receipts are
 * 10 s apart and the last one is an hour old.
 *
 * usage: node --import tsx bench/seed-history.ts --data-dir DIR [--receipts N]
 * prints the cash box ({cashboxId, accessToken, queueId, receipts}) as JSON; progress goes to a terminal.
 */
export interface SeedOptions {
  dataDir: string
  /** Receipts in the journal afterwards, the start receipt included. */
  receipts: number
}

export interface SeedResult {
  cashbox: BenchCashbox
  receipts: number
  seconds: number
  databaseMiB: number
}

const SPACING_MS = 10_000
const CHUNK = 2_000
const CHUNKS_IN_FLIGHT = 4
const NO_TRANSACTION = {} as UnitOfWork

export async function seedHistory(options: SeedOptions): Promise<SeedResult> {
  if (!Number.isSafeInteger(options.receipts) || options.receipts < 1) {
    throw new Error('receipts must be a whole number of at least 1 (the first one is the start receipt)')
  }
  const started = performance.now()
  const env = databaseEnv(options.dataDir)
  const first = Date.now() - 3_600_000 - options.receipts * SPACING_MS
  const runtime = await openRuntime({ ...env, PG_POOL_SIZE: 1 })
  let cashbox: BenchCashbox
  let queue: Awaited<ReturnType<SqliteStatements['work']['lockQueue']>>
  let market: Market
  try {
    const sqlite = runtime.storage.sqlite
    if (!sqlite) throw new Error('seed-history writes SQLite databases only')
    const created = await runtime.cashboxes.create('EU', 'bench history')
    cashbox = { cashboxId: created.cashboxId, accessToken: created.accessToken, queueId: created.queueId }
    const record = await runtime.cashboxes.authenticate(created.cashboxId, created.accessToken)
    const statements = new SqliteStatements(sqlite.writer)
    // The start receipt, through the real service and ledger.
    const ledger = createLedger(runtime.storage)
    const startMoment = new Date(first + SPACING_MS)
    const service = new SignService(ledger, runtime.cashboxes, runtime.marketFor, () => startMoment)
    const start: ReceiptRequestBody = {
      cbReceiptReference: 'history-start',
      cbReceiptMoment: startMoment.toISOString(),
      ftReceiptCase: START_RECEIPT_CASE,
      cbChargeItems: [],
      cbPayItems: [],
    }
    await service.sign({
      cashbox: record,
      operationId: randomUUID(),
      lifetimeMs: 15_000,
      body: start,
      receipt: parseReceipt(start),
    })
    queue = await statements.work.lockQueue(created.queueId)
    market = runtime.marketFor(queue.countryCode)
  } finally {
    await runtime.close()
  }
  const signer = await signerFor(env, cashbox.queueId)

  // Every sale has the same body but for its reference and moment: its canonical text is a template.
  const template = JSON.parse(saleBody('template', new Date(0))) as ReceiptRequestBody
  const canonical = canonicalJson({ ...template, cbReceiptReference: '\u0001', cbReceiptMoment: '\u0002' })
  const requestText = (reference: string, moment: string) =>
    canonical.replace('"\\u0001"', JSON.stringify(reference)).replace('"\\u0002"', JSON.stringify(moment))
  const probe = {
    ...template,
    cbReceiptReference: 'history-2',
    cbReceiptMoment: new Date(first).toISOString(),
  }
  if (requestText(probe.cbReceiptReference, probe.cbReceiptMoment) !== canonicalJson(probe)) {
    throw new Error('the request template does not give the canonical JSON of the request')
  }
  const sale = parseReceipt(template)
  const receiptCase = formatCaseCode(sale.caseCode)
  const total = formatDecimal(sale.total)
  const ftState = formatCaseCode(v2Code(queue.countryCode, State.Ok))

  const writer = new Worker(
    `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./seed-writer.ts', import.meta.url).href)}) })`,
    { eval: true, workerData: { file: join(options.dataDir, 'fiscalbox.db') } },
  )
  const failed = once(writer, 'error').then(([error]) => {
    throw error
  })
  let inFlight = 0
  let written = 1
  const shown = counter('seeding receipts', options.receipts)
  const wake: Array<() => void> = []
  writer.on('message', (reply: WriterReply) => {
    if (reply.type !== 'written') return
    inFlight -= 1
    written += reply.receipts
    shown.update(written)
    wake.shift()?.()
  })
  const send = async (message: WriterMessage) => {
    while (inFlight >= CHUNKS_IN_FLIGHT) await Promise.race([new Promise<void>((r) => wake.push(r)), failed])
    inFlight += 1
    writer.postMessage(message)
  }

  let items: QueueItemRecord[] = []
  let receipts: ReceiptJournalRecord[] = []
  let operations: OperationRecord[] = []
  for (let number = 2; number <= options.receipts; number++) {
    const moment = new Date(first + number * SPACING_MS)
    const at = moment.toISOString()
    const reference = `history-${number}`
    const request = requestText(reference, at)
    const requestHash = sha256Hex(request)
    const queueItemId = randomUUID()
    const operationId = randomUUID()
    const receipt = { ...sale, reference, moment }
    const sealed = await market.seal(
      {
        queueId: queue.id,
        cashboxId: cashbox.cashboxId,
        countryCode: queue.countryCode,
        queueRow: number,
        receiptNumber: number,
        previousHash: queue.lastReceiptHash,
        moment,
        requestHash,
        signer,
        marketState: queue.marketState,
        // The generic market keeps no tables of its own, and these receipts are written by the worker.
        unit: NO_TRANSACTION,
      },
      receipt,
    )
    if (needsExternalStep(sealed))
      throw new Error(`history seeding needs an in-process market, not ${market.name}`)
    const result = sealed
    const response = serializeReceiptResponse({
      queueId: queue.id,
      queueItemId,
      queueRow: number,
      cashboxId: cashbox.cashboxId,
      terminalId: undefined,
      receiptReference: reference,
      receiptIdentification: `ft${number.toString(16).toUpperCase()}#${result.identificationSuffix ?? ''}`,
      moment,
      signatures: result.signatures,
      state: v2Code(queue.countryCode, result.stateFlags ?? State.Ok),
    })
    const responseHash = sha256Hex(response)
    const link = {
      queueId: queue.id,
      number,
      queueRow: number,
      moment: at,
      receiptCase,
      total,
      requestHash,
      responseHash,
    }
    const hash = chainHash(queue.lastReceiptHash, link)
    items.push({
      id: queueItemId,
      queueId: queue.id,
      row: number,
      operationId,
      cbReceiptReference: reference,
      cbTerminalId: null,
      ftReceiptCase: receiptCase,
      cbReceiptMoment: at,
      ftMoment: at,
      request,
      requestHash,
      response,
      responseHash,
      ftState,
    })
    receipts.push({ id: randomUUID(), queueItemId, previousHash: queue.lastReceiptHash, hash, ...link })
    operations.push({
      cashboxId: cashbox.cashboxId,
      operationId,
      kind: 'sign',
      requestHash,
      queueItemId,
      createdAt: at,
    })
    addReceipt(queue.totalizers, receipt, at)
    queue.currentRow = number
    queue.receiptNumerator = number
    queue.lastReceiptHash = hash
    if (items.length === CHUNK || number === options.receipts) {
      await send({ type: 'rows', items, receipts, operations })
      items = []
      receipts = []
      operations = []
    }
  }
  const finished = new Promise<void>((resolve) =>
    writer.on('message', (reply: WriterReply) => reply.type === 'finished' && resolve()),
  )
  await send({ type: 'finish', queue })
  await Promise.race([finished, failed])
  await writer.terminate()
  shown.done()
  return {
    cashbox,
    receipts: options.receipts,
    seconds: (performance.now() - started) / 1000,
    databaseMiB: statSync(join(options.dataDir, 'fiscalbox.db')).size / 2 ** 20,
  }
}

/** The queue's signer as the server builds it: the sealed key opened with the data folder's master key. */
async function signerFor(env: ReturnType<typeof databaseEnv>, queueId: string) {
  const runtime = await openRuntime({ ...env, PG_POOL_SIZE: 1 })
  try {
    return await runtime.cashboxes.signer(queueId)
  } finally {
    await runtime.close()
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string' },
      receipts: { type: 'string', default: '1000000' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help || !values['data-dir']) {
    process.stderr.write(
      'usage: node --import tsx bench/seed-history.ts --data-dir DIR [--receipts N]\n' +
        'Adds a cash box with N receipts (default 1,000,000) to DIR/fiscalbox.db (made if missing) and prints it as JSON.\n',
    )
    process.exit(values.help ? 0 : 2)
  }
  const result = await seedHistory({
    dataDir: resolve(values['data-dir']),
    receipts: Number(values.receipts),
  })
  process.stderr.write(
    `seeded ${result.receipts.toLocaleString('en')} receipts in ${result.seconds.toFixed(1)} s, database ${result.databaseMiB.toFixed(0)} MiB\n`,
  )
  process.stdout.write(`${JSON.stringify({ ...result.cashbox, receipts: result.receipts })}\n`)
}

if (import.meta.url === `file://${process.argv[1] ? resolve(process.argv[1]) : ''}`) await main()
