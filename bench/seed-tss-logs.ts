/**
 * Gives one new TSS a long log, quickly, for the tar-export benchmark (bench/tar-export.ts).
 *
 * The TSS is made by the product: TssService (the service behind PUT /api/v2/tss) creates it with its key
 * and certificate, personalizes it, sets the admin PIN with the PUK, logs in, initializes it, registers
 * four clients and runs one start+finish transaction, exactly as the SIGN DE API would. The rest of the
 * log is start+finish pairs made the way TssService.appendLog makes them: the TSS's own key opened
 * by the runtime's signing keys (keys.ts), the product's TR-03151 encoder (log-message.ts), processData from
 * process-data.ts, one signature counter with no gaps, transaction numbers rising by one, log times that
 * never go back. The messages go into de_tss_logs with the repository's own insert (on SQLite its
 * prepared statement) in transactions of BATCH messages, each under the TSS row lock, and the TSS row
 * gets its counters with the last batch, so the TSS carries on from there. Only the log is seeded: the
 * de_tss_transactions rows of the bulk pairs are not written (an export reads the log alone).
 *
 * usage: node --import tsx bench/seed-tss-logs.ts --messages N
 *   with DATABASE_URL, FISCALBOX_DATA_DIR and FISCALBOX_MASTER_KEY of the fiscalbox to seed.
 * prints one JSON line: { tssId, messages, seconds, cpuMicros }; progress goes to a terminal.
 */
import { randomUUID } from 'node:crypto'
import { parseArgs } from 'node:util'
import { loadConfig } from '../src/config.ts'
import { TSS_ALGORITHMS } from '../src/markets/de/tss/algorithms.ts'
import { openTssSigner } from '../src/markets/de/tss/keys.ts'
import { logMessage, signedPart } from '../src/markets/de/tss/log-message.ts'
import type { LogRecord } from '../src/markets/de/tss/model.ts'
import { processDataOf } from '../src/markets/de/tss/process-data.ts'
import { openRuntime } from '../src/runtime.ts'
import { tssStore } from '../src/markets/de/store/tss.ts'
import { moduleDatabase } from '../src/storage/module-database.ts'
import { counter } from './terminal.ts'
import { deServicesOf } from '../src/markets/de/services.ts'

/** Log messages per storage transaction. */
const BATCH = 20_000
/** Log time advances one second every this many messages: a TSS busy with 500 pairs a second. */
const MESSAGES_PER_SECOND = 1_000
const CLIENTS = ['POS-0001', 'POS-0002', 'POS-0003', 'POS-0004']

const receipt = (cents: number) => {
  const amount = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`
  return {
    standard_v1: {
      receipt: {
        receipt_type: 'RECEIPT' as const,
        amounts_per_vat_rate: [{ vat_rate: 'NORMAL' as const, amount }],
        amounts_per_payment_type: [{ payment_type: 'CASH' as const, amount }],
      },
    },
  }
}

const { values } = parseArgs({ options: { messages: { type: 'string' } } })
const total = Number(values.messages)
if (!Number.isSafeInteger(total) || total < 20) throw new Error('--messages must be an integer >= 20')

const config = loadConfig()
const cpu = process.cpuUsage()
const started = process.hrtime.bigint()
const runtime = await openRuntime({ ...config, PAYMENT_SIMULATOR: 'off' })
try {
  // --- the documented set-up order, through the service behind /api/v2 ---------------------------------
  const service = deServicesOf(runtime.marketFor).tss
  const caller = { organizationId: randomUUID(), env: 'LIVE' }
  const tssId = randomUUID()
  const { adminPuk } = await service.createTss(caller, tssId, { description: 'tar-export benchmark' })
  await service.updateTss(caller, tssId, { state: 'UNINITIALIZED' })
  await service.changeAdminPin(caller, tssId, adminPuk as string, '123456')
  await service.authenticateAdmin(caller, tssId, '123456')
  await service.updateTss(caller, tssId, { state: 'INITIALIZED' })
  for (const serialNumber of CLIENTS)
    await service.upsertClient(caller, tssId, randomUUID(), { serialNumber })
  await service.logoutAdmin(caller, tssId)
  const clients = await service.listClients(caller, { limit: 100, offset: 0, order: 'asc' }, tssId)
  const firstClient = clients.data[0]?.id as string
  const txId = randomUUID()
  await service.upsertTransaction(caller, tssId, txId, 1, { state: 'ACTIVE', clientId: firstClient })
  await service.upsertTransaction(caller, tssId, txId, 2, {
    state: 'FINISHED',
    clientId: firstClient,
    schema: receipt(350),
  })

  // --- the bulk: start+finish pairs signed as TssService.appendLog signs them --------------------------
  const store = tssStore(moduleDatabase(runtime.storage))
  const tss = (await store.getTss(tssId)) ?? (await service.getTss(caller, tssId))
  const signer = openTssSigner(tss.algorithm, tss.privateKeyEncrypted, runtime.signingKeys)
  const header = {
    serialNumber: Buffer.from(tss.serialNumber, 'hex'),
    algorithmOid: TSS_ALGORITHMS[tss.algorithm].oid,
  }
  const firstTime = tss.lastLogTime
  let signatureCounter = tss.signatureCounter
  let transactionNumber = tss.transactionCounter
  const shown = counter('signing and storing TSS log messages', total)
  shown.update(signatureCounter)
  let finishNext = false
  const nextLog = (): LogRecord => {
    const start = !finishNext
    finishNext = start
    if (start) transactionNumber += 1
    signatureCounter += 1
    const clientId = CLIENTS[transactionNumber % CLIENTS.length] as string
    const processed = start
      ? { processType: '', processData: Buffer.alloc(0) }
      : processDataOf(receipt(100 + (transactionNumber % 9_900)))
    const operationType = start ? 'StartTransaction' : 'FinishTransaction'
    const logTime = firstTime + Math.floor(signatureCounter / MESSAGES_PER_SECOND)
    const signed = signedPart(
      {
        kind: 'transaction',
        data: { operationType, clientId, ...processed, transactionNumber },
      },
      { ...header, signatureCounter, logTime },
    )
    return {
      tssId,
      signatureCounter,
      kind: 'transaction',
      operation: operationType,
      logTime,
      transactionNumber,
      clientSerial: clientId,
      message: logMessage(signed, signer.sign(signed)),
    }
  }
  // Pairs run one after another; with an odd remainder the last transaction stays open (that is allowed).
  while (signatureCounter < total) {
    const batch: LogRecord[] = []
    while (batch.length < BATCH && signatureCounter < total) batch.push(nextLog())
    const last = batch[batch.length - 1] as LogRecord
    await store.run(async (work) => {
      const row = await work.lockTss(tssId)
      if (!row || row.signatureCounter !== (batch[0] as LogRecord).signatureCounter - 1)
        throw new Error('the TSS signed something else while it was being seeded')
      for (const log of batch) await work.insertLog(log)
      row.signatureCounter = last.signatureCounter
      row.transactionCounter = transactionNumber
      row.lastLogTime = last.logTime
      await work.saveTss(row)
    })
    shown.update(signatureCounter)
  }
  shown.done()
  const used = process.cpuUsage(cpu)
  process.stdout.write(
    `${JSON.stringify({
      tssId,
      messages: signatureCounter,
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
      cpuMicros: used.user + used.system,
    })}\n`,
  )
} finally {
  await runtime.close()
}
