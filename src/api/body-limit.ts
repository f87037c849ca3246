import type { FastifyReply, FastifyRequest } from 'fastify'
import { ErrorCode, FiscalError } from '../core/errors.ts'

/**
 * How much of a refused body is read and thrown away before the connection is cut: enough for the bodies
 * a client sends by mistake (a file instead of a receipt), bounded so that a client cannot keep a
 * connection busy by sending forever.
 */
const DISCARD_BYTES = 16 * 1024 * 1024

export const payloadTooLarge = () =>
  new FiscalError(ErrorCode.PayloadTooLarge, 'the request body is larger than the limit (BODY_LIMIT)', {
    field: 'body',
    reason: 'too large',
  })

/**
 * A body whose Content-Length is over the limit is answered 413 at once, before credentials are checked
 * or a byte of it is parsed. Its bytes are read and discarded meanwhile: a server that closes the socket
 * on a client still writing makes the kernel reset the connection, and most clients then report the
 * reset (EPIPE, ECONNRESET) instead of the 413 they were sent. Past DISCARD_BYTES the socket is closed.
 */
export function refuseAnnouncedOversize(bodyLimit: number) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const announced = Number(request.headers['content-length'])
    if (!(announced > (request.routeOptions.bodyLimit ?? bodyLimit))) return
    let discarded = 0
    request.raw.on('data', (chunk: Buffer) => {
      discarded += chunk.length
      if (discarded > DISCARD_BYTES) request.raw.socket.destroy()
    })
    throw payloadTooLarge()
  }
}
