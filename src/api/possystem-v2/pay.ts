import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import { Type } from 'typebox'
import { type PayAnswer, PaymentFailed } from '../../core/payments/pay-service.ts'
import { PAY_ACTIONS, PAYMENT_STATES } from '../../core/payments/payment.ts'
import type { PayRequestBody } from '../../core/payments/pay-request.ts'
import type { Runtime } from '../../runtime.ts'
import { sendJsonText } from '../send-json.ts'
import { operationOf } from './operation.ts'
import { CashboxHeaders, OperationHeaders, PayItem, Problem, problemResponses } from './schemas.ts'

const PayBody = Type.Object(
  {
    Action: Type.Union(
      PAY_ACTIONS.map((action) => Type.Literal(action)),
      { description: 'cancel and refund take a negative Amount and the original pay item data' },
    ),
    Protocol: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 60,
        description:
          'use_auto (default: first reachable provider), use_first, or a protocol name such as simulator',
      }),
    ),
    cbTerminalID: Type.Optional(Type.String({ maxLength: 200 })),
    Currency: Type.Optional(Type.String({ maxLength: 3, description: 'ISO 4217, default EUR' })),
    cbPayItem: PayItem,
  },
  { additionalProperties: true },
)

const PayResponse = Type.Object(
  {
    Protocol: Type.String({ description: 'the Protocol the request asked for (use_auto when absent)' }),
    ftQueueID: Type.String(),
    ftPayItems: Type.Array(Type.Unknown(), {
      description: 'send these unchanged as cbPayItems to /v2/sign',
    }),
  },
  { additionalProperties: true },
)

const PayPending = Type.Object(
  {
    Protocol: Type.String({ description: 'the Protocol the request asked for (use_auto when absent)' }),
    ftQueueID: Type.String(),
    ftPayItems: Type.Array(Type.Unknown(), { maxItems: 0 }),
    State: Type.Union(PAYMENT_STATES.map((state) => Type.Literal(state))),
    Message: Type.String(),
  },
  { additionalProperties: true },
)

/** payment_error and device_not_reachable carry the provider's details instead of a field. */
const PaymentProblem = Type.Intersect([
  Type.Omit(Problem, ['details']),
  Type.Object({
    details: Type.Object(
      {
        protocol: Type.String(),
        errorCode: Type.Optional(
          Type.String({ description: 'e.g. CARD_DECLINED, TIMEOUT, CANCELLED_BY_CUSTOMER' }),
        ),
        terminalId: Type.Optional(Type.String()),
        deviceId: Type.Optional(Type.String()),
        lastContact: Type.Optional(Type.String()),
      },
      { additionalProperties: true },
    ),
  }),
])

const payResponses = {
  200: PayResponse,
  202: PayPending,
  ...problemResponses,
  402: PaymentProblem,
  502: PaymentProblem,
}

/** Runs the service call; a payment's error answer also tells its state. */
async function answered(reply: FastifyReply, call: Promise<PayAnswer>): Promise<FastifyReply> {
  try {
    return send(reply, await call)
  } catch (error) {
    if (error instanceof PaymentFailed) reply.header('x-payment-state', error.state)
    throw error
  }
}

function send(reply: FastifyReply, answer: PayAnswer): FastifyReply {
  // A POS polls a running payment by repeating the request; one second is a terminal's pace.
  if (answer.status === 202) reply.header('retry-after', '1')
  reply.header('x-payment-state', answer.state)
  return sendJsonText(reply.code(answer.status), answer.body)
}

export function payRoutes(runtime: Runtime): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/pay',
      {
        schema: {
          summary: 'Run a payment, cancel, refund or pre-authorization at a payment terminal',
          description:
            'Idempotent by x-operation-id. Waits up to x-operation-lifetime for the terminal: 200 with ftPayItems (usable unchanged as cbPayItems in /v2/sign), 202 with the state when the payment is still running (repeat the same request to poll; it is never charged twice), 402 payment_error, 502 device_not_reachable (nothing started: retry with the same id). See docs/payments.md.',
          headers: OperationHeaders,
          body: PayBody,
          response: payResponses,
        },
      },
      async (request, reply) => {
        const { operationId, lifetimeMs } = operationOf(request)
        const terminal = request.headers['x-terminal-id']
        return answered(
          reply,
          runtime.payments.pay({
            cashbox: request.cashbox,
            operationId,
            lifetimeMs,
            body: request.body as PayRequestBody,
            ...(terminal ? { headerTerminalId: terminal } : {}),
          }),
        )
      },
    )

    app.get(
      '/pay/:operationId',
      {
        schema: {
          summary: 'The outcome or current state of a /v2/pay operation',
          description:
            'The same answers as repeating the POST: 200, 202 while running, 402 or 502. Waits up to x-operation-lifetime (default 0 here) for a running payment.',
          headers: Type.Intersect([
            CashboxHeaders,
            Type.Object({ 'x-operation-lifetime': Type.Optional(Type.String({ pattern: '^\\d{1,7}$' })) }),
          ]),
          params: Type.Object({ operationId: Type.String({ format: 'uuid' }) }),
          response: payResponses,
        },
      },
      async (request, reply) => {
        const lifetime = request.headers['x-operation-lifetime']
        return answered(
          reply,
          runtime.payments.status(
            request.cashbox,
            request.params.operationId.toLowerCase(),
            lifetime === undefined ? 0 : Number(lifetime),
          ),
        )
      },
    )
  }
}
