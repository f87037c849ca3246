import { createReadStream } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { exportJournal } from '../../../src/cli/export-journal.ts'
import { openRuntime } from '../../../src/runtime.ts'
import { JournalVerifier } from '../../../src/verify/journal-verifier.ts'
import { runCli } from '../../cli/cli-process.ts'
import { runtimeConfig } from './fiscalbox.ts'
import type { OperationLog } from './operations.ts'
import { type Cashbox, cashboxHeaders } from './surfaces.ts'

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
