import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { startSimulator } from '../../src/markets/es/simulator/app.ts'
import { TBAI_PATHS } from '../../src/markets/es/ticketbai/protocol.ts'
import { VERIFACTU_PATH } from '../../src/markets/es/verifactu/namespaces.ts'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { type Issued, pkcs12, testCa, testClient, x509 } from '../helpers/test-certificates.ts'
import {
  bearer,
  createTransaction,
  eventually,
  getTransaction,
  newAccount,
  postLocation,
  sale,
} from './support.ts'

// The whole live path of Spain against the authority simulator in strict mode (HTTPS that demands a
// client certificate issued by the test CA, as the AEAT and the territories do): the taxpayer's
// certificate is imported into the account's store, a live location names it, and its VERI*FACTU record
// goes through mutual TLS while its TicketBAI invoice is signed with it. A certificate of another CA is
// refused (403) and the record stays pending with the reason; replacing the certificate lets the next
// attempt through. No test reaches a real authority: every endpoint is the simulator's.

type Sim = Awaited<ReturnType<typeof startSimulator>>
const PASSWORD = 'p12 password'
const NOW = { 'x-fiscalization-timeout': '10' }
// Read in-process: the simulator's HTTPS port would want the test's client certificate too.
const simState = async (sim: Sim) =>
  (await sim.app.inject({ method: 'GET', url: '/_sim/state' })).json() as any

for (const engine of await engines()) {
  void describe(`Spain live: stored certificates, mutual TLS, strict simulator (${engine})`, () => {
    let h: Harness
    let sim: Sim
    let ca: Issued
    let taxpayer: Issued
    let stranger: Issued
    let liveKey: string
    before(async () => {
      ca = await testCa('C=ES, O=fiscalbox tests, CN=Test authority CA')
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
      taxpayer = await testClient(ca, 'C=ES, O=Empresa de Prueba SL, CN=EMPRESA DE PRUEBA SL - B12345674')
      const otherCa = await testCa('C=ES, CN=Some other CA')
      stranger = await testClient(otherCa, 'C=ES, CN=Not the taxpayer')
      sim = await startSimulator({ https: { key: server.key, cert: server.cert }, strict: { ca: ca.cert } })
      const tbai = (territory: string) => ({
        submit: `${sim.url}${TBAI_PATHS.upload}/${territory}`,
        cancel: `${sim.url}${TBAI_PATHS.cancel}/${territory}`,
        query: `${sim.url}${TBAI_PATHS.query}/${territory}`,
      })
      h = await startHarness(engine, {
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
        },
      })
      const { key } = await newAccount(h.app)
      const live = await h.app.inject({
        method: 'POST',
        url: '/v1/api-keys',
        headers: bearer(key),
        payload: { environment: 'live', name: 'till' },
      })
      assert.equal(live.statusCode, 201, live.body)
      liveKey = live.json().api_key
    })
    after(async () => {
      await h.close()
      await sim.close()
    })

    const importCertificate = async (holder: Issued, chain: string[] = [holder.cert]) => {
      const response = await h.app.inject({
        method: 'POST',
        url: '/v1/certificates',
        headers: bearer(liveKey),
        payload: { pkcs12: pkcs12(holder.key, chain, PASSWORD).toString('base64'), password: PASSWORD },
      })
      assert.ok([200, 201].includes(response.statusCode), response.body)
      return response.json().id as string
    }

    const liveLocation = async (config: Record<string, unknown>) => {
      const response = await postLocation(h.app, liveKey, 'ES', {
        nif: 'B12345674',
        name: 'Empresa de Prueba SL',
        ...config,
      })
      assert.equal(response.statusCode, 201, response.body)
      return response.json().id as string
    }

    test('VERI*FACTU and TicketBAI live records go through mutual TLS with the stored certificate and are accepted', async () => {
      const certificateId = await importCertificate(taxpayer, [taxpayer.cert, ca.cert])
      const verifactu = await liveLocation({ system: 'verifactu', certificate_id: certificateId })
      const created = await createTransaction(h.app, liveKey, sale(verifactu), NOW)
      assert.equal(created.statusCode, 201, created.body)
      const t = created.json()
      assert.equal(t.status, 'success', created.body)
      assert.equal(t.environment, 'live')
      assert.equal(t.response_payload.authority.state, 'Correcto')
      const state = await simState(sim)
      assert.ok(
        state.aeat.invoices.some((i: { seriesNumber: string }) => i.seriesNumber === t.fiscal_id),
        'the AEAT simulator registered the live invoice',
      )
      assert.deepEqual(state.tls_clients, [
        'CN=EMPRESA DE PRUEBA SL - B12345674, O=Empresa de Prueba SL, C=ES',
      ])

      const gipuzkoa = await liveLocation({
        system: 'ticketbai',
        territory: 'gipuzkoa',
        certificate_id: certificateId,
      })
      const invoice = await createTransaction(h.app, liveKey, sale(gipuzkoa), NOW)
      assert.equal(invoice.statusCode, 201, invoice.body)
      const signed = invoice.json()
      assert.equal(signed.status, 'success', invoice.body)
      assert.match(signed.fiscal_id, /^TBAI-B12345674-/)
      // Signed with the taxpayer's certificate (its DER is the X509Certificate of the signature's KeyInfo),
      // which the strict simulator checked against the CA.
      const der = new X509Certificate(taxpayer.cert).raw.toString('base64')
      const xml = signed.response_payload.record.xml as string
      const inKeyInfo = /<(?:\w+:)?X509Certificate>([^<]+)<\/(?:\w+:)?X509Certificate>/
        .exec(xml)?.[1]
        ?.replace(/\s/g, '')
      assert.equal(inKeyInfo, der)
      const after = await simState(sim)
      assert.ok(
        after.ticketbai.invoices.some((i: { identifier: string }) => i.identifier === signed.fiscal_id),
      )

      const listed = await h.app.inject({ method: 'GET', url: '/v1/certificates', headers: bearer(liveKey) })
      assert.deepEqual(listed.json().data[0].used_by.locations.sort(), [verifactu, gipuzkoa].sort())
    })

    test('a certificate of another CA is refused by the authority: the record stays pending with the reason, and goes through once the certificate is replaced', async () => {
      const certificateId = await importCertificate(stranger)
      const location = await liveLocation({ system: 'verifactu', certificate_id: certificateId })
      const created = await createTransaction(h.app, liveKey, sale(location), NOW)
      assert.equal(created.statusCode, 201, created.body)
      const t = created.json()
      assert.equal(t.status, 'pending_submission', created.body)
      assert.match(t.error_message, /HTTP 403: refused, check the client certificate/)
      const state = await simState(sim)
      assert.ok(!state.aeat.invoices.some((i: { seriesNumber: string }) => i.seriesNumber === t.fiscal_id))
      assert.ok(!state.tls_clients.includes('CN=Not the taxpayer, C=ES'))

      const tbai = await liveLocation({
        system: 'ticketbai',
        territory: 'araba',
        certificate_id: certificateId,
      })
      const refused = await createTransaction(h.app, liveKey, sale(tbai), NOW)
      assert.equal(refused.json().status, 'pending_submission', refused.body)
      assert.match(refused.json().error_message, /HTTP 403/)

      // The renewed certificate (this time the taxpayer's, from the right CA) replaces it under the same id.
      const renewed = await testClient(
        ca,
        'C=ES, O=Empresa de Prueba SL, CN=EMPRESA DE PRUEBA SL - B12345674',
        {
          to: 400,
        },
      )
      const replaced = await h.app.inject({
        method: 'PUT',
        url: `/v1/certificates/${certificateId}`,
        headers: bearer(liveKey),
        payload: {
          pkcs12: pkcs12(renewed.key, [renewed.cert], PASSWORD).toString('base64'),
          password: PASSWORD,
        },
      })
      assert.equal(replaced.statusCode, 200, replaced.body)
      const done = await eventually(
        async () => {
          await h.runtime.v1.jobs.runDueOnce()
          return getTransaction(h.app, liveKey, t.id)
        },
        (v) => v.status !== 'pending_submission',
        'the VERI*FACTU record to be sent with the replaced certificate',
      )
      assert.equal(done.status, 'success', JSON.stringify(done))
      // The invoice signed with the refused certificate is final as signed: the territory refuses its
      // signature (another CA) once the TLS connection is made, so it ends in the dead letter for a person.
      const tbaiDone = await eventually(
        async () => {
          await h.runtime.v1.jobs.runDueOnce()
          return getTransaction(h.app, liveKey, refused.json().id)
        },
        (v) => v.status !== 'pending_submission',
        'the TicketBAI record to be answered',
      )
      assert.equal(tbaiDone.status, 'failed_permanent', JSON.stringify(tbaiDone))
    })

    test('live records without a usable stored certificate are refused with a 400 that names country_config.certificate_id', async () => {
      for (const config of [
        { system: 'ticketbai', territory: 'gipuzkoa' },
        { system: 'verifactu' },
        { system: 'verifactu', certificate_id: 'not-imported' },
      ]) {
        const location = await liveLocation(config)
        const response = await createTransaction(h.app, liveKey, sale(location), NOW)
        assert.equal(response.statusCode, 400, response.body)
        assert.equal(response.json().details.field, 'country_config.certificate_id')
      }
      const signOnly = await testClient(ca, 'C=ES, CN=Signing only', {
        extendedKeyUsage: [x509.ExtendedKeyUsage.emailProtection],
      })
      const id = (
        await h.app.inject({
          method: 'POST',
          url: '/v1/certificates',
          headers: bearer(liveKey),
          payload: { pem: `${signOnly.key}${signOnly.cert}`, uses: ['signing'] },
        })
      ).json().id
      const location = await liveLocation({ system: 'verifactu', certificate_id: id })
      const response = await createTransaction(h.app, liveKey, sale(location), NOW)
      assert.equal(response.statusCode, 400, response.body)
      assert.match(response.json().error, /does not allow TLS client authentication/)
    })
  })
}
