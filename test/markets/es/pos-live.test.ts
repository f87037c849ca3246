import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { eventually, newLiveAccount } from '../../api-v1/support.ts'
import { engines } from '../../helpers/engines.ts'
import { testClient, x509 } from '../../helpers/test-certificates.ts'
import {
  derOf,
  keyInfoCertificate,
  type StrictSpain,
  startStrictSpain,
  TAXPAYER_DN,
  TAXPAYER_SUBJECT,
} from './live-support.ts'
import { ES_CASE, EsPos, esReceipt } from './pos-support.ts'

/**
 * Spain live on /v2/sign (docs/country-es.md "Certificates"): a production ES cash box names a stored
 * certificate of its account (certificate_id); its VERI*FACTU records go through mutual TLS with it and its
 * TicketBAI invoices are signed with it, against the authority simulator in strict mode (a client
 * certificate from the test CA). A configuration naming no usable certificate is refused and writes
 * nothing; a replacement of the certificate counts from the next record.
 */
const ISSUER = { nif: 'B12345674', name: 'Empresa de Prueba SL' }
const DAY = 86_400_000

for (const engine of await engines()) {
  void describe(`ES /v2/sign live: stored certificate, mutual TLS, strict simulator (${engine})`, () => {
    let spain: StrictSpain
    // The runtime's clock runs behind only while a test imports a certificate that has expired since.
    let skew = 0
    before(async () => {
      spain = await startStrictSpain(engine, () => Date.now() + skew)
    })
    after(() => spain.close())

    const newPos = async (accountId = spain.accountId) =>
      new EsPos(spain.h.app, await spain.h.runtime.cashboxes.create('ES', 'live till', accountId))

    /** Runs the due submissions until none of the cash box's records is pending. */
    const settled = (pos: EsPos) =>
      eventually(
        async () => {
          await spain.h.runtime.v1.jobs.runDueOnce()
          return pos.records()
        },
        (records) => records.every((r) => r.status !== 'pending'),
        'every record of the cash box to be answered',
      )

    const sale = (amount: string) => esReceipt(ES_CASE.pos, [{ amount, vat: 21 }])

    test('VERI*FACTU: the record goes through mutual TLS with the stored certificate; the configuration shows which one, never its key', async () => {
      const certificateId = await spain.importCertificate(spain.taxpayer, [
        spain.taxpayer.cert,
        spain.ca.cert,
      ])
      const pos = await newPos()
      const configured = await pos.configure({
        system: 'verifactu',
        ...ISSUER,
        environment: 'production',
        certificate_id: certificateId,
      })
      assert.equal(configured.certificate_id, certificateId)
      assert.equal(configured.certificate.id, certificateId)
      assert.equal(configured.certificate.subject, TAXPAYER_DN)
      assert.equal(
        configured.certificate.notAfter,
        new Date(new x509.X509Certificate(spain.taxpayer.cert).notAfter).toISOString(),
      )
      assert.deepEqual((await pos.request('GET', '/es/v1/cashbox')).json(), configured)

      await pos.start()
      const signed = await pos.signOk(sale('12.10'))
      const [record] = (await settled(pos)).filter((r) => r.kind === 'alta')
      assert.equal(record.status, 'accepted', JSON.stringify(record))
      const state = await spain.simState()
      assert.ok(
        state.aeat.invoices.some((i: { seriesNumber: string }) => i.seriesNumber === record.invoiceNumber),
      )
      assert.ok(state.tls_clients.includes(TAXPAYER_DN), JSON.stringify(state.tls_clients))
      assert.ok(signed.ftSignatures.some((s: { Data: string }) => s.Data === record.invoiceNumber))

      // The POS's configuration and the configuration journal (0xFF) name the certificate, not its key.
      for (const reply of [
        await pos.request('POST', '/v2/configuration', {}),
        await pos.request('POST', '/v2/journal', { ftJournalType: 255 }),
      ]) {
        assert.equal(reply.status, 200, reply.payload)
        const [unit] = reply.json().ftSignaturCreationUnits
        assert.equal(unit.Type, 'VERI*FACTU')
        assert.deepEqual(unit.Details.certificate, configured.certificate)
        assert.doesNotMatch(reply.payload, /PRIVATE KEY|keyPem/)
      }
    })

    test('TicketBAI: invoices are signed with the stored certificate, and a replacement signs from the next record on', async () => {
      const certificateId = await spain.importCertificate(spain.taxpayer, [
        spain.taxpayer.cert,
        spain.ca.cert,
      ])
      const pos = await newPos()
      await pos.configure({
        system: 'ticketbai',
        territory: 'gipuzkoa',
        ...ISSUER,
        environment: 'production',
        certificate_id: certificateId,
      })
      await pos.start()
      await pos.signOk(sale('5.00'))
      const [first] = await settled(pos)
      assert.equal(first.status, 'accepted', JSON.stringify(first))
      assert.equal(keyInfoCertificate(first.xml), derOf(spain.taxpayer.cert))

      const renewed = await testClient(spain.ca, `${TAXPAYER_SUBJECT} (renewed)`, { to: 400 })
      await spain.replaceCertificate(certificateId, renewed, [renewed.cert, spain.ca.cert])
      await pos.signOk(sale('6.00'))
      const [, second] = await settled(pos)
      assert.equal(second.status, 'accepted', JSON.stringify(second))
      assert.equal(keyInfoCertificate(second.xml), derOf(renewed.cert))
      assert.equal(
        keyInfoCertificate(first.xml),
        derOf(spain.taxpayer.cert),
        'a signed record stays as signed',
      )
      const shown = (await pos.request('GET', '/es/v1/cashbox')).json().certificate
      assert.equal(
        shown.subject,
        'CN=EMPRESA DE PRUEBA SL - B12345674 (renewed), O=Empresa de Prueba SL, C=ES',
      )
    })

    test('VERI*FACTU: a replacement of the certificate authenticates the next submission', async () => {
      const certificateId = await spain.importCertificate(spain.stranger)
      const pos = await newPos()
      await pos.configure({
        system: 'verifactu',
        ...ISSUER,
        environment: 'production',
        certificate_id: certificateId,
      })
      await pos.start()
      await pos.signOk(sale('1.00'))
      // The strict simulator refuses the certificate of another CA: the record waits for a usable one.
      await spain.h.runtime.v1.jobs.runDueOnce()
      const [waiting] = await pos.records()
      assert.equal(waiting.status, 'pending', JSON.stringify(waiting))
      const renewedSubject = 'C=ES, O=Empresa de Prueba SL, CN=EMPRESA DE PRUEBA SL - B12345674 - 2'
      const renewed = await testClient(spain.ca, renewedSubject, { to: 400 })
      await spain.replaceCertificate(certificateId, renewed)
      const [sent] = await settled(pos)
      assert.equal(sent.status, 'accepted', JSON.stringify(sent))
      assert.ok(
        (await spain.simState()).tls_clients.includes(
          'CN=EMPRESA DE PRUEBA SL - B12345674 - 2, O=Empresa de Prueba SL, C=ES',
        ),
      )
    })

    test('a configuration naming no usable certificate of the account is refused with 400 naming certificate_id, and writes nothing', async () => {
      const stranger = await newLiveAccount(spain.h.app)
      const theirs = await spain.importCertificate(spain.taxpayer, [spain.taxpayer.cert], stranger.key)
      skew = -40 * DAY
      let expired: string
      try {
        expired = await spain.importCertificate(
          await testClient(spain.ca, 'C=ES, CN=Expired since', { from: -60, to: -10 }),
        )
      } finally {
        skew = 0
      }
      const signOnly = await spain.h.app.inject({
        method: 'POST',
        url: '/v1/certificates',
        headers: { authorization: `Bearer ${spain.liveKey}` },
        payload: await (async () => {
          const c = await testClient(spain.ca, 'C=ES, CN=Signing only', {
            extendedKeyUsage: [x509.ExtendedKeyUsage.emailProtection],
          })
          return { pem: `${c.key}${c.cert}`, uses: ['signing'] }
        })(),
      })
      assert.equal(signOnly.statusCode, 201, signOnly.body)
      const verifactu = { system: 'verifactu', ...ISSUER, environment: 'production' }
      const tbai = { system: 'ticketbai', territory: 'araba', ...ISSUER, environment: 'production' }
      const cases: Array<[Record<string, unknown>, RegExp]> = [
        [verifactu, /production records of this cash box need the taxpayer's certificate/],
        [tbai, /production records of this cash box need the taxpayer's certificate to sign/],
        [{ ...verifactu, certificate_id: 'not-imported' }, /which this account does not hold/],
        [{ ...tbai, certificate_id: theirs }, /which this account does not hold/],
        [{ ...verifactu, certificate_id: expired }, /expired on/],
        [{ ...verifactu, environment: 'test', certificate_id: expired }, /expired on/],
        [{ ...verifactu, certificate_id: signOnly.json().id }, /does not allow TLS client authentication/],
        [{ ...verifactu, certificate_id: '' }, /must be a non-empty string/],
      ]
      const pos = await newPos()
      for (const [body, reason] of cases) {
        const reply = await pos.request('PUT', '/es/v1/cashbox', body)
        assert.equal(reply.status, 400, `${JSON.stringify(body)}: ${reply.payload}`)
        assert.equal(reply.json().details?.field, 'certificate_id', reply.payload)
        assert.match(reply.json().details.reason, reason)
      }
      assert.equal((await pos.request('GET', '/es/v1/cashbox')).status, 409, 'still not configured')
      const openapi = (await spain.h.app.inject({ method: 'GET', url: '/openapi.json' })).json()
      const put = openapi.paths['/es/v1/cashbox'].put
      assert.ok(put.requestBody.content['application/json'].schema.properties.certificate_id)
      assert.ok(put.responses['200'].content['application/json'].schema.properties.certificate)
      // The same certificate is fine in the account that holds it.
      const theirPos = await newPos(stranger.accountId)
      assert.equal((await theirPos.configure({ ...tbai, certificate_id: theirs })).certificate.id, theirs)
    })
  })
}
