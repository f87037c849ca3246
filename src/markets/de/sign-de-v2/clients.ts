import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Runtime } from '../../../runtime.ts'
import { listQuery, lower } from './query.ts'
import {
  Client,
  ListQuery,
  listOf,
  Metadata,
  MetadataPatch,
  Transaction,
  Uuid,
  errorResponses,
} from './schemas.ts'
import { clientView, listView, transactionView } from './views.ts'
import { deServicesOf } from '../services.ts'

const ClientParams = Type.Object({ tss_id: Uuid, client_id: Uuid })
const tags = ['SIGN DE v2: client']
const ClientListQuery = ListQuery(['serial_number', 'state', 'time_creation', 'time_update'])

export function clientRoutes(runtime: Runtime): FastifyPluginAsyncTypebox {
  const service = deServicesOf(runtime.marketFor).tss
  return async (app) => {
    app.put(
      '/tss/:tss_id/client/:client_id',
      {
        schema: {
          tags,
          summary: 'Register a client (admin); at most 199 per TSS',
          params: ClientParams,
          body: Type.Object(
            { serial_number: Type.String({ maxLength: 70 }), metadata: Type.Optional(Metadata) },
            { additionalProperties: false },
          ),
          response: { 200: Client, ...errorResponses(400, 401, 403, 404, 409, 423) },
        },
      },
      async (request) =>
        clientView(
          request.signDeCaller,
          await service.upsertClient(
            request.signDeCaller,
            lower(request.params.tss_id),
            lower(request.params.client_id),
            {
              serialNumber: request.body.serial_number,
              metadata: request.body.metadata,
            },
          ),
        ),
    )

    app.patch(
      '/tss/:tss_id/client/:client_id',
      {
        schema: {
          tags,
          summary: 'Deregister or register again (admin), or update metadata',
          params: ClientParams,
          body: Type.Object(
            {
              state: Type.Optional(Type.Union([Type.Literal('REGISTERED'), Type.Literal('DEREGISTERED')])),
              metadata: Type.Optional(MetadataPatch),
            },
            { additionalProperties: false },
          ),
          response: { 200: Client, ...errorResponses(400, 401, 403, 404, 423) },
        },
      },
      async (request) =>
        clientView(
          request.signDeCaller,
          await service.updateClient(
            request.signDeCaller,
            lower(request.params.tss_id),
            lower(request.params.client_id),
            request.body,
          ),
        ),
    )

    app.get(
      '/tss/:tss_id/client/:client_id',
      {
        schema: {
          tags,
          summary: 'Retrieve a client',
          params: ClientParams,
          response: { 200: Client, ...errorResponses(401, 404) },
        },
      },
      async (request) =>
        clientView(
          request.signDeCaller,
          await service.getClient(
            request.signDeCaller,
            lower(request.params.client_id),
            lower(request.params.tss_id),
          ),
        ),
    )

    app.get(
      '/tss/:tss_id/client/:client_id/metadata',
      {
        schema: {
          tags,
          summary: 'Client metadata',
          params: ClientParams,
          response: { 200: Metadata, ...errorResponses(401, 404) },
        },
      },
      async (request) =>
        (
          await service.getClient(
            request.signDeCaller,
            lower(request.params.client_id),
            lower(request.params.tss_id),
          )
        ).metadata,
    )
    app.patch(
      '/tss/:tss_id/client/:client_id/metadata',
      {
        schema: {
          tags,
          summary: 'Update client metadata',
          params: ClientParams,
          body: MetadataPatch,
          response: { 200: Metadata, ...errorResponses(400, 401, 404) },
        },
      },
      async (request) =>
        (
          await service.updateClient(
            request.signDeCaller,
            lower(request.params.tss_id),
            lower(request.params.client_id),
            {
              metadata: request.body,
            },
          )
        ).metadata,
    )

    const list = (tssId?: string) => async (request: { signDeCaller: never; query: never }) => {
      const caller = request.signDeCaller
      const page = await service.listClients(caller, listQuery(request.query, 'time_creation'), tssId)
      return listView(caller, 'CLIENT_LIST', {
        data: page.data.map((c) => clientView(caller, c)),
        count: page.count,
      })
    }
    app.get(
      '/tss/:tss_id/client',
      {
        schema: {
          tags,
          summary: 'List the clients of a TSS',
          params: Type.Object({ tss_id: Uuid }),
          querystring: ClientListQuery,
          response: { 200: listOf(Client, 'CLIENT_LIST'), ...errorResponses(400, 401, 404) },
        },
      },
      async (request) => list(lower(request.params.tss_id))(request as never),
    )
    app.get(
      '/client',
      {
        schema: {
          tags,
          summary: 'List all clients',
          querystring: ClientListQuery,
          response: { 200: listOf(Client, 'CLIENT_LIST'), ...errorResponses(400, 401) },
        },
      },
      async (request) => list()(request as never),
    )

    app.get(
      '/tss/:tss_id/client/:client_id/tx',
      {
        schema: {
          tags,
          summary: 'List the transactions of a client',
          params: ClientParams,
          querystring: ListQuery(['number', 'state', 'time_start', 'time_end']),
          response: { 200: listOf(Transaction, 'TRANSACTION_LIST'), ...errorResponses(400, 401, 404) },
        },
      },
      async (request) => {
        const caller = request.signDeCaller
        const page = await service.listTransactions(caller, listQuery(request.query, 'number'), {
          tssId: lower(request.params.tss_id),
          clientId: lower(request.params.client_id),
        })
        return listView(caller, 'TRANSACTION_LIST', {
          data: page.data.map((t) => transactionView(caller, t)),
          count: page.count,
        })
      },
    )
  }
}
