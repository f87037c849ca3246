import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import type { ExportProgress } from '../markets/module.ts'
import type { Runtime } from '../runtime.ts'

const PAGE = 2_000

/**
 * Writes a queue's receipt journal as a journal export (JSON Lines, docs/journal-format.md), streamed,
 * telling `progress` how many receipts are written.
 */
export async function exportJournal(
  runtime: Runtime,
  cashboxId: string,
  out: string,
  progress: ExportProgress = () => {},
): Promise<number> {
  const cashbox = await runtime.cashboxes.find(cashboxId)
  if (!cashbox) throw new Error(`no cash box ${cashboxId}: see \`fiscalbox cashbox list\``)
  const queue = await runtime.journal.queue(cashbox.queueId)
  const key = await runtime.cashboxes.publicKey(cashbox.queueId)
  const total = queue?.receipt_numerator ?? 0
  const file = createWriteStream(out)
  const write = async (line: string) => {
    if (!file.write(`${line}\n`)) await once(file, 'drain')
  }
  await write(
    JSON.stringify({
      format: 'fiscalbox-journal-export-v1',
      queueId: cashbox.queueId,
      cashboxId: cashbox.id,
      country: cashbox.country,
      algorithm: key.algorithm,
      publicKey: key.publicKey,
      receipts: total,
      exportedAt: new Date().toISOString(),
    }),
  )
  progress(0, total)
  let after = 0
  for (;;) {
    const rows = await runtime.journal.receiptsWithItems(cashbox.queueId, after, PAGE)
    // The header announced `total`: receipts signed while the export runs belong to the next export.
    for (const row of rows.filter((r) => r.number <= total)) {
      await write(
        JSON.stringify({
          number: row.number,
          queueRow: row.queue_row,
          queueItemId: row.queue_item_id,
          moment: row.moment,
          receiptCase: row.receipt_case,
          total: row.total,
          requestHash: row.request_hash,
          responseHash: row.response_hash,
          previousHash: row.previous_hash,
          hash: row.hash,
          request: row.request,
          response: row.response,
        }),
      )
      after = row.number
    }
    progress(after)
    if (rows.length < PAGE || after >= total) break
  }
  file.end()
  await once(file, 'finish')
  return after
}
