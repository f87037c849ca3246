import { writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import type { Command } from 'commander'
import { loadConfig } from '../config.ts'
import { esServicesOf } from '../markets/es/cashbox/index.ts'
import { locationCashboxId } from '../core/v1/location-cashboxes.ts'
import type { Environment } from '../core/v1/model.ts'
import type { VerifactuRecord } from '../markets/es/verifactu/records.ts'
import { verifactuDocuments } from '../markets/es/verifactu/export.ts'
import type { ExportProgress } from '../markets/module.ts'
import { openRuntime, type Runtime } from '../runtime.ts'
import { locationToExport } from './export-transactions.ts'

/** File names of an export of n documents: FILE, then FILE-2, FILE-3 ... before the extension. */
export function partNames(out: string, count: number): string[] {
  const dot = out.lastIndexOf('.')
  const slash = out.lastIndexOf('/')
  const [base, ext] = dot > slash ? [out.slice(0, dot), out.slice(dot)] : [out, '']
  return Array.from({ length: count }, (_, i) => (i === 0 ? out : `${base}-${i + 1}${ext}`))
}

/**
 * Writes a v1 location's VERI*FACTU records of one environment (the records of its cash box of that
 * environment) as AEAT XML in chain order (RegFactuSistemaFacturacion, 1000 records per document). Returns
 * the files and the record count.
 */
export async function exportVerifactu(
  runtime: Runtime,
  locationId: string,
  environment: Environment,
  out: string,
): Promise<{ files: string[]; records: number }> {
  const location = await locationToExport(runtime, locationId)
  if (location.country !== 'ES' || location.countryConfig.system !== 'verifactu')
    throw new Error(
      `location ${locationId} is not a Spanish VERI*FACTU location (country ${location.country})`,
    )
  return exportCashboxVerifactu(runtime, locationCashboxId(location.id, environment), out)
}

/**
 * Writes a Spanish cash box's VERI*FACTU records as AEAT XML in chain order.
 * Returns the files and the record count.
 */
export async function exportCashboxVerifactu(
  runtime: Runtime,
  cashboxId: string,
  out: string,
  progress: ExportProgress = () => {},
): Promise<{ files: string[]; records: number }> {
  const cashbox = await runtime.cashboxes.find(cashboxId)
  if (!cashbox) throw new Error(`no cash box ${cashboxId}: see \`fiscalbox cashbox list\``)
  const es = esServicesOf(runtime.marketFor)
  const config = cashbox.country === 'ES' ? await es.store.config(cashbox.queueId) : undefined
  if (config?.system !== 'verifactu')
    throw new Error(`cash box ${cashboxId} is not a Spanish VERI*FACTU cash box (see \`fiscalbox es show\`)`)
  const records: VerifactuRecord[] = []
  for (let after = 0; ; ) {
    const page = await es.records(cashbox.queueId, { afterSeq: after, limit: 1000 })
    for (const r of page) {
      if (r.document.record.system !== 'verifactu') throw new Error(`record ${r.seq} is not VERI*FACTU`)
      records.push(r.document.record.value)
    }
    progress(records.length)
    if (page.length < 1000) break
    after = page.at(-1)?.seq ?? after
  }
  if (records.length === 0) throw new Error(`cash box ${cashboxId} has no records`)
  const documents = verifactuDocuments({ nif: config.nif, name: config.name }, records)
  const files = partNames(out, documents.length)
  documents.forEach((xml, i) => writeFileSync(files[i] as string, xml))
  return { files, records: records.length }
}

/** `fiscalbox export verifactu`, added to the `export` command by main.ts. */
export function addVerifactuExport(exporter: Command): void {
  exporter
    .command('verifactu')
    .description(
      "write a Spanish v1 location's or ES cash box's VERI*FACTU records as AEAT XML (RegFactuSistemaFacturacion) in chain order",
    )
    .option('--location <id>', 'location id of the transactions API v1 (GET /v1/locations)')
    .option('--cashbox <id>', 'or: an ES cash box of the POS System API v2 (`fiscalbox es configure`)')
    .option('--environment <env>', 'test or live (locations only)', 'live')
    .requiredOption('--out <file>', 'file to write (more than 1000 records: FILE, FILE-2, ... in order)')
    .action(async (options: { location?: string; cashbox?: string; environment: string; out: string }) => {
      if (options.environment !== 'test' && options.environment !== 'live')
        throw new Error('--environment must be test or live')
      if ((options.location === undefined) === (options.cashbox === undefined))
        throw new Error('give either --location or --cashbox')
      const runtime = await openRuntime(loadConfig())
      try {
        const { files, records } = options.cashbox
          ? await exportCashboxVerifactu(runtime, options.cashbox, options.out)
          : await exportVerifactu(
              runtime,
              options.location as string,
              options.environment as Environment,
              options.out,
            )
        process.stdout.write(`wrote ${records} records to ${files.join(' ')}\n`)
      } finally {
        await runtime.close()
      }
    })
}

/** True for a VERI*FACTU XML file (so that `fiscalbox verify FILE` can hand it to the VERI*FACTU verifier). */
export async function isVerifactuXml(file: string): Promise<boolean> {
  const handle = await open(file, 'r')
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4096), 0, 4096, 0)
    const head = buffer.subarray(0, bytesRead).toString('utf8')
    return head.trimStart().startsWith('<') && head.includes('RegFactuSistemaFacturacion')
  } finally {
    await handle.close()
  }
}
