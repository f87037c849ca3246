import 'reflect-metadata'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'
import { signDigest } from './ecdsa-digest.ts'

/**
 * How the simulated service behaves: answers, answers after a delay, holds every call until release(), or
 * fails every call with 503.
 */
export type HsmSimulatorMode =
  | { kind: 'ok' }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'held' }
  | { kind: 'failing' }

export interface HsmSimulator {
  url: string
  /** The device certificate (DER), issued by the simulator's test CA. */
  certificate: Buffer
  caCertificate: Buffer
  /** Calls answered (any status), per path: what the tests read to see the client really called. */
  calls: Map<string, number>
  setMode(mode: HsmSimulatorMode): void
  /** Resolves when a call arrives and is being held. */
  held(): Promise<void>
  /** Lets the held calls go on. */
  release(): void
  close(): Promise<void>
}

/** A promise and its resolve (Node 20 has no Promise.withResolvers). */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {}
  const promise = new Promise<void>((done) => {
    resolve = done
  })
  return { promise, resolve }
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
const KEY_NAME = 'rksv-key-1'

/**
 * A hosted RKSV HSM for tests and demos, speaking the wire format hosted-hsm.ts documents: one user with one
 * P-256 key, whose certificate a throw-away test CA issued; the shared secret guards every call.
 */
export async function startHsmSimulator(options: {
  sharedSecret: string
  serial?: string
}): Promise<HsmSimulator> {
  const crypto = webcrypto as unknown as Crypto
  x509.cryptoProvider.set(crypto)
  const ca = await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])
  const device = await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])
  const now = new Date()
  const notAfter = new Date(now.getTime() + 2 * 365 * 24 * 3600 * 1000)
  const caCertificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=fiscalbox HSM simulator test CA',
    notBefore: now,
    notAfter,
    keys: ca,
    signingAlgorithm: ALGORITHM,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
  })
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: options.serial ?? '3a5f0c11',
    subject: 'CN=fiscalbox HSM simulator RKSV key',
    issuer: caCertificate.subject,
    notBefore: now,
    notAfter,
    publicKey: device.publicKey,
    signingKey: ca.privateKey,
    signingAlgorithm: ALGORITHM,
  })
  const jwk = await crypto.subtle.exportKey('jwk', device.privateKey)
  const scalar = Buffer.from(jwk.d ?? '', 'base64url')
  const der = Buffer.from(certificate.rawData)

  let mode: HsmSimulatorMode = { kind: 'ok' }
  const calls = new Map<string, number>()
  let gate = deferred()
  let arrived = deferred()
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const path = new URL(request.url ?? '/', 'http://hsm').pathname
    calls.set(path, (calls.get(path) ?? 0) + 1)
    const reply = (status: number, body: string | Buffer, type = 'text/plain') => {
      response.writeHead(status, { 'content-type': type })
      response.end(body)
    }
    if (mode.kind === 'slow')
      await new Promise((resolve) => setTimeout(resolve, (mode as { delayMs: number }).delayMs))
    if (mode.kind === 'held') {
      arrived.resolve()
      await gate.promise
    }
    if (mode.kind === 'failing') return reply(503, 'HSM not available')
    if (request.headers['x-auth-token'] !== options.sharedSecret) return reply(401, 'unknown token')
    if (request.method === 'GET' && path === '/rs/rk/config') {
      return reply(
        200,
        JSON.stringify({ TspId: 'AT3', User: { UserId: 'sim', Enabled: true, DefaultKey: KEY_NAME } }),
        'application/json',
      )
    }
    if (request.method === 'GET' && path === `/rs/keys/${KEY_NAME}/certificate.cer`) {
      return reply(200, der, 'application/pkix-cert')
    }
    if (request.method === 'POST' && path === '/rs/rk/signatures/r1raw') {
      const digest = Buffer.concat(chunks)
      if (digest.length !== 32) return reply(400, 'the body must be a 32-byte SHA-256 digest')
      return reply(200, signDigest(scalar, digest).toString('base64url'))
    }
    return reply(404, 'no such resource')
  }
  const server = createServer((request, response) => {
    handle(request, response).catch(() => response.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    certificate: der,
    caCertificate: Buffer.from(caCertificate.rawData),
    calls,
    setMode: (next) => {
      mode = next
    },
    held: () => arrived.promise,
    release: () => {
      gate.resolve()
      gate = deferred()
      arrived = deferred()
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
