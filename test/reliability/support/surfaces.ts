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
  country?: string
  /** A SIGN DE target: the TSS and client the operation writes to, and the organization's bearer token. */
  signDe?: { tssId: string; clientId: string; token: () => string }
}

/** One HTTP request of an operation. */
export interface Step {
  method: 'POST' | 'PUT'
  path: string
  headers: Record<string, string>
  body: string
}

export interface WriteSurface {
  name: string
  /** Which targets (cash boxes, TSS clients) the surface writes to, chosen from a suite's targets. */
  kind: 'EU' | 'AT' | 'DE'
  /** A valid body for the k-th operation of a run (valid whatever order the operations commit in). */
  body(k: number): string
  /**
   * The requests of one attempt of an operation, sent in order; the answer of the last is the acknowledgement.
   * Every step must be idempotent by the operation's id: a retry sends them all again.
   */
  steps(target: Cashbox, operationId: string, body: string): Step[]
}

const posStep = (target: Cashbox, operationId: string, body: string): Step[] => [
  {
    method: 'POST',
    path: '/v2/sign',
    headers: { ...cashboxHeaders(target), 'x-operation-id': operationId },
    body,
  },
]

const EU_POS = '0x4555200000000001'
const EU_START = '0x4555200000004001'

export const signSurface: WriteSurface = {
  name: 'POS System API v2 /v2/sign',
  kind: 'EU',
  steps: posStep,
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

/** Every Austrian receipt of a run carries this moment: RKSV dates must not decrease, whatever the commit order. */
const AT_MOMENT = new Date().toISOString()

/** Austrian receipts (RKSV: JWS, encrypted turnover counter, chain) through /v2/sign; their DEP7 is verified too. */
export const atSignSurface: WriteSurface = {
  name: 'POS System API v2 /v2/sign, Austria (RKSV)',
  kind: 'AT',
  steps: posStep,
  body: (k) => {
    const cents = (k % 9_973) + 1
    const amount = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`
    return JSON.stringify({
      cbReceiptReference: `B-${k}-${randomUUID().slice(0, 8)}`,
      cbReceiptMoment: AT_MOMENT,
      ftReceiptCase: '0x4154200000000001',
      cbChargeItems: [
        {
          Quantity: 1,
          Description: `item ${k}`,
          Amount: amount,
          VATRate: 20,
          ftChargeItemCase: '0x4154200000000003',
        },
      ],
      cbPayItems: [{ Description: 'Bar', Amount: amount, ftPayItemCase: '0x4154200000000001' }],
    })
  },
}

/**
 * A SIGN DE transaction through /api/v2: start (revision 1) then finish (revision 2) with a receipt. The
 * operation id is the transaction id; a repeated revision answers its first answer, so a retry sends both.
 */
export const signDeSurface: WriteSurface = {
  name: 'SIGN DE v2 transaction start + finish',
  kind: 'DE',
  body: (k) => {
    const cents = (k % 9_973) + 1
    return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`
  },
  steps: (target, operationId, amount) => {
    const de = target.signDe
    if (!de) throw new Error('not a SIGN DE target')
    const headers = { authorization: `Bearer ${de.token()}` }
    const path = `/api/v2/tss/${de.tssId}/tx/${operationId}`
    return [
      {
        method: 'PUT',
        path: `${path}?tx_revision=1`,
        headers,
        body: JSON.stringify({ state: 'ACTIVE', client_id: de.clientId }),
      },
      {
        method: 'PUT',
        path: `${path}?tx_revision=2`,
        headers,
        body: JSON.stringify({
          state: 'FINISHED',
          client_id: de.clientId,
          schema: {
            standard_v1: {
              receipt: {
                receipt_type: 'RECEIPT',
                amounts_per_vat_rate: [{ vat_rate: 'NORMAL', amount }],
                amounts_per_payment_type: [{ payment_type: 'CASH', amount }],
              },
            },
          },
        }),
      },
    ]
  },
}

/** Every write surface that exists now. */
export const WRITE_SURFACES: WriteSurface[] = [signSurface, atSignSurface, signDeSurface]

/** The start receipt that opens a queue for signing (sent through /v2/sign before any load). */
export const startBody = (label: string, country: 'EU' | 'AT' = 'EU'): string =>
  JSON.stringify({
    cbReceiptReference: `start-${label.slice(0, 8)}`,
    cbReceiptMoment: country === 'AT' ? AT_MOMENT : new Date().toISOString(),
    ftReceiptCase: country === 'AT' ? '0x4154200000004001' : EU_START,
    cbChargeItems: [],
    cbPayItems: [],
  })

export const cashboxHeaders = (cashbox: Cashbox): Record<string, string> => ({
  'x-cashbox-id': cashbox.cashboxId,
  'x-cashbox-accesstoken': cashbox.accessToken,
})

/** What kind of target a cash box (or TSS client) is. */
export const kindOf = (target: Cashbox): WriteSurface['kind'] =>
  target.signDe ? 'DE' : target.country === 'AT' ? 'AT' : 'EU'
