import { randomUUID } from 'node:crypto'
import { createReadStream, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { exportJournal } from '../../../src/cli/export-journal.ts'
import { openRuntime } from '../../../src/runtime.ts'
import { JournalVerifier } from '../../../src/verify/journal-verifier.ts'
import { runCli } from '../../cli/cli-process.ts'
import { runtimeConfig } from './fiscalbox.ts'
import type { OperationLog } from './operations.ts'
import { type Cashbox, cashboxHeaders, kindOf } from './surfaces.ts'

/**
 * What a cash box's stored journals must look like after any amount of crashing, killing and retrying,
 * read through the public API (journals, configuration) and checked again by the independent
 * `fiscalbox verify` on a `fiscalbox export journal`.
 */

interface QueueItemEntry {
  ftQueueItemId: string
  ftQueueRow: number
  operationId: string
  response: unknown
}

interface ReceiptEntry {
  ftReceiptNumber: number
  ftQueueRow: number
  ftQueueItemId: string
  PreviousHash: string
  ftReceiptHash: string
}

interface QueueConfiguration {
  ftQueues: Array<{ ftCurrentRow: number; ftReceiptNumerator: number }>
}

/** A whole journal, page by page (x-next-after). */
export async function readJournal<T>(baseUrl: string, cashbox: Cashbox, type: string): Promise<T[]> {
  const entries: T[] = []
  let after = 0
  for (;;) {
    const res = await fetch(`${baseUrl}/v2/journal/${cashbox.queueId}/${type}?after=${after}&limit=2000`, {
      headers: cashboxHeaders(cashbox),
    })
    if (res.status !== 200) throw new Error(`journal ${type}: ${res.status} ${await res.text()}`)
    entries.push(...((await res.json()) as T[]))
    const next = res.headers.get('x-next-after')
    if (!next) return entries
    after = Number(next)
  }
}

export interface LedgerFigures {
  receipts: number
  /** Every finding is a loss or a corruption: the suites assert that there are none. */
  findings: string[]
}

/**
 * Checks one cash box against the client's record of its operations: rows and receipt numbers 1..N with
 * neither gap nor duplicate, every receipt linked to the one before, the queue's counters at N (nothing
 * half written), exactly one queue item per operation (acknowledged or not), and for every acknowledged
 * operation the stored response equal to the bytes the client received.
 */
export async function checkCashbox(
  baseUrl: string,
  cashbox: Cashbox,
  log: OperationLog,
): Promise<LedgerFigures> {
  const findings: string[] = []
  const [items, receipts, config] = await Promise.all([
    readJournal<QueueItemEntry>(baseUrl, cashbox, 'QueueItem'),
    readJournal<ReceiptEntry>(baseUrl, cashbox, 'ReceiptJournal'),
    fetch(`${baseUrl}/v2/journal`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...cashboxHeaders(cashbox) },
      body: JSON.stringify({ ftJournalType: 255 }),
    }).then((res) => res.json() as Promise<QueueConfiguration>),
  ])
  const label = `cash box ${cashbox.cashboxId.slice(0, 8)}`
  const n = items.length
  items.forEach((item, i) => {
    if (item.ftQueueRow !== i + 1)
      findings.push(`${label}: queue row ${item.ftQueueRow} at position ${i + 1}`)
  })
  receipts.forEach((entry, i) => {
    if (entry.ftReceiptNumber !== i + 1)
      findings.push(`${label}: receipt number ${entry.ftReceiptNumber} at position ${i + 1}`)
    if (i > 0 && entry.PreviousHash !== receipts[i - 1]?.ftReceiptHash)
      findings.push(`${label}: receipt ${i + 1} does not link to receipt ${i}`)
  })
  // Every queue item of these runs is a signed receipt (the queues are started first).
  if (receipts.length !== n) findings.push(`${label}: ${n} queue items but ${receipts.length} receipts`)
  const queue = config.ftQueues[0]
  if (queue?.ftCurrentRow !== n || queue?.ftReceiptNumerator !== receipts.length)
    findings.push(
      `${label}: queue counters ${JSON.stringify(queue)} but ${n} items, ${receipts.length} receipts`,
    )

  const byOperation = new Map<string, QueueItemEntry[]>()
  for (const item of items)
    byOperation.set(item.operationId, [...(byOperation.get(item.operationId) ?? []), item])
  const ops = log.all.filter((op) => op.cashbox.cashboxId === cashbox.cashboxId)
  for (const op of ops) {
    const stored = byOperation.get(op.id) ?? []
    if (stored.length !== 1) {
      findings.push(
        `${label}: operation ${op.id} (${op.acked ? 'acknowledged' : 'never acknowledged'}) executed ${stored.length} times`,
      )
      continue
    }
    if (
      op.acked !== undefined &&
      JSON.stringify(stored[0]?.response) !== JSON.stringify(JSON.parse(op.acked))
    )
      findings.push(`${label}: operation ${op.id}: the stored receipt differs from the acknowledged one`)
  }
  if (ops.length !== n) findings.push(`${label}: ${ops.length} operations sent but ${n} queue items stored`)
  return { receipts: receipts.length, findings }
}

/**
 * Exports every cash box's journal and checks it with the independent verifier (src/verify, written from the
 * format document): the first cash box through the real `fiscalbox export journal` and `fiscalbox verify`
 * commands, the others in this process with the same code (a process start costs seconds per cash box here).
 */
export async function exportAndVerify(
  env: NodeJS.ProcessEnv,
  cashboxes: Cashbox[],
  dir: string,
  expected: Map<string, number>,
): Promise<string[]> {
  const findings: string[] = []
  const [first, ...rest] = cashboxes
  if (first) {
    const file = join(dir, `journal-${first.cashboxId}.jsonl`)
    const exported = await runCli(['export', 'journal', '--cashbox', first.cashboxId, '--out', file], env, {
      timeoutMs: 300_000,
    })
    if (exported.code !== 0) findings.push(`export of ${first.cashboxId} failed: ${exported.stderr}`)
    const verified = await runCli(['verify', file], env, { timeoutMs: 300_000 })
    if (
      verified.code !== 0 ||
      !verified.stdout.startsWith(`OK: ${expected.get(first.cashboxId)} receipts, chain verified`)
    )
      findings.push(`verify of ${first.cashboxId}: ${verified.stdout}${verified.stderr}`.slice(0, 500))
  }
  const runtime = await openRuntime(runtimeConfig(env))
  try {
    for (const cashbox of rest) {
      const file = join(dir, `journal-${cashbox.cashboxId}.jsonl`)
      await exportJournal(runtime, cashbox.cashboxId, file)
      const verifier = new JournalVerifier()
      let n = 0
      const input = createReadStream(file)
      for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY }))
        verifier.line(line, ++n)
      const report = verifier.finish()
      if (report.problems.length > 0 || report.receipts !== expected.get(cashbox.cashboxId))
        findings.push(
          `verify of ${cashbox.cashboxId}: ${report.receipts} receipts, ${report.problems.slice(0, 3).join('; ')}`,
        )
    }
  } finally {
    await runtime.close()
  }
  return findings
}

/**
 * Austrian cash boxes: `fiscalbox export dep7` and `fiscalbox verify` (signatures, chain, turnover counter,
 * dates, Belegnummern) on each; the RKSV receipts in the DEP7 must be the cash box's receipts.
 */
export async function verifyDep7(
  env: NodeJS.ProcessEnv,
  cashboxes: Cashbox[],
  dir: string,
  expected: Map<string, number>,
): Promise<{ receipts: number; findings: string[] }> {
  const findings: string[] = []
  let receipts = 0
  for (const cashbox of cashboxes.filter((c) => kindOf(c) === 'AT')) {
    const file = join(dir, `dep7-${cashbox.cashboxId}.json`)
    const keys = join(dir, `keys-${cashbox.cashboxId}.json`)
    const exported = await runCli(
      ['export', 'dep7', '--cashbox', cashbox.cashboxId, '--out', file, '--keys', keys],
      env,
      { timeoutMs: 300_000 },
    )
    if (exported.code !== 0) findings.push(`DEP7 export of ${cashbox.cashboxId} failed: ${exported.stderr}`)
    const verified = await runCli(['verify', file, '--keys', keys], env, { timeoutMs: 300_000 })
    const count = Number(/DEP7 with (\d+) receipts/.exec(verified.stdout)?.[1] ?? -1)
    // Every receipt of the queue is an RKSV receipt here (start receipt included).
    if (verified.code !== 0 || count !== expected.get(cashbox.cashboxId))
      findings.push(
        `DEP7 of ${cashbox.cashboxId}: ${count} receipts, ${expected.get(cashbox.cashboxId)} in the journal: ${verified.stdout}${verified.stderr}`.slice(
          0,
          600,
        ),
      )
    receipts += Math.max(count, 0)
  }
  return { receipts, findings }
}

interface SignDeTransaction {
  _id: string
  number: number
  state: string
  revision: number
  latest_revision: number
  client_id: string
  signature: { value: string; counter: number }
}

/**
 * SIGN DE targets, read through /api/v2: per TSS, transaction numbers exactly 1..N with neither gap nor
 * duplicate, one transaction per operation (its id), every one FINISHED after the retries, the acknowledged
 * finish's number and signature those stored, the signature counters of all revisions distinct and at most
 * the TSS's counter; then a TAR export made through the API is checked by `fiscalbox verify` (signature
 * counter without gaps or repeats, every log message's signature, transaction numbers).
 */
export async function checkSignDe(
  baseUrl: string,
  env: NodeJS.ProcessEnv,
  targets: Cashbox[],
  log: OperationLog,
  dir: string,
): Promise<{ transactions: number; findings: string[] }> {
  const findings: string[] = []
  let transactions = 0
  const byTss = new Map<string, Cashbox[]>()
  for (const t of targets.filter((c) => c.signDe))
    byTss.set(t.signDe?.tssId as string, [...(byTss.get(t.signDe?.tssId as string) ?? []), t])
  for (const [tssId, clients] of byTss) {
    const token = (clients[0] as Cashbox).signDe?.token() as string
    const get = async (path: string) => {
      const res = await fetch(`${baseUrl}/api/v2/tss/${tssId}${path}`, {
        headers: { authorization: `Bearer ${token}` },
      })
      if (res.status !== 200) throw new Error(`SIGN DE GET ${path}: ${res.status} ${await res.text()}`)
      return res
    }
    const txs: SignDeTransaction[] = []
    for (let offset = 0; ; offset += 100) {
      const page = (await (await get(`/tx?order_by=number&order=asc&limit=100&offset=${offset}`)).json()) as {
        data: SignDeTransaction[]
        count: number
      }
      txs.push(...page.data)
      if (page.data.length < 100 || txs.length >= page.count) break
    }
    transactions += txs.length
    const label = `TSS ${tssId.slice(0, 8)}`
    const numbers = txs.map((t) => t.number).sort((a, b) => a - b)
    numbers.forEach((n, i) => {
      if (n !== i + 1)
        findings.push(`${label}: transaction number ${n} at position ${i + 1} (gap or duplicate)`)
    })
    const clientIds = new Set(clients.map((c) => c.signDe?.clientId))
    const ops = log.all.filter((op) => op.cashbox.signDe && clientIds.has(op.cashbox.signDe.clientId))
    const stored = new Map(txs.map((t) => [t._id, t]))
    if (ops.length !== txs.length)
      findings.push(`${label}: ${ops.length} operations sent but ${txs.length} transactions stored`)
    const counters = new Set<number>()
    let maxCounter = 0
    for (const op of ops) {
      const tx = stored.get(op.id)
      if (!tx) {
        findings.push(`${label}: operation ${op.id} has no transaction`)
        continue
      }
      if (tx.state !== 'FINISHED' || tx.latest_revision !== 2)
        findings.push(`${label}: transaction ${op.id} is ${tx.state} at revision ${tx.latest_revision}`)
      if (op.acked !== undefined) {
        const acked = JSON.parse(op.acked) as SignDeTransaction
        if (acked.number !== tx.number || acked.signature.value !== tx.signature.value)
          findings.push(`${label}: transaction ${op.id}: the stored finish differs from the acknowledged one`)
      }
      for (const revision of [1, 2]) {
        const rev = (await (await get(`/tx/${op.id}?tx_revision=${revision}`)).json()) as SignDeTransaction
        if (counters.has(rev.signature.counter))
          findings.push(`${label}: signature counter ${rev.signature.counter} used twice`)
        counters.add(rev.signature.counter)
        maxCounter = Math.max(maxCounter, rev.signature.counter)
      }
    }
    const tss = (await (await get('')).json()) as { signature_counter: string; transaction_counter: string }
    if (Number(tss.transaction_counter) !== txs.length)
      findings.push(`${label}: transaction_counter ${tss.transaction_counter}, ${txs.length} transactions`)
    if (Number(tss.signature_counter) < maxCounter)
      findings.push(`${label}: signature_counter ${tss.signature_counter} below a used counter ${maxCounter}`)

    // The TAR export, through the API, checked by the independent verifier.
    const exportId = randomUUID()
    const started = await fetch(`${baseUrl}/api/v2/tss/${tssId}/export/${exportId}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: '{}',
    })
    if (started.status !== 200) {
      findings.push(`${label}: export not started: ${started.status} ${await started.text()}`)
      continue
    }
    let state = ''
    for (let i = 0; i < 600 && state !== 'COMPLETED' && state !== 'ERROR'; i++) {
      state = ((await (await get(`/export/${exportId}`)).json()) as { state: string }).state
      if (state !== 'COMPLETED') await new Promise((r) => setTimeout(r, 200))
    }
    if (state !== 'COMPLETED') {
      findings.push(`${label}: export ${state}`)
      continue
    }
    const file = join(dir, `export-${tssId}.tar`)
    writeFileSync(file, Buffer.from(await (await get(`/export/${exportId}/file`)).arrayBuffer()))
    const verified = await runCli(['verify', file], env, { timeoutMs: 300_000 })
    const exported = Number(/, (\d+) transactions \(0 still open\)/.exec(verified.stdout)?.[1] ?? -1)
    if (
      verified.code !== 0 ||
      !verified.stdout.startsWith('OK: TSS export verified') ||
      exported !== txs.length
    )
      findings.push(
        `${label}: fiscalbox verify of the TAR export: ${verified.stdout}${verified.stderr}`.slice(0, 800),
      )
  }
  return { transactions, findings }
}
