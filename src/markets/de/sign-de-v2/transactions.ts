import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { invalid } from '../../../core/errors.ts'
import type { TxSchema as DomainTxSchema } from '../tss/process-data.ts'
import type { Runtime } from '../../../runtime.ts'
import { listQuery, lower } from './query.ts'
import {
  ListQuery,
  listOf,
  Metadata,
  MetadataPatch,
  QueryInteger,
  Transaction,
  TxSchema,
  Uuid,
  errorResponses,
} from './schemas.ts'
import { listView, transactionView } from './views.ts'
import { deServicesOf } from '../services.ts'

const tags = ['SIGN DE v2: transaction']
const TxParams = Type.Object({ tss_id: Uuid, tx_id_or_number: Type.String({ maxLength: 40 }) })
const TxListQuery = ListQuery(['number', 'state', 'time_start', 'time_end'])
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/

const revisionOf = (text: string | undefined) => (text === undefined ? undefined : Number(text))

export function transactionRoutes(runtime: Runtime): FastifyPluginAsyncTypebox {
  const service = deServicesOf(runtime.marketFor).tss
  return async (app) => {
    app.put(
      '/tss/:tss_id/tx/:tx_id_or_number',
      {
        schema: {
          tags,
          summary: 'Start (tx_revision=1), update (ACTIVE) or end (FINISHED, CANCELLED) a transaction',
          params: TxParams,
          querystring: Type.Object({
            tx_revision: QueryInteger('1 starts; each later call is the previous revision + 1'),
          }),
          body: Type.Object(
            {
              state: Type.Union([
                Type.Literal('ACTIVE'),
                Type.Literal('FINISHED'),
                Type.Literal('CANCELLED'),
              ]),
              client_id: Uuid,
              schema: Type.Optional(TxSchema),
              metadata: Type.Optional(MetadataPatch),
            },
            { additionalProperties: false },
          ),
          response: { 200: Transaction, ...errorResponses(400, 401, 404, 409, 423) },
        },
      },
      async (request) => {
        const txId = request.params.tx_id_or_number
        if (!UUID.test(txId)) throw invalid('tx_id', 'must be a UUID (start a transaction with a new id)')
        const result = await service.upsertTransaction(
          request.signDeCaller,
          lower(request.params.tss_id),
          lower(txId),
          Number(request.query.tx_revision),
          {
            state: request.body.state,
            clientId: lower(request.body.client_id),
            schema: request.body.schema as DomainTxSchema | undefined,
            metadata: request.body.metadata,
          },
        )
        return transactionView(request.signDeCaller, result)
      },
    )

    const idOf = (text: string) => (UUID.test(text) ? lower(text) : text)

    app.get(
      '/tss/:tss_id/tx/:tx_id_or_number',
      {
        schema: {
          tags,
          summary: 'Retrieve a transaction (latest revision unless tx_revision is given)',
          params: TxParams,
          querystring: Type.Object({ tx_revision: Type.Optional(QueryInteger('a revision')) }),
          response: { 200: Transaction, ...errorResponses(400, 401, 404) },
        },
      },
      async (request) =>
        transactionView(
          request.signDeCaller,
          await service.getTransaction(
            request.signDeCaller,
            lower(request.params.tss_id),
            idOf(request.params.tx_id_or_number),
            revisionOf(request.query.tx_revision),
          ),
        ),
    )

    app.get(
      '/tss/:tss_id/tx/:tx_id_or_number/log',
      {
        schema: {
          tags,
          summary: 'The signed TR-03151 log message of a revision (DER, deprecated)',
          params: TxParams,
          querystring: Type.Object({ tx_revision: Type.Optional(QueryInteger('a revision')) }),
          produces: ['application/octet-stream'],
        },
      },
      async (request, reply) => {
        const log = await service.transactionLog(
          request.signDeCaller,
          lower(request.params.tss_id),
          idOf(request.params.tx_id_or_number),
          revisionOf(request.query.tx_revision),
        )
        return reply.type('application/octet-stream').send(log)
      },
    )

    app.get(
      '/tss/:tss_id/tx/:tx_id_or_number/metadata',
      {
        schema: {
          tags,
          summary: 'Transaction metadata',
          params: TxParams,
          response: { 200: Metadata, ...errorResponses(401, 404) },
        },
      },
      async (request) =>
        (
          await service.getTransaction(
            request.signDeCaller,
            lower(request.params.tss_id),
            idOf(request.params.tx_id_or_number),
          )
        ).metadata,
    )
    app.patch(
      '/tss/:tss_id/tx/:tx_id_or_number/metadata',
      {
        schema: {
          tags,
          summary: 'Update transaction metadata',
          params: TxParams,
          body: MetadataPatch,
          response: { 200: Metadata, ...errorResponses(400, 401, 404) },
        },
      },
      async (request) =>
        service.updateTransactionMetadata(
          request.signDeCaller,
          lower(request.params.tss_id),
          idOf(request.params.tx_id_or_number),
          request.body,
        ),
    )

    app.get(
      '/tss/:tss_id/tx',
      {
        schema: {
          tags,
          summary: 'List the transactions of a TSS',
          params: Type.Object({ tss_id: Uuid }),
          querystring: TxListQuery,
          response: { 200: listOf(Transaction, 'TRANSACTION_LIST'), ...errorResponses(400, 401, 404) },
        },
      },
      async (request) => {
        const caller = request.signDeCaller
        const page = await service.listTransactions(caller, listQuery(request.query, 'number'), {
          tssId: lower(request.params.tss_id),
        })
        return listView(caller, 'TRANSACTION_LIST', {
          data: page.data.map((t) => transactionView(caller, t)),
          count: page.count,
        })
      },
    )
    app.get(
      '/tx',
      {
        schema: {
          tags,
          summary: 'List all transactions',
          querystring: TxListQuery,
          response: { 200: listOf(Transaction, 'TRANSACTION_LIST'), ...errorResponses(400, 401) },
        },
      },
      async (request) => {
        const caller = request.signDeCaller
        const page = await service.listTransactions(caller, listQuery(request.query, 'number'))
        return listView(caller, 'TRANSACTION_LIST', {
          data: page.data.map((t) => transactionView(caller, t)),
          count: page.count,
        })
      },
    )
  }
}
