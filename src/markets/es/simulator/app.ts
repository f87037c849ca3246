import type { TLSSocket } from 'node:tls'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { VERIFACTU_PATH } from '../verifactu/namespaces.ts'
import { type AeatOptions, AeatService } from './aeat.ts'
import { type FaultConfig, FaultInjector, NO_FAULTS } from './faults.ts'
import { TBAI_PATHS } from '../ticketbai/protocol.ts'
import { TicketBaiService, type TicketBaiSimOptions } from './ticketbai.ts'

/**
 * The authority simulator: the AEAT VERI*FACTU SOAP service and the TicketBAI upload services of Araba,
 * Bizkaia and Gipuzkoa in one fastify app, with fault injection. Tests start it in-process on a real
 * port; `fiscalbox es-simulator` starts it on its own. Administration under /_sim (state, faults, outages).
 */
export interface SimulatorOptions {
  aeat?: Partial<AeatOptions>
  ticketbai?: Partial<TicketBaiSimOptions>
  faults?: Partial<FaultConfig>
  /** Serve HTTPS; with `requestCert` every service call needs a client certificate signed by `ca`. */
  https?: { key: string | Buffer; cert: string | Buffer; ca?: string | Buffer; requestCert?: boolean }
  /**
   * Strict mode, as the live services are (with `https`): every call must come with a valid client
   * certificate issued by `ca`, or it is answered 403 as the AEAT answers one without; TicketBAI
   * signatures must be made with a certificate issued by `ca` too.
   */
  strict?: { ca: string }
  logger?: boolean
  /** The services' clock (epoch ms), e.g. a test's moved clock for TiempoEsperaEnvio; default Date.now. */
  clock?: () => number
}

export interface Simulator {
  app: FastifyInstance
  aeat: AeatService
  ticketbai: TicketBaiService
  faults: FaultInjector
}

const XML_TYPES = /^(text\/xml|application\/xml|application\/soap\+xml)/

export function buildSimulator(options: SimulatorOptions = {}): Simulator {
  if (options.strict && !options.https)
    throw new Error('the strict mode needs https: its key and certificate')
  const https = options.https && {
    ...options.https,
    ...(options.strict ? { ca: options.strict.ca, requestCert: true } : {}),
  }
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: 64 * 1024 * 1024,
    forceCloseConnections: true,
    ...(https
      ? {
          https: {
            key: https.key,
            cert: https.cert,
            ...(https.ca ? { ca: https.ca } : {}),
            requestCert: Boolean(https.requestCert),
            rejectUnauthorized: false,
          },
        }
      : {}),
  }) as unknown as FastifyInstance
  const clock = options.clock ?? Date.now
  const faults = new FaultInjector({ ...NO_FAULTS, ...options.faults })
  const refuses = (invoiceNumber: string) => faults.refuses(invoiceNumber)
  const aeat = new AeatService({ waitSeconds: 0, enforceWait: false, ...options.aeat, refuses })
  const ticketbai = new TicketBaiService({
    ...options.ticketbai,
    ...(options.strict ? { trustedCa: options.strict.ca } : {}),
    refuses,
  })
  /** The subjects of the client certificates that calls were accepted with (strict or requestCert). */
  const tlsClients = new Set<string>()
  /** Requests answered 503 by an outage or an error fault, before any processing. */
  let unavailableAnswers = 0

  app.addContentTypeParser(XML_TYPES, { parseAs: 'string' }, (_request, body, done) => done(null, body))
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, body === '' ? {} : JSON.parse(body as string))
    } catch (error) {
      done(error as Error)
    }
  })

  /** Client certificate check, then the configured fault; returns true when the request was answered. */
  async function gate(
    request: FastifyRequest,
    reply: FastifyReply,
    work: () => { status: number; body: string },
    type: string,
  ) {
    if (https?.requestCert) {
      const socket = request.raw.socket as TLSSocket
      if (!socket.authorized)
        return reply
          .code(403)
          .type('text/plain')
          .send(`client certificate refused: ${String(socket.authorizationError ?? 'none presented')}`)
      tlsClients.add(peerSubject(socket))
    }
    const decision = faults.decide(Date.now())
    if (decision === 'outage' || decision === 'error') {
      unavailableAnswers++
      return reply.code(503).header('retry-after', '1').type('text/plain').send('service unavailable')
    }
    if (decision === 'drop') return hold(request, reply)
    const answer = work()
    if (decision === 'timeout') return hold(request, reply)
    if (faults.config.slowMs > 0) await new Promise((r) => setTimeout(r, faults.config.slowMs))
    return reply.code(answer.status).type(type).send(answer.body)
  }

  // The request stays open without an answer until the client gives up or holdMs passes.
  function hold(request: FastifyRequest, reply: FastifyReply) {
    reply.hijack()
    const socket = request.raw.socket
    const timer = setTimeout(() => socket.destroy(), faults.config.holdMs)
    socket.once('close', () => clearTimeout(timer))
  }

  app.post(VERIFACTU_PATH, (request, reply) =>
    gate(
      request,
      reply,
      () => aeat.handle(String(request.body ?? ''), new Date(clock())),
      'text/xml; charset=utf-8',
    ),
  )
  for (const territory of ['araba', 'bizkaia', 'gipuzkoa'] as const) {
    app.post(`${TBAI_PATHS.upload}/${territory}`, (request, reply) =>
      gate(
        request,
        reply,
        () => ticketbai.upload(territory, String(request.body ?? ''), new Date()),
        'application/xml; charset=utf-8',
      ),
    )
    app.post(`${TBAI_PATHS.cancel}/${territory}`, (request, reply) =>
      gate(
        request,
        reply,
        () => ticketbai.cancel(territory, String(request.body ?? ''), new Date()),
        'application/xml; charset=utf-8',
      ),
    )
    app.get(`${TBAI_PATHS.query}/${territory}`, (request, reply) =>
      gate(
        request,
        reply,
        () => ticketbai.query(territory, String((request.query as Record<string, unknown>).id ?? '')),
        'application/json',
      ),
    )
  }
  app.post(`${TBAI_PATHS.lroe}/bizkaia`, (request, reply) =>
    gate(
      request,
      reply,
      () => ticketbai.lroeBatch(String(request.body ?? ''), new Date()),
      'application/xml; charset=utf-8',
    ),
  )

  app.get('/_sim/health', async () => ({ ok: true }))
  app.get('/_sim/state', async () => ({
    aeat: {
      submissions: aeat.submissions,
      consultas: aeat.consultas,
      received: aeat.received,
      duplicates: aeat.duplicates,
      invoices: [...aeat.invoices.values()],
    },
    ticketbai: {
      uploads: ticketbai.uploads,
      duplicates: ticketbai.duplicates,
      invoices: [...ticketbai.invoices.values()].map(({ xml: _xml, ...rest }) => rest),
    },
    faults: faults.config,
    unavailable_answers: unavailableAnswers,
    tls_clients: [...tlsClients],
  }))
  app.put('/_sim/faults', async (request) => {
    faults.reconfigure(request.body as Partial<FaultConfig>)
    return faults.config
  })
  app.post('/_sim/outage', async (request) => {
    const seconds = Number((request.body as { seconds?: unknown } | undefined)?.seconds ?? 60)
    const from = Date.now()
    faults.reconfigure({ outages: [...faults.config.outages, { from, to: from + seconds * 1000 }] })
    return faults.config
  })
  app.delete('/_sim/outage', async () => {
    faults.reconfigure({ outages: [] })
    return faults.config
  })
  return { app, aeat, ticketbai, faults }
}

/** The client certificate's subject, one line, most specific first (CN=..., O=..., C=...). */
function peerSubject(socket: TLSSocket): string {
  const subject = socket.getPeerCertificate().subject as unknown as Record<string, string> | undefined
  return Object.entries(subject ?? {})
    .reverse()
    .map(([name, value]) => `${name}=${value}`)
    .join(', ')
}

/** Builds and listens; resolves with the base URL (http://127.0.0.1:PORT or https://127.0.0.1:PORT). */
export async function startSimulator(
  options: SimulatorOptions & { port?: number; host?: string } = {},
): Promise<Simulator & { url: string; close(): Promise<void> }> {
  const simulator = buildSimulator(options)
  const host = options.host ?? '127.0.0.1'
  await simulator.app.listen({ port: options.port ?? 0, host })
  const address = simulator.app.server.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  const url = `${options.https ? 'https' : 'http'}://${host}:${port}`
  return { ...simulator, url, close: () => simulator.app.close() }
}
