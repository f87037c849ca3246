import { after } from 'node:test'
import {
  type DocumentReference,
  FpmateClient,
  type FpmateCommand,
  type FpmateOutcome,
  type FpmateResponse,
  type FiscalReceiptStep,
  referenceMessage,
} from '../../../src/markets/it/fpmate/index.ts'
import {
  type ItSimulator,
  type ItSimulatorOptions,
  startItSimulator,
} from '../../../src/markets/it/simulator/app.ts'

/** A simulator on a real port with no waiting (latency 0), closed after the file's tests; and a client of it. */
export async function simulator(
  options: ItSimulatorOptions = {},
): Promise<ItSimulator & { client: FpmateClient }> {
  const started = await startItSimulator({ latencyMs: 0, readLatencyMs: 0, reportMs: 0, ...options })
  after(() => started.close())
  return { ...started, client: new FpmateClient({ url: started.url }) }
}

export interface Item {
  description?: string
  /** Thousandths. */
  quantity?: number
  unitPrice: number
  department?: number
}

/** A sale as the published clients send it: begin, items, extra steps (lottery, tax id), totals, end. */
export function sale(items: Item[], payments: number[] = [], extra: FiscalReceiptStep[] = []): FpmateCommand {
  const total = items.reduce(
    (sum, item) => sum + Math.round(((item.quantity ?? 1000) * item.unitPrice) / 1000),
    0,
  )
  return {
    root: 'printerFiscalReceipt',
    steps: [
      { kind: 'beginFiscalReceipt', operator: '1' },
      ...items.map(
        (item): FiscalReceiptStep => ({
          kind: 'printRecItem',
          operator: '1',
          description: item.description ?? 'Articolo',
          quantity: item.quantity ?? 1000,
          unitPrice: item.unitPrice,
          department: item.department ?? 1,
        }),
      ),
      ...extra,
      ...(payments.length > 0 ? payments : [total]).map(
        (payment): FiscalReceiptStep => ({
          kind: 'printRecTotal',
          description: 'CONTANTI',
          payment,
          paymentType: 0,
          index: 0,
        }),
      ),
      { kind: 'endFiscalReceipt', operator: '1' },
    ],
  }
}

/** A return or void of `reference`: the reference line, then printRecRefund / printRecVoid lines, the total. */
export function returnOf(reference: DocumentReference, amount: number): FpmateCommand {
  return {
    root: 'printerFiscalReceipt',
    steps: [
      referenceMessage(reference),
      { kind: 'beginFiscalReceipt', operator: '1' },
      {
        kind: reference.kind === 'REFUND' ? 'printRecRefund' : 'printRecVoid',
        description: 'Reso',
        quantity: 1000,
        unitPrice: amount,
        department: 1,
      },
      { kind: 'printRecTotal', payment: amount, paymentType: 0, index: 0 },
      { kind: 'endFiscalReceipt' },
    ],
  }
}

export const zReport: FpmateCommand = {
  root: 'printerFiscalReport',
  steps: [{ kind: 'printZReport', operator: '1' }],
}
export const xReport: FpmateCommand = {
  root: 'printerFiscalReport',
  steps: [{ kind: 'printXReport', operator: '1' }],
}

/** The device's answer; anything else (no answer, unreachable) fails the test with its reason. */
export function answered(outcome: FpmateOutcome): FpmateResponse {
  if (outcome.kind !== 'answer') throw new Error(`expected an answer, got ${outcome.kind}: ${outcome.reason}`)
  return outcome.response
}

export async function putFaults(url: string, change: Record<string, unknown>): Promise<Response> {
  return fetch(`${url}/_sim/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(change),
  })
}

export async function journalOf(url: string): Promise<any[]> {
  return ((await (await fetch(`${url}/_sim/journal`)).json()) as { journal: any[] }).journal
}
