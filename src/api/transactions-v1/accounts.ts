import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { ApiKeyRecord } from '../../core/v1/model.ts'
import type { V1Runtime } from '../../v1-runtime.ts'
import { applyRateLimit } from './auth.ts'
import { CreateAccountAnswer, CreateAccountBody, problems } from './schemas.ts'

export const keyView = (k: ApiKeyRecord) => ({
  id: k.id,
  environment: k.environment,
  name: k.name,
  key_hint: k.keyHint,
  created_at: k.createdAt,
  revoked_at: k.revokedAt,
})

/** POST /v1/accounts: no key needed; limited per client address instead. */
export function accountRoutes(v1: V1Runtime): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/accounts',
      {
        schema: {
          summary: 'Create an account and its first test API key (shown once)',
          tags: ['transactions v1'],
          security: [],
          body: CreateAccountBody,
          response: { 201: CreateAccountAnswer, ...problems(400, 409, 429) },
        },
        config: { requestName: 'CreateAccountRequest' },
        onRequest: async (request, reply) => applyRateLimit(v1.rateLimiter, `ip:${request.ip}`, reply),
      },
      async (request, reply) => {
        const created = await v1.accounts.createAccount(request.body.name, request.body.billing_email)
        return reply.code(201).send({
          account: {
            id: created.account.id,
            name: created.account.name,
            billing_email: created.account.billingEmail,
            created_at: created.account.createdAt,
          },
          api_key: created.apiKey,
          key: keyView(created.key),
        })
      },
    )
  }
}
