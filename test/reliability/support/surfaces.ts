import { randomUUID } from 'node:crypto'

/**
 * The write surfaces the crash, multinode and fault suites drive. Each is one line of WRITE_SURFACES: a
 * path, the headers that make an operation idempotent, and a body for the k-th operation. A later surface
 * (another API's sign, a closing endpoint) is added here and every suite sends it, retries it and checks it.
 */
export interface Cashbox {
  cashboxId: string
  accessToken: string
  queueId: string
}

export interface WriteSurface {
  name: string
  method: 'POST'
  path: string
  /** The header carrying the idempotency key of an operation. */
  operationHeader: string
  /** A valid body for the k-th operation of a run (valid whatever order the operations commit in). */
  body(k: number): string
}

const EU_POS = '0x4555200000000001'
const EU_START = '0x4555200000004001'

export const signSurface: WriteSurface = {
  name: 'POS System API v2 /v2/sign',
  method: 'POST',
  path: '/v2/sign',
  operationHeader: 'x-operation-id',
  body: (k) => {
    const cents = (k % 9_973) + 1
    const amount = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`
    return JSON.stringify({
      cbReceiptReference: `R-${k}-${randomUUID().slice(0, 8)}`,
      cbReceiptMoment: new Date().toISOString(),
      ftReceiptCase: EU_POS,
      cbChargeItems: [
        {
          Quantity: 1,
          Description: `item ${k}`,
          Amount: amount,
          VATRate: 20,
          ftChargeItemCase: '0x4555200000000013',
        },
      ],
      cbPayItems: [{ Description: 'Card', Amount: amount, ftPayItemCase: '0x4555200000000005' }],
    })
  },
}

/** Every write surface that exists now. */
export const WRITE_SURFACES: WriteSurface[] = [signSurface]

/** The start receipt that opens a queue for signing (sent through /v2/sign before any load). */
export const startBody = (label: string): string =>
  JSON.stringify({
    cbReceiptReference: `start-${label}`,
    cbReceiptMoment: new Date().toISOString(),
    ftReceiptCase: EU_START,
    cbChargeItems: [],
    cbPayItems: [],
  })

export const cashboxHeaders = (cashbox: Cashbox): Record<string, string> => ({
  'x-cashbox-id': cashbox.cashboxId,
  'x-cashbox-accesstoken': cashbox.accessToken,
})
