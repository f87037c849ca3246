import 'reflect-metadata'
import { webcrypto } from 'node:crypto'
import { cpus, loadavg } from 'node:os'
import * as x509 from '@peculiar/x509'
import { emptyTicketBaiChain, issueTicketBai } from '../src/markets/es/ticketbai/issue.ts'
import { startSimulator } from '../src/markets/es/simulator/app.ts'
import { VerifactuAuthority } from '../src/markets/es/verifactu/authority.ts'
import { VERIFACTU_PATH } from '../src/markets/es/verifactu/namespaces.ts'
import {
  chainAlta,
  emptyChain,
  type SoftwareSystem,
  type VerifactuRecord,
} from '../src/markets/es/verifactu/records.ts'
import { soapEnvelope, submissionBody } from '../src/markets/es/verifactu/xml.ts'
import { serializeDocument } from '../src/markets/es/xml/serialize.ts'
import { step } from './terminal.ts'

/**
 * `npm run bench -- es`: in-process throughput of the Spanish fiscal work, one core:
 *  - VeriFactu: record building with its Huella, then the SOAP XML of 1000-record submissions;
 *  - TicketBAI: invoice XML + XAdES-EPES signature (RSA-2048, inclusive C14N) + identifier and QR;
 *  - VeriFactu over HTTP to the in-process simulator (which parses, checks and hashes every record).
 * Rates are wall-clock; CPU per operation is the process's user+system CPU divided by the operations,
 * which stays meaningful on a shared machine.
 */
export interface EsMeasure {
  label: string
  operations: number
  seconds: number
  perSecond: number
  cpuMicrosPerOperation: number
}

export interface EsResult {
  measuredAt: string
  cores: number
  loadAverage: number[]
  measures: EsMeasure[]
  /** POST /v1/transactions on VERI*FACTU locations through `fiscalbox serve` (bench/transactions-es.ts). */
  transactions?: import('./transactions-es.ts').SpainTransactionsResult
}

const SYSTEM: SoftwareSystem = {
  producerName: 'fiscalbox contributors',
  producerNif: 'B00000034',
  name: 'fiscalbox',
  id: 'FB',
  version: '0.1.0',
  installationNumber: 'bench',
  onlyVerifactu: true,
  multipleTaxpayers: true,
  hasMultipleTaxpayers: false,
}
const TAXPAYER = { nif: 'B12345678', name: 'Bar Ejemplo' }

async function measure(
  label: string,
  operations: number,
  work: () => unknown | Promise<unknown>,
): Promise<EsMeasure> {
  const cpu = process.cpuUsage()
  const started = performance.now()
  await work()
  const seconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  const result = {
    label,
    operations,
    seconds,
    perSecond: operations / seconds,
    cpuMicrosPerOperation: (used.user + used.system) / operations,
  }
  step(
    `  ${label}: ${Math.round(result.perSecond).toLocaleString('en')}/s, ${result.cpuMicrosPerOperation.toFixed(0)} µs CPU each`,
  )
  return result
}

function altas(count: number, offset = 0): VerifactuRecord[] {
  let state = emptyChain()
  const records: VerifactuRecord[] = []
  const at = new Date('2025-11-03T09:00:00Z')
  for (let i = 1; i <= count; i++) {
    const made = chainAlta(
      state,
      {
        issuer: TAXPAYER,
        seriesNumber: `B-${offset + i}`,
        issueDate: '2025-11-03',
        invoiceType: 'F2',
        description: 'Venta',
        lines: [
          { rateBasisPoints: 2100, baseCents: 1000 + i, taxCents: 210 },
          { rateBasisPoints: 1000, baseCents: 500, taxCents: 50 },
        ],
        generatedAt: at,
      },
      SYSTEM,
    )
    records.push(made.record)
    state = made.state
  }
  return records
}

async function signingCredentials() {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto)
  const algorithm = {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 2048,
  }
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=bench, C=ES',
    notBefore: new Date(Date.now() - 86_400_000),
    notAfter: new Date(Date.now() + 86_400_000),
    keys,
    signingAlgorithm: algorithm,
  })
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey))
  return {
    key: `-----BEGIN PRIVATE KEY-----\n${der.toString('base64')}\n-----END PRIVATE KEY-----\n`,
    certificate: cert.toString('pem'),
  }
}

export async function esBench(quick: boolean): Promise<EsResult> {
  const n = quick ? 5_000 : 50_000
  const signatures = quick ? 200 : 2_000
  step(
    `es: VeriFactu and TicketBAI in-process (${n.toLocaleString('en')} records, ${signatures.toLocaleString('en')} signatures)`,
  )
  const measures: EsMeasure[] = []
  altas(500) // warm-up
  let records: VerifactuRecord[] = []
  measures.push(
    await measure('VeriFactu record + Huella', n, () => {
      records = altas(n)
    }),
  )
  measures.push(
    await measure('VeriFactu SOAP XML (1000-record submissions)', n, () => {
      for (let i = 0; i < records.length; i += 1000)
        serializeDocument(soapEnvelope(submissionBody({ taxpayer: TAXPAYER }, records.slice(i, i + 1000))))
    }),
  )
  measures.push(
    await measure('VeriFactu record + Huella + XML', n, () => {
      const made = altas(n, n)
      for (let i = 0; i < made.length; i += 1000)
        serializeDocument(soapEnvelope(submissionBody({ taxpayer: TAXPAYER }, made.slice(i, i + 1000))))
    }),
  )
  const credentials = await signingCredentials()
  const invoice = (i: number) => ({
    territory: 'gipuzkoa' as const,
    issuer: TAXPAYER,
    series: 'T',
    number: String(i),
    issuedAt: new Date('2025-11-03T09:00:00Z'),
    simplified: true,
    description: 'Ticket',
    lines: [{ description: 'Café', quantity: '2', unitPriceCents: 160, totalCents: 320 }],
    vat: [{ rateBasisPoints: 1000, baseCents: 291, taxCents: 29 }],
    software: {
      license: 'TBAIGIPRE00000000001',
      developerNif: 'B00000034',
      name: 'fiscalbox',
      version: '0.1.0',
    },
  })
  let chain = emptyTicketBaiChain()
  for (let i = 0; i < 20; i++) chain = issueTicketBai(chain, invoice(i), credentials).state // warm-up
  measures.push(
    await measure('TicketBAI XML + XAdES-EPES signature + TBAI id + QR', signatures, () => {
      for (let i = 0; i < signatures; i++) chain = issueTicketBai(chain, invoice(1000 + i), credentials).state
    }),
  )
  const simulator = await startSimulator({})
  try {
    const authority = new VerifactuAuthority({
      endpoint: `${simulator.url}${VERIFACTU_PATH}`,
      taxpayer: TAXPAYER,
      timeoutMs: 120_000,
    })
    const sent = quick ? 5_000 : 20_000
    const toSend = altas(sent, 10 * n)
    measures.push(
      await measure(
        'VeriFactu submitted to the simulator over HTTP (client + simulator, 1000 per request)',
        sent,
        async () => {
          for (let i = 0; i < toSend.length; i += 1000) {
            const result = await authority.submit(toSend.slice(i, i + 1000))
            if (result.kind !== 'answered' || result.outcomes.some((o) => o.status !== 'accepted'))
              throw new Error(`simulator did not accept the batch: ${JSON.stringify(result).slice(0, 300)}`)
          }
        },
      ),
    )
  } finally {
    await simulator.close()
  }
  return { measuredAt: new Date().toISOString(), cores: cpus().length, loadAverage: loadavg(), measures }
}

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en') : 'n/a')
const micros = (n: number | null) => (n === null ? 'n/a' : `${int(n)} µs`)

/** The rows of docs/benchmarks.md's results table: the in-process work, then the API figures. */
export function esRows(result: EsResult): string[][] {
  const load = result.loadAverage.map((l) => l.toFixed(2)).join(' / ')
  const rows = result.measures.map((m) => [
    `Spain in-process, one thread: ${m.label}`,
    `${int(m.perSecond)}/s`,
    `${m.cpuMicrosPerOperation.toFixed(0)} µs CPU per operation (${int(m.operations)} operations; load average ${load} at the start)`,
    '',
  ])
  const t = result.transactions
  if (t)
    rows.push(
      [
        `POST /v1/transactions, Spain VERI*FACTU inline to the simulator, ${t.locations} locations, ${t.create.connections} connections`,
        `${int(t.create.okPerSecond)} transactions/s`,
        `server CPU ${micros(t.create.serverCpuMicros)} per transaction (simulator included; load average ${load} at the start of the es part); p50 ${t.create.latencyMs.p50.toFixed(2)} ms, p99 ${t.create.latencyMs.p99.toFixed(2)} ms; non-2xx ${int(t.create.non2xx)}; ${int(t.succeeded)} of ${int(t.stored)} success at the end`,
        '',
      ],
      [
        `Spain: drain of ${int(t.drain.transactions)} VERI*FACTU transactions after a simulator outage`,
        `${t.drain.seconds.toFixed(1)} s (${int(t.drain.transactionsPerSecond)} transactions/s)`,
        `server CPU ${micros(t.drain.serverCpuMicrosPerTransaction)} per transaction (simulator included); ${int(t.drain.submissions)} AEAT submissions (up to ${int(t.submissionClaimBatch)} submission jobs claimed at once), ${int(t.drain.duplicates)} duplicates`,
        '',
      ],
    )
  return rows
}
