import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import { ErrorCode, FiscalError } from '../../core/errors.ts'
import type { TransactionRecord } from '../../core/v1/model.ts'
import { transactionView } from '../../core/v1/views.ts'
import type { V1Runtime } from '../../v1-runtime.ts'
import { page } from './errors.ts'
import {
  CancelBody,
  CreateTransactionBody,
  CreateTransactionHeaders,
  IdParams,
  ListQuery,
  problems,
  Transaction,
  TransactionList,
} from './schemas.ts'

const tags = ['transactions v1']

/** X-Fiscalization-Timeout: seconds (decimals allowed) the request may wait for inline fiscalization. */
function timeoutMs(header: string | undefined): number | undefined {
  if (header === undefined) return undefined
  const seconds = Number(header)
  if (header.trim() === '' || !Number.isFinite(seconds) || seconds < 0 || seconds > 60) {
    throw new FiscalError(
      ErrorCode.ValidationError,
      'X-Fiscalization-Timeout must be a number of seconds between 0 and 60',
      {
        field: 'X-Fiscalization-Timeout',
        reason: 'must be a number of seconds between 0 and 60',
      },
    )
  }
  return Math.round(seconds * 1000)
}

function idempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  if (!/^[\x21-\x7e]{1,255}$/.test(header)) {
    throw new FiscalError(
      ErrorCode.ValidationError,
      'Idempotency-Key must be 1 to 255 printable characters (a UUID)',
      {
        field: 'Idempotency-Key',
        reason: 'must be 1 to 255 printable characters',
      },
    )
  }
  return header
}

const created = (reply: FastifyReply, result: { transaction: TransactionRecord; replayed: boolean }) => {
  if (result.replayed) reply.header('idempotent-replayed', 'true')
  return reply.code(201).send(transactionView(result.transaction))
}

export function transactionRoutes(v1: V1Runtime): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/transactions',
      {
        schema: {
          summary: 'Submit a transaction for fiscalization (always 201 once stored)',
          description:
            'Stored, sealed into the location chain and committed, then fiscalized inline within X-Fiscalization-Timeout; otherwise the outbox goes on asynchronously with retries. The same Idempotency-Key returns the stored transaction.',
          tags,
          headers: CreateTransactionHeaders,
          body: CreateTransactionBody,
          response: { 201: Transaction, ...problems(400, 401, 403, 409, 429) },
        },
        config: { requestName: 'CreateRequest' },
      },
      async (request, reply) => {
        const result = await v1.transactions.create(request.caller, request.body, {
          idempotencyKey: idempotencyKey(request.headers['idempotency-key']),
          timeoutMs: timeoutMs(request.headers['x-fiscalization-timeout']),
        })
        return created(reply, result)
      },
    )
    app.get(
      '/transactions',
      {
        schema: {
          summary: 'List transactions, newest first',
          tags,
          querystring: ListQuery,
          response: { 200: TransactionList, ...problems(400, 401, 403, 429) },
        },
      },
      async (request) => {
        const { limit, offset } = page(request.query)
        const { data, total } = await v1.transactions.list(request.caller, {
          status: request.query.status,
          limit,
          offset,
        })
        return { data: data.map(transactionView), total, limit, offset }
      },
    )
    app.get(
      '/transactions/:id',
      {
        schema: {
          summary: 'Get a transaction',
          tags,
          params: IdParams,
          response: { 200: Transaction, ...problems(401, 403, 404, 429) },
        },
      },
      async (request) => transactionView(await v1.transactions.get(request.caller, request.params.id)),
    )
    app.post(
      '/transactions/:id/cancel',
      {
        schema: {
          summary: 'Cancel a fiscalized transaction: creates (once) a transaction of type cancellation',
          tags,
          params: IdParams,
          body: CancelBody,
          response: { 201: Transaction, ...problems(400, 401, 403, 404, 409, 429) },
        },
        config: { requestName: 'CancelRequest' },
      },
      async (request, reply) => {
        const result = await v1.transactions.cancel(request.caller, request.params.id, request.body?.reason, {
          timeoutMs: timeoutMs(request.headers['x-fiscalization-timeout'] as string | undefined),
        })
        return created(reply, result)
      },
    )
  }
}
