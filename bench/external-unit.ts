import { startExternalUnitDouble } from '../test/helpers/external-unit.ts'
import {
  createCashboxes,
  genericSignLoad,
  type ServerOptions,
  signRequests,
  startCashboxes,
} from './fiscalbox.ts'
import { type LoadResult, runLoad } from './load.ts'
import { startServer } from './processes.ts'
import { databaseEnv } from './fiscalbox.ts'
import { step } from './terminal.ts'

/**
 * A slow external signing unit must hold up its own cash boxes only: 45 generic cash boxes under full load,
 * first alone, then while 5 cash boxes signed by an external unit (the test double, 300 ms a document) send
 * receipts too. The generic cash boxes keep at least 90 % of their throughput.
 */
export interface ExternalUnitResult {
  measuredAt: string
  unitLatencyMs: number
  genericCashboxes: number
  externalCashboxes: number
  alone: LoadResult
  together: LoadResult
  external: LoadResult
  /** Generic receipts/s with the external unit's cash boxes busy / without them. */
  share: number
}

export const EXTERNAL_UNIT_TARGET = 0.9
const UNIT_COUNTRY = 'XT'

const externalSale = (reference: string) =>
  `{"cbReceiptReference":"${reference}","cbReceiptMoment":"${new Date().toISOString()}","ftReceiptCase":"0x5854200000000001","cbChargeItems":[{"Quantity":1,"Description":"Coffee","Amount":3.5,"VATRate":20}],"cbPayItems":[{"Description":"Cash","Amount":3.5}]}`

export async function externalUnitBench(
  dataDir: string,
  settings: { durationS: number; warmupS: number; connections: number; quick: boolean },
  serverOptions: ServerOptions,
): Promise<ExternalUnitResult> {
  const unitLatencyMs = 300
  const genericCount = settings.quick ? 9 : 45
  const externalCount = settings.quick ? 1 : 5
  step(
    `external-unit: ${genericCount} generic cash boxes alone, then beside ${externalCount} on an external unit of ${unitLatencyMs} ms (${dataDir})`,
  )
  const unit = await startExternalUnitDouble({ latencyMs: unitLatencyMs })
  try {
    const generic = await createCashboxes(dataDir, genericCount)
    const external = await createCashboxes(dataDir, externalCount, UNIT_COUNTRY)
    const profile = serverOptions.profileDir
      ? ['--cpu-prof', `--cpu-prof-dir=${serverOptions.profileDir}`]
      : []
    const server = await startServer(
      'fiscalbox (external unit)',
      [...profile, '--import', 'tsx', 'test/helpers/external-unit-server.ts'],
      {
        ...databaseEnv(dataDir),
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: serverOptions.logLevel,
        EXTERNAL_UNIT_URL: unit.url,
        EXTERNAL_UNIT_COUNTRY: UNIT_COUNTRY,
      },
    )
    try {
      await startCashboxes(server, generic)
      await startCashboxes(
        server,
        external,
        '0x5854200000004001',
        'start receipts of the external unit cash boxes',
      )
      const genericLoad = genericSignLoad(server, generic, settings.connections)
      // As many connections as external cash boxes: a till waits for its printer before its next receipt.
      const externalLoad = (label: string, durationS: number) =>
        runLoad({
          label,
          url: server.url,
          connections: external.length,
          durationS,
          requests: signRequests(external, label, externalSale),
        })
      await genericLoad('external-unit: generic alone (warm-up)', settings.warmupS)
      const alone = await genericLoad('external-unit: generic alone', settings.durationS)
      await Promise.all([
        genericLoad('external-unit: generic beside (warm-up)', settings.warmupS),
        externalLoad('external-unit: external (warm-up)', settings.warmupS),
      ])
      const [together, externalResult] = await Promise.all([
        genericLoad('external-unit: generic beside the external unit', settings.durationS),
        externalLoad('external-unit: external unit cash boxes', settings.durationS),
      ])
      const share = together.okPerSecond / alone.okPerSecond
      step(
        `  generic alone ${int(alone.okPerSecond)} req/s, beside the external unit ${int(together.okPerSecond)} req/s (${(share * 100).toFixed(1)} %); external unit cash boxes ${externalResult.okPerSecond.toFixed(1)} receipts/s, p50 ${externalResult.latencyMs.p50.toFixed(0)} ms, non-2xx ${externalResult.non2xx}`,
      )
      return {
        measuredAt: new Date().toISOString(),
        unitLatencyMs,
        genericCashboxes: generic.length,
        externalCashboxes: external.length,
        alone,
        together,
        external: externalResult,
        share,
      }
    } finally {
      await server.stop()
    }
  } finally {
    await unit.close()
  }
}

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en') : 'n/a')

/** Rows of the results table (bench/report.ts). */
export function externalUnitRows(e: ExternalUnitResult): string[][] {
  return [
    [
      `generic /v2/sign, ${e.genericCashboxes} cash boxes, beside ${e.externalCashboxes} cash boxes on a ${e.unitLatencyMs} ms external unit`,
      `${int(e.together.okPerSecond)} req/s (alone ${int(e.alone.okPerSecond)})`,
      `${(e.share * 100).toFixed(1)} % of their throughput alone; the external unit's cash boxes ${e.external.okPerSecond.toFixed(1)} receipts/s, p50 ${e.external.latencyMs.p50.toFixed(0)} ms, non-2xx ${int(e.external.non2xx + e.together.non2xx)}`,
      `≥ ${EXTERNAL_UNIT_TARGET * 100} % ${e.share >= EXTERNAL_UNIT_TARGET ? 'met' : 'MISSED'}`,
    ],
  ]
}

export const externalUnitMethod = (e: ExternalUnitResult | undefined) =>
  `- *External unit* (\`npm run bench -- external-unit\`): a server like \`fiscalbox serve\` (test/helpers/external-unit-server.ts) whose cash boxes of the user-assigned country XT are signed by the external unit test double (test/helpers/external-unit.ts, an HTTP server in the bench process that answers each document after ${e?.unitLatencyMs ?? 300} ms): each XT receipt is reserved in one transaction, sent to the unit with no transaction open, and committed in a second one. ${e?.genericCashboxes ?? 45} generic cash boxes are loaded with the throughput settings alone, then again while ${e?.externalCashboxes ?? 5} XT cash boxes send receipts on as many connections (the cash boxes in turn); both runs have the same warm-up and duration. The share is the generic 200 answers per second beside the external unit over those alone.${e ? ` Measured on ${e.measuredAt.slice(0, 10)}.` : ''}`
