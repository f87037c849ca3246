import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { caseCodeFormOfRequest, parseReceipt, type ReceiptRequestBody } from '../../core/receipt.ts'
import { receiptResponseIn } from '../../core/receipt-response.ts'
import type { Runtime } from '../../runtime.ts'
import { sendJsonText } from '../send-json.ts'
import { operationOf } from './operation.ts'
import { problemResponses, ReceiptRequest, ReceiptResponse, SignHeaders } from './schemas.ts'

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
        const response = await runtime.signService.sign({
          cashbox: request.cashbox,
          ...operationOf(request),
          body,
          receipt,
        })
        // The stored bytes are the answer, for the first call and every replay alike, written in the
        // request's case code form (the same body always gets the same bytes).
        return sendJsonText(reply, receiptResponseIn(caseCodeFormOfRequest(body), response))
      },
    )
  }
}
