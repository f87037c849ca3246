import { writeFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { readFile } from 'node:fs/promises'
import { printFields, withCountryCashbox } from '../../../cli/country-cashbox.ts'
import { progress } from '../../../cli/progress.ts'
import type { PtConfigRequest } from '../configuration.ts'
import { saftExport } from '../exports.ts'
import { ptServicesOf } from '../services.ts'

/** "FS:A2024:AAJFJNK6JJ" or "FT:M2025:AAJFJHK6J6:manual" -> a series of the configuration request. */
function seriesSpec(text: string, previous: Record<string, unknown>[] = []): Record<string, unknown>[] {
  const [documentType, series, validationCode, manual, ...rest] = text.split(':')
  if (!series || !validationCode || rest.length > 0 || (manual !== undefined && manual !== 'manual'))
    throw new Error(
      `--series ${text}: expected TYPE:SERIES:VALIDATIONCODE[:manual], e.g. FS:A2024:AAJFJNK6JJ`,
    )
  return [...previous, { documentType, series, validationCode, ...(manual ? { manual: true } : {}) }]
}

/** `fiscalbox pt configure | show` and `fiscalbox export saft-pt`. */
export function registerPtCommands(program: Command, exporter: Command): void {
  const pt = program
    .command('pt')
    .description('Portugal (certified invoicing): configure the PT cash boxes of /v2/sign')
  pt.command('configure')
    .description('set the issuer, certificate number, signing key and registered series of a PT cash box')
    .requiredOption('--cashbox <id>', 'cash box id (created with `fiscalbox cashbox create --country PT`)')
    .requiredOption('--nif <nif>', "the issuer's NIF")
    .requiredOption('--company-name <name>', "the issuer's name")
    .requiredOption('--certificate-number <n>', "the program's AT certificate number")
    .requiredOption(
      '--series <spec>',
      'TYPE:SERIES:VALIDATIONCODE[:manual], once per series (FT, FS, NC)',
      seriesSpec,
    )
    .option(
      '--private-key <file>',
      'PEM file of the RSA key registered with the AT (required the first time)',
    )
    .option('--key-version <n>', "the key's version (default 1)")
    .option('--region <region>', 'PT (default), PT-AC (Azores) or PT-MA (Madeira)')
    .option('--json', 'print JSON for scripts')
    .action(
      async (o: {
        cashbox: string
        nif: string
        companyName: string
        certificateNumber: string
        series: Record<string, unknown>[]
        privateKey?: string
        keyVersion?: string
        region?: string
        json?: boolean
      }) => {
        const request: PtConfigRequest = {
          nif: o.nif,
          companyName: o.companyName,
          certificateNumber: o.certificateNumber,
          series: o.series,
          ...(o.privateKey ? { privateKey: await readFile(o.privateKey, 'utf8') } : {}),
          ...(o.keyVersion ? { keyVersion: o.keyVersion } : {}),
          ...(o.region ? { region: o.region } : {}),
        }
        const config = await withCountryCashbox('PT', o.cashbox, (runtime, cashbox) =>
          ptServicesOf(runtime.marketFor).configure(cashbox.id, request),
        )
        printFields(config, o.json)
      },
    )
  pt.command('show')
    .description('print the configuration of a PT cash box (its public key, never the private one)')
    .requiredOption('--cashbox <id>', 'cash box id')
    .option('--json', 'print JSON for scripts')
    .action(async (o: { cashbox: string; json?: boolean }) => {
      const config = await withCountryCashbox('PT', o.cashbox, (runtime, cashbox) =>
        ptServicesOf(runtime.marketFor).describe(cashbox.id),
      )
      printFields(config, o.json)
    })

  exporter
    .command('saft-pt')
    .description(
      "write a PT cash box's SAF-T (PT) 1.04_01 file of its documents, for the AT and `fiscalbox verify`",
    )
    .requiredOption('--cashbox <id>', 'cash box id')
    .requiredOption('--from <date>', 'first day (YYYY-MM-DD, local time)')
    .requiredOption('--to <date>', 'last day (YYYY-MM-DD, local time)')
    .requiredOption('--out <file>', 'file to write the XML to')
    .option('--public-key <file>', "also write the cash box's public key (PEM) for `fiscalbox verify`")
    .action(async (o: { cashbox: string; from: string; to: string; out: string; publicKey?: string }) => {
      const count = await withCountryCashbox('PT', o.cashbox, async (runtime, cashbox) => {
        const shown = progress('exporting documents')
        const { items } = await saftExport.write(runtime, cashbox, o, o.out, shown.update)
        shown.done(items)
        if (o.publicKey)
          await writeFile(o.publicKey, (await ptServicesOf(runtime.marketFor).describe(cashbox.id)).publicKey)
        return items
      })
      process.stdout.write(
        `wrote ${count} documents to ${o.out}${o.publicKey ? ` and the public key to ${o.publicKey}` : ''}\n`,
      )
    })
}
