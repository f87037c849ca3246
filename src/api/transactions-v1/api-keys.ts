import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { V1Runtime } from '../../v1-runtime.ts'
import { keyView } from './accounts.ts'
import { ApiKey, CreateKeyBody, IdParams, NewKeyAnswer, problems } from './schemas.ts'

const tags = ['transactions v1: keys']

/** The account's API keys: create (shown once), list (hints only), rotate, revoke. */
export function apiKeyRoutes(v1: V1Runtime): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api-keys',
      {
        schema: {
          summary: 'Create an API key',
          tags,
          body: CreateKeyBody,
          response: { 201: NewKeyAnswer, ...problems(400, 401, 403, 429) },
        },
        config: { requestName: 'CreateKeyRequest' },
      },
      async (request, reply) => {
        const created = await v1.accounts.createKey(
          request.caller,
          request.body.environment,
          request.body.name ?? 'default',
        )
        return reply.code(201).send({ api_key: created.apiKey, key: keyView(created.key) })
      },
    )
    app.get(
      '/api-keys',
      {
        schema: {
          summary: 'List the API keys (hints only)',
          tags,
          response: { 200: Type.Object({ data: Type.Array(ApiKey) }), ...problems(401, 403, 429) },
        },
      },
      async (request) => ({ data: (await v1.accounts.listKeys(request.caller)).map(keyView) }),
    )
    app.post(
      '/api-keys/:id/rotate',
      {
        schema: {
          summary: 'Replace a key by a new one of the same environment; the old key stops working at once',
          tags,
          params: IdParams,
          response: { 201: NewKeyAnswer, ...problems(401, 403, 404, 429) },
        },
      },
      async (request, reply) => {
        const rotated = await v1.accounts.rotateKey(request.caller, request.params.id)
        return reply
          .code(201)
          .send({ api_key: rotated.apiKey, key: keyView(rotated.key), revoked_key_id: rotated.revoked })
      },
    )
    app.delete(
      '/api-keys/:id',
      {
        schema: {
          summary: 'Revoke a key',
          tags,
          params: IdParams,
          response: { 204: Type.Null(), ...problems(401, 403, 404, 429) },
        },
      },
      async (request, reply) => {
        await v1.accounts.revokeKey(request.caller, request.params.id)
        return reply.code(204).send(null)
      },
    )
  }
}
