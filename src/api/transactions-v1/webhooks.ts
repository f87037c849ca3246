import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { deliveryView, endpointView } from '../../core/v1/views.ts'
import type { V1Runtime } from '../../v1-runtime.ts'
import { page } from './errors.ts'
import {
  CreateWebhookAnswer,
  CreateWebhookBody,
  DeliveryList,
  IdParams,
  PageQuery,
  problems,
  WebhookEndpoint,
} from './schemas.ts'

const tags = ['transactions v1: webhooks']

export function webhookRoutes(v1: V1Runtime): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/webhooks',
      {
        schema: {
          summary: 'Register a webhook endpoint; its whsec_ secret is shown once',
          tags,
          body: CreateWebhookBody,
          response: { 201: CreateWebhookAnswer, ...problems(400, 401, 403, 429) },
        },
        config: { requestName: 'CreateWebhookRequest' },
      },
      async (request, reply) => {
        const created = await v1.webhooks.create(request.caller, request.body.url, request.body.events)
        return reply.code(201).send({ endpoint: endpointView(created.endpoint), secret: created.secret })
      },
    )
    app.get(
      '/webhooks',
      {
        schema: {
          summary: 'List the active webhook endpoints',
          tags,
          response: { 200: Type.Object({ data: Type.Array(WebhookEndpoint) }), ...problems(401, 403, 429) },
        },
      },
      async (request) => ({ data: (await v1.webhooks.list(request.caller)).map(endpointView) }),
    )
    app.delete(
      '/webhooks/:id',
      {
        schema: {
          summary: 'Remove a webhook endpoint (its pending deliveries end in the dead letter)',
          tags,
          params: IdParams,
          response: { 204: Type.Null(), ...problems(401, 403, 404, 429) },
        },
      },
      async (request, reply) => {
        await v1.webhooks.remove(request.caller, request.params.id)
        return reply.code(204).send(null)
      },
    )
    app.get(
      '/webhooks/:id/deliveries',
      {
        schema: {
          summary: 'The delivery log of an endpoint, newest first',
          tags,
          params: IdParams,
          querystring: PageQuery,
          response: { 200: DeliveryList, ...problems(400, 401, 403, 404, 429) },
        },
      },
      async (request) => {
        const { limit, offset } = page(request.query)
        const { data, total } = await v1.webhooks.deliveries(request.caller, request.params.id, limit, offset)
        return { data: data.map(deliveryView), total, limit, offset }
      },
    )
  }
}
