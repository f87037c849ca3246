import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { IssuedReceipt, IssueRequestBody } from '../../receipts/issue-service.ts'
import type { Runtime } from '../../runtime.ts'
import { CashboxHeaders, problemResponses, ReceiptRequest } from './schemas.ts'

const IssueBody = Type.Object({
  ReceiptRequest,
  ReceiptResponse: Type.Object(
    { ftQueueID: Type.String({ maxLength: 64 }), ftQueueItemID: Type.String({ maxLength: 64 }) },
    {
      additionalProperties: true,
      description:
        'the ReceiptResponse /v2/sign answered, compared by meaning: numbers or hex, up to 7 fractional digits, members a client model lacks may be left out',
    },
  ),
})

const IssueResponse = Type.Object({
  ftQueueID: Type.String(),
  ftQueueItemID: Type.String(),
  ftQueueRow: Type.Integer(),
  DocumentURL: Type.String({
    description: 'public link to the receipt (HTML; PDF, text and ESC/POS below it)',
  }),
})

const Delivery = Type.Object({
  message: Type.String(),
  DeliveredAt: Type.String(),
  DeliveredBy: Type.String({ description: 'pos or viewer' }),
})

const DeliveryParams = Type.Object({ queueId: Type.String(), queueItemId: Type.String() })

const delivery = (issued: IssuedReceipt) => ({
  message: `delivered at ${issued.deliveredAt} (marked by the ${issued.deliveredBy})`,
  DeliveredAt: String(issued.deliveredAt),
  DeliveredBy: String(issued.deliveredBy),
})

/**
 * `publicUrl` is the configured base of public links. It was once the Host header of the request, which a
 * client (or anyone in front of a proxy that passes it on) could set to any text, and it came back inside
 * a link the customer opens.
 */
export function issueRoutes(runtime: Runtime, publicUrl: () => string): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/issue',
      {
        schema: {
          summary: 'Issue a signed receipt as a digital receipt: returns its public DocumentURL',
          description:
            'The ReceiptRequest must be the one sent to /v2/sign, the ReceiptResponse must mean what the journal stored (checked member by member, see docs/possystem-api-v2.md); issuing the same receipt again returns the same link. See docs/receipts.md.',
          headers: CashboxHeaders,
          body: IssueBody,
          response: { 200: IssueResponse, ...problemResponses },
        },
      },
      async (request) => {
        const { issued, queueRow } = await runtime.receipts.issue(
          request.cashbox,
          request.body as unknown as IssueRequestBody,
        )
        return {
          ftQueueID: issued.queueId,
          ftQueueItemID: issued.queueItemId,
          ftQueueRow: queueRow,
          DocumentURL: `${publicUrl()}/r/${issued.id}`,
        }
      },
    )

    app.get(
      '/issue/:queueId/:queueItemId/delivered',
      {
        schema: {
          summary: 'Whether the digital receipt was delivered: 200 once it was, 204 while not yet',
          headers: CashboxHeaders,
          params: DeliveryParams,
          response: { 200: Delivery, 204: Type.Null(), ...problemResponses },
        },
      },
      async (request, reply) => {
        const { queueId, queueItemId } = request.params
        const issued = await runtime.receipts.delivery(request.cashbox, queueId, queueItemId)
        if (issued.deliveredAt === null) return reply.code(204).send(null)
        return delivery(issued)
      },
    )

    app.post(
      '/issue/:queueId/:queueItemId/delivered',
      {
        schema: {
          summary: 'Mark the digital receipt delivered (e.g. the POS showed or sent the link)',
          headers: CashboxHeaders,
          params: DeliveryParams,
          response: { 200: Delivery, ...problemResponses },
        },
      },
      async (request) => {
        const { queueId, queueItemId } = request.params
        return delivery(await runtime.receipts.markDeliveredByPos(request.cashbox, queueId, queueItemId))
      },
    )
  }
}
