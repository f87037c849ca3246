import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { invalid } from '../../core/errors.ts'
import { CashboxHeaders, problemResponses } from './schemas.ts'

const EchoBody = Type.Object({
  Message: Type.Optional(Type.String({ maxLength: 10_000 })),
  message: Type.Optional(Type.String({ maxLength: 10_000 })),
})

export const echoRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/echo',
    {
      schema: {
        summary: 'Connectivity check: returns the message it was sent',
        headers: CashboxHeaders,
        body: EchoBody,
        response: { 200: Type.Object({ Message: Type.String() }), ...problemResponses },
      },
    },
    async (request) => {
      const message = request.body.Message ?? request.body.message
      if (message === undefined) throw invalid('Message', 'is required')
      return { Message: message }
    },
  )
}
