import assert from 'node:assert/strict'
import { startSimulator } from '../../../src/markets/es/simulator/app.ts'
import type { FaultConfig } from '../../../src/markets/es/simulator/faults.ts'
import { sandboxSigningCredentials } from '../../../src/markets/es/sandbox-signer.ts'
import {
  bearer,
  createTransaction,
  getTransaction,
  newAccount,
  newLocation,
  sale,
} from '../../api-v1/support.ts'
import type {
  AuthorityDouble,
  DeliveredRecord,
  DeliveryChain,
  DeliveryNode,
  DeliverySurface,
  MarketDelivery,
} from '../contract.ts'
import { ES_CASE, EsPos, esReceipt } from './pos-support.ts'

/**
 * Spain's deliveries for the market contract (test/markets/contract.ts): VERI*FACTU and TicketBAI
 * (Gipuzkoa, one invoice per upload), each through /v2/sign and /v1/transactions, to the authority
 * simulator with its fault injection driven over its own HTTP administration. Not a test file itself.
 */
type System = { system: 'verifactu' } | { system: 'ticketbai'; territory: 'gipuzkoa' }

const FAULTS: Record<Parameters<AuthorityDouble['fail']>[0], Partial<FaultConfig>> = {
  none: { errorRate: 0, timeoutRate: 0, dropRate: 0 },
  unavailable: { errorRate: 1, timeoutRate: 0, dropRate: 0 },
  'lost answers': { errorRate: 0, timeoutRate: 1, dropRate: 0, holdMs: 1_000 },
  flaky: { errorRate: 0.25, timeoutRate: 0.2, dropRate: 0, holdMs: 1_000, seed: 7 },
}

/** A client gives up on an unanswered request after this long: an unknown outcome. */
const CLIENT_TIMEOUT_MS = 400

let issuers = 0
/** A new CIF (letter B, seven digits, the control digit of the published rule) for each chain. */
function newIssuer(): string {
  const digits = String(7_300_000 + ++issuers * 7 + (process.pid % 1000) * 10_000).slice(-7)
  let sum = 0
  for (const [i, c] of [...digits].entries()) {
    const d = Number(c)
    sum += i % 2 === 0 ? Math.floor((2 * d) / 10) + ((2 * d) % 10) : d
  }
  return `B${digits}${(10 - (sum % 10)) % 10}`
}

/** Each chain its own invoice numbers, so that a refusal by number hits that chain only. */
const seriesOf = (issuer: string) => `D${issuer.slice(1)}-`

/** One TicketBAI signing certificate for every chain of the run (making an RSA key takes a while). */
let signing: ReturnType<typeof sandboxSigningCredentials> | undefined

async function simulatorDouble(): Promise<AuthorityDouble> {
  const sim = await startSimulator()
  signing ??= sandboxSigningCredentials()
  const credentials = await signing
  const refused: string[] = []
  const faults = async (config: Partial<FaultConfig>) => {
    const response = await fetch(`${sim.url}/_sim/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(config),
    })
    assert.equal(response.status, 200, await response.text())
  }
  const state = async () => (await (await fetch(`${sim.url}/_sim/state`)).json()) as any
  return {
    // Both surfaces' records go through the ES market, on the outbox's clock (the runtime's v1 clock).
    runtimeOptions: () => ({
      es: {
        simulatorUrl: sim.url,
        timeoutMs: CLIENT_TIMEOUT_MS,
        testCredentials: credentials,
        lroeAt: 'immediate',
      },
    }),
    fail: (mode) => faults(FAULTS[mode]),
    async refuse(number) {
      refused.push(number)
      await faults({ refuse: refused })
    },
    async registered(chain) {
      const { aeat, ticketbai } = await state()
      const verifactu = (aeat.invoices as any[]).filter((i) => i.issuerNif === chain.issuer)
      const tbai = (ticketbai.invoices as any[]).filter((i) => i.issuerNif === chain.issuer)
      return {
        numbers: [...verifactu.map((i) => i.seriesNumber), ...tbai.map((i) => `${i.series}${i.number}`)],
        brokenLinks:
          verifactu.filter((i) => i.state === 'AceptadaConErrores').length +
          tbai.filter((i) => i.warnings.length > 0).length,
      }
    },
    async duplicates() {
      const { aeat, ticketbai } = await state()
      return aeat.duplicates + ticketbai.duplicates
    },
    close: () => sim.close(),
  }
}

const deliveryState = (settled: boolean, refused: boolean): DeliveredRecord['state'] =>
  settled ? 'settled' : refused ? 'refused' : 'pending'

/** /v2/sign: a cash box configured for the system; a record per sale receipt. */
const v2Sign = (system: System): DeliverySurface => ({
  name: '/v2/sign',
  async open(node: () => DeliveryNode): Promise<DeliveryChain> {
    const issuer = newIssuer()
    const box = await node().runtime.cashboxes.create('ES', 'delivery contract')
    const pos = () => new EsPos(node().app, box)
    await pos().configure({ ...system, nif: issuer, name: 'Entregas Ejemplo SL', series: seriesOf(issuer) })
    await pos().start()
    return {
      issuer,
      async issue() {
        const signed = await pos().signOk(esReceipt(ES_CASE.pos, [{ amount: '1.21', vat: 21 }]))
        return String(signed.ftReceiptIdentification).split('#')[1] as string
      },
      async records() {
        const jobs = (await pos().request('GET', '/es/v1/jobs?limit=100')).json().data as any[]
        return (await pos().records()).map((record) => {
          const job = jobs.find((j) => j.subject_id === `${box.queueId}:${record.seq}`)
          return {
            number: record.invoiceNumber,
            state: deliveryState(record.status.startsWith('accepted'), record.status === 'rejected'),
            job: { status: job.status, attempts: job.attempts },
          }
        })
      },
    }
  },
})

/** /v1/transactions: a location configured for the system; a record per sale transaction. */
const v1Transactions = (system: System): DeliverySurface => ({
  name: '/v1/transactions',
  async open(node: () => DeliveryNode): Promise<DeliveryChain> {
    const issuer = newIssuer()
    const { key } = await newAccount(node().app)
    const location = await newLocation(node().app, key, 'ES', {
      ...system,
      nif: issuer,
      name: 'Entregas Ejemplo SL',
      series: seriesOf(issuer),
    })
    const issued: string[] = []
    return {
      issuer,
      async issue() {
        // No inline attempt: the outbox's workers are the test's.
        const created = await createTransaction(node().app, key, sale(location.id), {
          'x-fiscalization-timeout': '0',
        })
        assert.equal(created.statusCode, 201, created.body)
        issued.push(created.json().id)
        return created.json().response_payload.record.invoice_number
      },
      async records() {
        // The submission jobs of the records of the location's test cash box, one per transaction in order.
        const queue = await node().app.inject({
          method: 'GET',
          url: '/v1/retry-queue?kind=es-pos-submit&limit=100',
          headers: bearer(key),
        })
        const jobs = queue.json().data as any[]
        const records: DeliveredRecord[] = []
        for (const [i, id] of issued.entries()) {
          const t = await getTransaction(node().app, key, id)
          const job = jobs.find((j) => j.subject_id.endsWith(`:${i + 1}`))
          records.push({
            number: t.response_payload.record.invoice_number,
            state: deliveryState(t.status === 'success', t.status === 'failed_permanent'),
            job: { status: job.status, attempts: job.attempts },
          })
        }
        return records
      },
    }
  },
})

const spanishDelivery = (name: string, system: System): MarketDelivery => ({
  name,
  authority: simulatorDouble,
  surfaces: [v2Sign(system), v1Transactions(system)],
})

export const SPANISH_DELIVERIES: readonly MarketDelivery[] = [
  spanishDelivery('VERI*FACTU', { system: 'verifactu' }),
  spanishDelivery('TicketBAI (Gipuzkoa)', { system: 'ticketbai', territory: 'gipuzkoa' }),
]
