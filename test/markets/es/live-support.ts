import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { startSimulator } from '../../../src/markets/es/simulator/app.ts'
import { TBAI_PATHS } from '../../../src/markets/es/ticketbai/protocol.ts'
import { VERIFACTU_PATH } from '../../../src/markets/es/verifactu/namespaces.ts'
import { bearer, newLiveAccount } from '../../api-v1/support.ts'
import type { EngineName } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import { type Issued, pkcs12, testCa, testClient, x509 } from '../../helpers/test-certificates.ts'

/**
 * Spain's live path against the authority simulator in strict mode (HTTPS that demands a client
 * certificate issued by the test CA, as the AEAT and the territories do): a server whose production
 * endpoints are the simulator's, an account with a live key, and the certificates a test imports into its
 * store. Shared by the live tests of locations (API v1) and of /v2/sign cash boxes. Not a test file itself.
 */
export type Sim = Awaited<ReturnType<typeof startSimulator>>

export interface StrictSpain {
  h: Harness
  sim: Sim
  /** the CA the simulator trusts, with the taxpayer's certificate it issued and one of another CA */
  ca: Issued
  taxpayer: Issued
  stranger: Issued
  accountId: string
  liveKey: string
  /** The simulator's state, read in-process: its HTTPS port would want the test's client certificate too. */
  simState(): Promise<any>
  /** Imports a certificate (PKCS#12 of the key and chain) into the store of the key's account: its id. */
  importCertificate(holder: Issued, chain?: string[], apiKey?: string): Promise<string>
  /** Replaces a stored certificate under its id (PUT /v1/certificates/{id}). */
  replaceCertificate(id: string, holder: Issued, chain?: string[]): Promise<void>
  close(): Promise<void>
}

const PASSWORD = 'p12 password'

/** The taxpayer's name in its certificates' subject; `DN` as the simulator reports a TLS client. */
export const TAXPAYER_SUBJECT = 'C=ES, O=Empresa de Prueba SL, CN=EMPRESA DE PRUEBA SL - B12345674'
export const TAXPAYER_DN = 'CN=EMPRESA DE PRUEBA SL - B12345674, O=Empresa de Prueba SL, C=ES'

/** The base64 DER of the certificate in a signed TicketBAI document's KeyInfo (X509Certificate). */
export const keyInfoCertificate = (xml: string): string | undefined =>
  /<(?:\w+:)?X509Certificate>([^<]+)<\/(?:\w+:)?X509Certificate>/.exec(xml)?.[1]?.replace(/\s/g, '')
export const derOf = (pem: string): string => new X509Certificate(pem).raw.toString('base64')

export async function startStrictSpain(
  engine: EngineName,
  /** the runtime's clock (the certificate store checks validity by it at import) */
  clock?: () => number,
): Promise<StrictSpain> {
  const ca = await testCa('C=ES, O=fiscalbox tests, CN=Test authority CA')
  const server = await testClient(ca, 'CN=localhost', {
    keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
    extendedKeyUsage: [x509.ExtendedKeyUsage.serverAuth],
    extra: [
      new x509.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'dns', value: 'localhost' },
      ]),
    ],
  })
  const taxpayer = await testClient(ca, TAXPAYER_SUBJECT)
  const otherCa = await testCa('C=ES, CN=Some other CA')
  const stranger = await testClient(otherCa, 'C=ES, CN=Not the taxpayer')
  const sim = await startSimulator({ https: { key: server.key, cert: server.cert }, strict: { ca: ca.cert } })
  const tbai = (territory: string) => ({
    submit: `${sim.url}${TBAI_PATHS.upload}/${territory}`,
    cancel: `${sim.url}${TBAI_PATHS.cancel}/${territory}`,
    query: `${sim.url}${TBAI_PATHS.query}/${territory}`,
  })
  const h = await startHarness(engine, {
    // The ES market's production endpoints, as serve sets them from FISCALBOX_ES_* (the CA file's text).
    es: {
      verifactuEndpoint: `${sim.url}${VERIFACTU_PATH}`,
      ticketbaiEndpoints: { gipuzkoa: tbai('gipuzkoa'), araba: tbai('araba') },
      authorityCa: ca.cert,
      timeoutMs: 10_000,
    },
    v1: {
      liveEnabled: true,
      engine: { backoffBaseMs: 20, backoffMaxMs: 100, maxAttempts: 20 },
      rateLimit: { perMinute: 1_000_000, burst: 1_000_000 },
      ...(clock ? { clock } : {}),
    },
  })
  const { key: liveKey, accountId } = await newLiveAccount(h.app)
  const bundle = (holder: Issued, chain: string[]) => ({
    pkcs12: pkcs12(holder.key, chain, PASSWORD).toString('base64'),
    password: PASSWORD,
  })
  return {
    h,
    sim,
    ca,
    taxpayer,
    stranger,
    accountId,
    liveKey,
    simState: async () => (await sim.app.inject({ method: 'GET', url: '/_sim/state' })).json(),
    async importCertificate(holder, chain = [holder.cert], apiKey = liveKey) {
      const response = await h.app.inject({
        method: 'POST',
        url: '/v1/certificates',
        headers: bearer(apiKey),
        payload: bundle(holder, chain),
      })
      assert.ok([200, 201].includes(response.statusCode), response.body)
      return response.json().id as string
    },
    async replaceCertificate(id, holder, chain = [holder.cert]) {
      const response = await h.app.inject({
        method: 'PUT',
        url: `/v1/certificates/${id}`,
        headers: bearer(liveKey),
        payload: bundle(holder, chain),
      })
      assert.equal(response.statusCode, 200, response.body)
    },
    async close() {
      await h.close()
      await sim.close()
    },
  }
}
