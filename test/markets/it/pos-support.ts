import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import {
  startItSimulator,
  type ItSimulator,
  type ItSimulatorOptions,
} from '../../../src/markets/it/simulator/app.ts'
import type { JournalDocument } from '../../../src/markets/it/simulator/state.ts'
import { ContractPos } from '../contract.ts'

/**
 * A POS talking to an Italian cash box through HTTP only, and the RT device simulator it prints on. Case
 * codes are written here from the POS System API v2 layout (country IT = 0x4954, version 2). Not a test
 * file itself.
 */
export const IT_CASE = {
  pos: '0x4954200000000001',
  deliveryNote: '0x4954200000000005',
  b2b: '0x4954200000201002',
  refund: '0x4954200001000001',
  void: '0x4954200000040001',
  training: '0x4954200000020001',
  zero: '0x4954200000002000',
  daily: '0x4954200000002011',
  monthly: '0x4954200000002012',
  nonFiscal: '0x4954200200003000',
  start: '0x4954200000004001',
  stop: '0x4954200000004002',
} as const

/** `0x4954_2000_0000_0000 | low` as the response writes it. */
export const itType = (low: bigint) =>
  `0x${((0x4954n << 48n) | (2n << 44n) | low).toString(16).toUpperCase()}`
export const OK = '0x4954200000000000'
export const ERROR = '0x49542000EEEEEEEE'

export interface Line {
  amount: string
  vat: number
  quantity?: number
  description?: string
}

/** A receipt of `lines`, paid in cash unless `pay` says otherwise. */
export function itReceipt(
  caseCode: string,
  lines: Line[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const total = lines.reduce((sum, l) => sum + Math.round(Number(l.amount) * 100), 0)
  return {
    cbReceiptReference: `IT-${randomUUID().slice(0, 13)}`,
    cbReceiptMoment: new Date().toISOString(),
    ftReceiptCase: caseCode,
    cbChargeItems: lines.map((l, i) => ({
      Quantity: l.quantity ?? 1,
      Description: l.description ?? `Articolo ${i + 1}`,
      Amount: l.amount,
      VATRate: l.vat,
      ftChargeItemCase: '0x4954200000000003',
    })),
    cbPayItems:
      lines.length === 0
        ? []
        : [
            {
              Description: 'Contanti',
              Amount: (total / 100).toFixed(2),
              ftPayItemCase: '0x4954200000000001',
            },
          ],
    ...extra,
  }
}

export type ItSim = ItSimulator & {
  /** The fiscal documents of the electronic journal, in order. */
  documents(): JournalDocument[]
  setFaults(change: Record<string, unknown>): Promise<void>
}

/** The simulator on a real port, answering at once unless told otherwise. */
export async function startSim(options: ItSimulatorOptions = {}): Promise<ItSim> {
  const sim = await startItSimulator({ latencyMs: 0, readLatencyMs: 0, reportMs: 0, ...options })
  return Object.assign(sim, {
    documents: () => sim.device.state.journal.filter((e): e is JournalDocument => e.type !== 'ZREPORT'),
    async setFaults(change: Record<string, unknown>) {
      const reply = await fetch(`${sim.url}/_sim/faults`, { method: 'PUT', body: JSON.stringify(change) })
      assert.equal(reply.status, 200, await reply.text())
    },
  })
}

/** A started IT cash box whose RT device is `sim`. */
export async function itPos(
  app: FastifyInstance,
  box: ContractPos['box'],
  sim: { url: string },
  config: Record<string, unknown> = {},
): Promise<ContractPos> {
  const pos = new ContractPos(app, box)
  const configured = await pos.request('PUT', '/it/v1/cashbox', {
    device: 'epson-rt',
    url: sim.url,
    ...config,
  })
  assert.equal(configured.status, 200, configured.payload)
  const started = await pos.signOk(itReceipt(IT_CASE.start, []))
  assert.equal(started.ftState, OK, JSON.stringify(started))
  return pos
}

/** The signature of type 0x4954_2000_0000_{low}, or undefined. */
export const signature = (response: any, low: bigint) =>
  response.ftSignatures.find((s: any) => s.ftSignatureType === itType(low))
