import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { open } from 'node:fs/promises'
import type { Command } from 'commander'
import { loadConfig } from '../config.ts'
import { locationCashboxId } from '../core/v1/location-cashboxes.ts'
import { RECEIPT_RECORD_FORMAT } from '../core/v1/market-signed.ts'
import type { Environment } from '../core/v1/model.ts'
import { GENERIC_RECORD_PREFIX } from '../markets/generic/transaction-record.ts'
import { openRuntime, type Runtime } from '../runtime.ts'
import { exportRepository } from '../storage/repositories/v1-export.ts'
import { toLocation } from '../storage/repositories/v1-accounts.ts'
import { readsOf } from '../storage/repositories/v1-reader.ts'
import { TransactionsVerifier } from '../verify/transactions-verifier.ts'
import { progress } from './progress.ts'

const PAGE = 2_000
export const TRANSACTIONS_EXPORT_FORMAT = 'fiscalbox-transactions-export-v1'

/** The location an export command names, read from committed data; an unknown one is an error that says where to look. */
export async function locationToExport(runtime: Runtime, locationId: string) {
  const row = await readsOf(runtime.storage)
    .selectFrom('locations')
    .selectAll()
    .where('id', '=', locationId)
    .executeTakeFirst()
  if (!row) throw new Error(`no location ${locationId}: GET /v1/locations lists an account's locations`)
  return toLocation(row)
}

/**
 * Writes a location's generic records of one environment (docs/transactions-api-v1.md "Export") as JSON
 * Lines for `fiscalbox verify`: a header with the location's public key, then every record in chain order.
 */
export async function exportTransactions(
  runtime: Runtime,
  locationId: string,
  environment: string,
  out: string,
): Promise<number> {
  const location = await locationToExport(runtime, locationId)
  const repository = exportRepository(runtime.storage)
  const total = await repository.lastSequence(location.id, environment)
  const file = createWriteStream(out)
  const write = async (line: string) => {
    if (!file.write(`${line}\n`)) await once(file, 'drain')
  }
  await write(
    JSON.stringify({
      format: TRANSACTIONS_EXPORT_FORMAT,
      location_id: location.id,
      account_id: location.accountId,
      country: location.country,
      environment,
      algorithm: 'ECDSA-P256-SHA256',
      public_key: location.publicKey,
      records: total,
      exported_at: new Date().toISOString(),
    }),
  )
  const shown = progress('exporting records', total)
  let after = 0
  for (;;) {
    const records = await repository.records(location.id, environment, after, PAGE)
    for (const r of records.filter((x) => x.sequence <= total)) {
      if (!r.record.startsWith(`${GENERIC_RECORD_PREFIX}|`)) {
        file.destroy()
        throw new Error(
          r.record.startsWith(`{"format":"${RECEIPT_RECORD_FORMAT}"`)
            ? `record ${r.sequence} of this location was signed by its country's market on the location's own cash box: export that cash box's journal instead (\`fiscalbox export journal --cashbox ${locationCashboxId(location.id, environment as Environment)}\`)`
            : `record ${r.sequence} of this location is not a generic record: export it with its country's command (e.g. \`fiscalbox export verifactu\`)`,
        )
      }
      await write(
        JSON.stringify({
          sequence: r.sequence,
          transaction_id: r.transactionId,
          type: r.type,
          status: r.status,
          fiscal_id: r.fiscalId,
          record: r.record,
          previous_hash: r.previousHash,
          hash: r.hash,
          signature: r.payload?.signature ?? null,
        }),
      )
      after = r.sequence
    }
    shown.update(after)
    if (records.length < PAGE || after >= total) break
  }
  file.end()
  await once(file, 'finish')
  shown.done(after)
  return after
}

/** `fiscalbox export transactions`, added to the `export` command by main.ts. */
export function addTransactionsExport(exporter: Command): void {
  exporter
    .command('transactions')
    .description("write a v1 location's generic records (JSON Lines) for `fiscalbox verify`")
    .requiredOption('--location <id>', 'location id (GET /v1/locations)')
    .option('--environment <env>', 'test or live', 'live')
    .requiredOption('--out <file>', 'file to write')
    .action(async (options: { location: string; environment: string; out: string }) => {
      if (options.environment !== 'test' && options.environment !== 'live') {
        throw new Error('--environment must be test or live')
      }
      const runtime = await openRuntime(loadConfig())
      try {
        const count = await exportTransactions(runtime, options.location, options.environment, options.out)
        process.stdout.write(`wrote ${count} records to ${options.out}\n`)
      } finally {
        await runtime.close()
      }
    })
}

/** The verifier of a transactions export, chosen by its header line; undefined for other files. */
export async function verifierFor(file: string): Promise<TransactionsVerifier | undefined> {
  const handle = await open(file, 'r')
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4096), 0, 4096, 0)
    return buffer.subarray(0, bytesRead).toString('utf8').includes(`"format":"${TRANSACTIONS_EXPORT_FORMAT}"`)
      ? new TransactionsVerifier()
      : undefined
  } finally {
    await handle.close()
  }
}
