import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { parseReceipt, type ReceiptRequestBody } from '../../core/receipt.ts'
import type { Runtime } from '../../runtime.ts'
import { sendJsonText } from '../send-json.ts'
import { problemResponses, ReceiptRequest, ReceiptResponse, SignHeaders } from './schemas.ts'

const DEFAULT_LIFETIME_MS = 15_000

export function signRoute(runtime: Runtime): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/sign',
      {
        schema: {
          summary: 'Fiscalize a receipt (also start, stop, zero receipts and closings)',
          description:
            'Idempotent by x-operation-id: the same id and body return the stored response byte for byte; a different body returns 409; a duplicate of a call still running waits up to x-operation-lifetime, then 422.',
          headers: SignHeaders,
          body: ReceiptRequest,
          response: { 200: ReceiptResponse, ...problemResponses },
        },
      },
      async (request, reply) => {
        const body = request.body as ReceiptRequestBody
        const receipt = parseReceipt(body)
        const lifetime = request.headers['x-operation-lifetime']
        const response = await runtime.signService.sign({
          cashbox: request.cashbox,
          operationId: request.headers['x-operation-id'].toLowerCase(),
          lifetimeMs: lifetime === undefined ? DEFAULT_LIFETIME_MS : Number(lifetime),
          body,
          receipt,
        })
        // The stored bytes are the answer, for the first call and every replay alike.
        return sendJsonText(reply, response)
      },
    )
  }
}
