import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { engines } from '../helpers/engines.ts'
import { testClient, x509 } from '../helpers/test-certificates.ts'
import {
  derOf,
  keyInfoCertificate,
  type StrictSpain,
  startStrictSpain,
  TAXPAYER_DN,
  TAXPAYER_SUBJECT,
} from '../markets/es/live-support.ts'
import { bearer, createTransaction, eventually, getTransaction, postLocation, sale } from './support.ts'

// The whole live path of Spain against the authority simulator in strict mode (HTTPS that demands a
// client certificate issued by the test CA, as the AEAT and the territories do): the taxpayer's
// certificate is imported into the account's store, a live location names it, and its VERI*FACTU record
// goes through mutual TLS while its TicketBAI invoice is signed with it. A certificate of another CA is
// refused (403) and the record stays pending with the reason; replacing the certificate lets the next
// attempt through. No test reaches a real authority: every endpoint is the simulator's.

const NOW = { 'x-fiscalization-timeout': '10' }

for (const engine of await engines()) {
  void describe(`Spain live: stored certificates, mutual TLS, strict simulator (${engine})`, () => {
    let spain: StrictSpain
    before(async () => {
      spain = await startStrictSpain(engine)
    })
    after(() => spain.close())

    const liveLocation = async (config: Record<string, unknown>) => {
      const response = await postLocation(spain.h.app, spain.liveKey, 'ES', {
        nif: 'B12345674',
        name: 'Empresa de Prueba SL',
        ...config,
      })
      assert.equal(response.statusCode, 201, response.body)
      return response.json().id as string
    }

    test('VERI*FACTU and TicketBAI live records go through mutual TLS with the stored certificate and are accepted', async () => {
      const certificateId = await spain.importCertificate(spain.taxpayer, [
        spain.taxpayer.cert,
        spain.ca.cert,
      ])
      const verifactu = await liveLocation({ system: 'verifactu', certificate_id: certificateId })
      const created = await createTransaction(spain.h.app, spain.liveKey, sale(verifactu), NOW)
      assert.equal(created.statusCode, 201, created.body)
      const t = created.json()
      assert.equal(t.status, 'success', created.body)
      assert.equal(t.environment, 'live')
      assert.equal(t.response_payload.authority.state, 'Correcto')
      const state = await spain.simState()
      assert.ok(
        state.aeat.invoices.some((i: { seriesNumber: string }) => i.seriesNumber === t.fiscal_id),
        'the AEAT simulator registered the live invoice',
      )
      assert.deepEqual(state.tls_clients, [TAXPAYER_DN])

      const gipuzkoa = await liveLocation({
        system: 'ticketbai',
        territory: 'gipuzkoa',
        certificate_id: certificateId,
      })
      const invoice = await createTransaction(spain.h.app, spain.liveKey, sale(gipuzkoa), NOW)
      assert.equal(invoice.statusCode, 201, invoice.body)
      const signed = invoice.json()
      assert.equal(signed.status, 'success', invoice.body)
      assert.match(signed.fiscal_id, /^TBAI-B12345674-/)
      // Signed with the taxpayer's certificate (its DER is the X509Certificate of the signature's KeyInfo),
      // which the strict simulator checked against the CA.
      assert.equal(keyInfoCertificate(signed.response_payload.record.xml), derOf(spain.taxpayer.cert))
      const after = await spain.simState()
      assert.ok(
        after.ticketbai.invoices.some((i: { identifier: string }) => i.identifier === signed.fiscal_id),
      )

      const listed = await spain.h.app.inject({
        method: 'GET',
        url: '/v1/certificates',
        headers: bearer(spain.liveKey),
      })
      assert.deepEqual(listed.json().data[0].used_by.locations.sort(), [verifactu, gipuzkoa].sort())
    })

    test('a certificate of another CA is refused by the authority: the record stays pending with the reason, and goes through once the certificate is replaced', async () => {
      const certificateId = await spain.importCertificate(spain.stranger)
      const location = await liveLocation({ system: 'verifactu', certificate_id: certificateId })
      const created = await createTransaction(spain.h.app, spain.liveKey, sale(location), NOW)
      assert.equal(created.statusCode, 201, created.body)
      const t = created.json()
      assert.equal(t.status, 'pending_submission', created.body)
      assert.match(t.error_message, /HTTP 403: refused, check the client certificate/)
      const state = await spain.simState()
      assert.ok(!state.aeat.invoices.some((i: { seriesNumber: string }) => i.seriesNumber === t.fiscal_id))
      assert.ok(!state.tls_clients.includes('CN=Not the taxpayer, C=ES'))

      const tbai = await liveLocation({
        system: 'ticketbai',
        territory: 'araba',
        certificate_id: certificateId,
      })
      const refused = await createTransaction(spain.h.app, spain.liveKey, sale(tbai), NOW)
      assert.equal(refused.json().status, 'pending_submission', refused.body)
      assert.match(refused.json().error_message, /HTTP 403/)

      // The renewed certificate (this time the taxpayer's, from the right CA) replaces it under the same id.
      const renewed = await testClient(spain.ca, TAXPAYER_SUBJECT, { to: 400 })
      await spain.replaceCertificate(certificateId, renewed)
      const done = await eventually(
        async () => {
          await spain.h.runtime.v1.jobs.runDueOnce()
          return getTransaction(spain.h.app, spain.liveKey, t.id)
        },
        (v) => v.status !== 'pending_submission',
        'the VERI*FACTU record to be sent with the replaced certificate',
      )
      assert.equal(done.status, 'success', JSON.stringify(done))
      // The invoice signed with the refused certificate is final as signed: the territory refuses its
      // signature (another CA) once the TLS connection is made, so it ends in the dead letter for a person.
      const tbaiDone = await eventually(
        async () => {
          await spain.h.runtime.v1.jobs.runDueOnce()
          return getTransaction(spain.h.app, spain.liveKey, refused.json().id)
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
        const response = await createTransaction(spain.h.app, spain.liveKey, sale(location), NOW)
        assert.equal(response.statusCode, 400, response.body)
        assert.equal(response.json().details.field, 'country_config.certificate_id')
      }
      const signOnly = await testClient(spain.ca, 'C=ES, CN=Signing only', {
        extendedKeyUsage: [x509.ExtendedKeyUsage.emailProtection],
      })
      const id = (
        await spain.h.app.inject({
          method: 'POST',
          url: '/v1/certificates',
          headers: bearer(spain.liveKey),
          payload: { pem: `${signOnly.key}${signOnly.cert}`, uses: ['signing'] },
        })
      ).json().id
      const location = await liveLocation({ system: 'verifactu', certificate_id: id })
      const response = await createTransaction(spain.h.app, spain.liveKey, sale(location), NOW)
      assert.equal(response.statusCode, 400, response.body)
      assert.match(response.json().error, /does not allow TLS client authentication/)
    })
  })
}
