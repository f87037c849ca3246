import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Runtime } from '../../runtime.ts'
import { errorResponses } from './schemas.ts'

const Grant = Type.Object({
  access_token: Type.String(),
  access_token_claims: Type.Object({ env: Type.String(), organization_id: Type.String() }),
  access_token_expires_in: Type.Integer({ description: 'seconds' }),
  access_token_expires_at: Type.Integer({ description: 'unix seconds' }),
  refresh_token: Type.String(),
  refresh_token_expires_in: Type.Integer(),
  refresh_token_expires_at: Type.Integer(),
})

export function authRoute(runtime: Runtime): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/auth',
      {
        schema: {
          tags: ['SIGN DE v2'],
          summary: 'Authenticate with api_key/api_secret or a refresh_token',
          security: [],
          body: Type.Union([
            Type.Object({
              api_key: Type.String({ maxLength: 200 }),
              api_secret: Type.String({ maxLength: 200 }),
            }),
            Type.Object({ refresh_token: Type.String({ maxLength: 200 }) }),
          ]),
          response: { 200: Grant, ...errorResponses(400, 401) },
        },
      },
      async (request) => runtime.de.credentials.authenticate(request.body as never),
    )
  }
}
