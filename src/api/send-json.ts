import type { FastifyReply } from 'fastify'

/**
 * Sends JSON that is already serialized, unchanged: stored responses are replayed byte for byte, and long
 * journals are streamed. Fastify passes a string or stream with a JSON content type through as it is.
 */
export function sendJsonText(reply: FastifyReply, payload: string | NodeJS.ReadableStream): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(payload as never)
}
