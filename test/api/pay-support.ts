import { randomUUID } from 'node:crypto'
import { type Pos, parseExactJson, type Reply } from './support.ts'

export interface PayOptions {
  operationId?: string
  lifetimeMs?: number
  headers?: Record<string, string | undefined>
}

/** POST /v2/pay as the POS sends it. */
export async function pay(pos: Pos, body: unknown, options: PayOptions = {}): Promise<Reply> {
  const response = await pos.app.inject({
    method: 'POST',
    url: '/v2/pay',
    headers: pos.headers({
      'x-operation-id': options.operationId ?? randomUUID(),
      ...(options.lifetimeMs === undefined ? {} : { 'x-operation-lifetime': String(options.lifetimeMs) }),
      ...options.headers,
    }),
    payload: JSON.stringify(body),
  })
  return {
    status: response.statusCode,
    headers: response.headers,
    payload: response.payload,
    json: () => parseExactJson(response.payload),
  }
}

export const payStatus = (pos: Pos, operationId: string) => pos.get(`/v2/pay/${operationId}`)

/** A simulator payment request; `simulate` goes to ProtocolRequest.Simulate. */
export function payment(
  amount: number | string,
  options: {
    action?: string
    protocol?: string
    simulate?: Record<string, unknown>
    caseData?: unknown
  } = {},
): Record<string, unknown> {
  return {
    Action: options.action ?? 'payment',
    Protocol: options.protocol ?? 'simulator',
    cbPayItem: {
      Description: 'Card',
      Amount: amount,
      ...(options.caseData !== undefined
        ? { ftPayItemCaseData: options.caseData }
        : options.simulate
          ? { ftPayItemCaseData: { Provider: { ProtocolRequest: { Simulate: options.simulate } } } }
          : {}),
    },
  }
}

/** cancel / refund of a payment: its ftPayItem as answered, with the amount given back. */
export function reversal(
  action: 'cancel' | 'refund',
  paid: any,
  amount: number | string,
): Record<string, unknown> {
  const item = structuredClone(paid.ftPayItems[0])
  return {
    Action: action,
    Protocol: 'simulator',
    cbPayItem: { ...item, Amount: amount },
  }
}
