import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import {
  type Issued,
  pkcs12,
  testCa,
  testClient,
  unusableClients,
  x509,
} from '../helpers/test-certificates.ts'
import { bearer, newLiveAccount, postLocation } from './support.ts'

// The certificate store of an account (docs/certificates-api-v1.md): import, list, replace, remove, and
// each way a merchant's certificate can be wrong refused with a 400 that names it, storing nothing; only
// a live key changes the store.

const PASSWORD = 'correct horse battery'

const importP12 = (h: Harness, key: string, file: Buffer, password = PASSWORD, extra: object = {}) =>
  h.app.inject({
    method: 'POST',
    url: '/v1/certificates',
    headers: bearer(key),
    payload: { pkcs12: file.toString('base64'), password, ...extra },
  })

const importPem = (h: Harness, key: string, pem: string, extra: object = {}) =>
  h.app.inject({ method: 'POST', url: '/v1/certificates', headers: bearer(key), payload: { pem, ...extra } })

const list = async (h: Harness, key: string) => {
  const response = await h.app.inject({ method: 'GET', url: '/v1/certificates', headers: bearer(key) })
  assert.equal(response.statusCode, 200, response.body)
  return response.json().data as Array<Record<string, unknown>>
}

for (const engine of await engines()) {
  void describe(`certificate store (${engine})`, () => {
    let h: Harness
    let ca: Issued
    let taxpayer: Issued
    before(async () => {
      h = await startHarness(engine, { v1: { liveEnabled: true } })
      ca = await testCa('C=ES, O=fiscalbox tests, CN=Test FNMT CA')
      taxpayer = await testClient(ca, 'C=ES, O=Empresa de Prueba SL, CN=EMPRESA DE PRUEBA SL - B12345674')
    })
    after(async () => {
      await h.close()
    })

    void test('a PKCS#12 file is stored once, shown without its key, and lists what uses it', async () => {
      const { key, accountId } = await newLiveAccount(h.app)
      const file = pkcs12(taxpayer.key, [taxpayer.cert, ca.cert], PASSWORD)
      const created = await importP12(h, key, file, PASSWORD, { name: 'Empresa de Prueba' })
      assert.equal(created.statusCode, 201, created.body)
      const view = created.json()
      const leaf = new X509Certificate(taxpayer.cert)
      assert.equal(view.name, 'Empresa de Prueba')
      assert.equal(view.version, 1)
      assert.equal(view.subject, 'CN=EMPRESA DE PRUEBA SL - B12345674, O=Empresa de Prueba SL, C=ES')
      assert.equal(view.issuer, 'CN=Test FNMT CA, O=fiscalbox tests, C=ES')
      assert.equal(view.serial_number, leaf.serialNumber)
      assert.equal(view.not_after, new Date(leaf.validTo).toISOString())
      assert.equal(view.fingerprint_sha256, leaf.fingerprint256.replaceAll(':', '').toLowerCase())
      assert.deepEqual(view.key_usage, ['digitalSignature', 'nonRepudiation'])
      assert.deepEqual(view.extended_key_usage, ['1.3.6.1.5.5.7.3.2'])
      assert.deepEqual(view.uses, ['tls_client', 'signing'])
      assert.deepEqual(view.used_by, { locations: [] })
      assert.ok(!created.body.includes('PRIVATE KEY'))

      // The key at rest is sealed by the master key: neither the PEM nor its base64 body is in the database.
      const rows = await h.runtime.storage.db.selectFrom('certificate_versions').selectAll().execute()
      const row = rows.find((r) => r.certificate_id === view.id)
      assert.ok(row)
      assert.match(row.private_key_encrypted, /^v1\./)
      const keyBody = taxpayer.key.split('\n')[5] as string
      assert.ok(!JSON.stringify(rows).includes(keyBody), 'the private key is not stored in clear')

      const again = await importP12(h, key, pkcs12(taxpayer.key, [taxpayer.cert], PASSWORD))
      assert.equal(again.statusCode, 200, again.body)
      assert.equal(again.json().id, view.id, 'the same certificate imported again is the one stored')

      const location = await postLocation(h.app, key, 'ES', {
        system: 'verifactu',
        nif: 'B12345674',
        certificate_id: view.id,
      })
      assert.equal(location.statusCode, 201, location.body)
      const listed = await list(h, key)
      assert.equal(listed.length, 1)
      assert.deepEqual(listed[0]?.used_by, { locations: [location.json().id] })

      const removal = await h.app.inject({
        method: 'DELETE',
        url: `/v1/certificates/${view.id}`,
        headers: bearer(key),
      })
      assert.equal(removal.statusCode, 409, 'a certificate in use is not removed')
      assert.match(removal.json().error, new RegExp(location.json().id))

      // The expiry inventory (warnings, metrics) holds it with its end of validity.
      const inventoried = (await h.runtime.credentials.list()).find((c) => c.holder.endsWith(view.id))
      assert.equal(inventoried?.subject, view.subject)
      assert.equal(inventoried?.notAfter?.toISOString(), view.not_after)
      assert.equal(inventoried?.serial, view.serial_number.toLowerCase())
      assert.equal(inventoried?.accountId, accountId, 'the owning account sees it on the dashboard')

      // Another account sees none of it.
      const other = await newLiveAccount(h.app)
      assert.deepEqual(await list(h, other.key), [])
      const foreign = await h.app.inject({
        method: 'GET',
        url: `/v1/certificates/${view.id}`,
        headers: bearer(other.key),
      })
      assert.equal(foreign.statusCode, 404)
    })

    void test('PEM: a key with its chain through an intermediate CA; an encrypted key with its password', async () => {
      const { key } = await newLiveAccount(h.app)
      const intermediate = await testCa('C=ES, CN=Test intermediate CA', ca)
      const leaf = await testClient(intermediate, 'C=ES, CN=Representative - 12345678Z')
      const stored = await importPem(h, key, `${leaf.cert}${intermediate.cert}${ca.cert}${leaf.key}`)
      assert.equal(stored.statusCode, 201, stored.body)
      assert.equal(stored.json().issuer, 'CN=Test intermediate CA, C=ES')
      assert.equal(stored.json().name, 'Representative - 12345678Z')

      const other = await testClient(ca, 'C=ES, CN=Encrypted key holder')
      const { createPrivateKey } = await import('node:crypto')
      const encrypted = createPrivateKey(other.key)
        .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pem secret' })
        .toString()
      const wrong = await importPem(h, key, `${encrypted}${other.cert}`, { password: 'not it' })
      assert.equal(wrong.statusCode, 400, wrong.body)
      assert.equal(wrong.json().problem, 'wrong_password')
      const right = await importPem(h, key, `${encrypted}${other.cert}`, { password: 'pem secret' })
      assert.equal(right.statusCode, 201, right.body)
    })

    void test('each unusable certificate is refused with a 400 naming the problem, and nothing is stored', async () => {
      const { key } = await newLiveAccount(h.app)
      const hugeIterations = pkcs12(taxpayer.key, [taxpayer.cert], PASSWORD, { keyIterations: 1_000_001 })
      const otherCa = await testCa('C=ES, CN=Some other CA')
      const { expired, early, serverOnly } = await unusableClients(ca)
      const encipherOnly = await testClient(ca, 'C=ES, CN=Encipherment only', {
        keyUsage: x509.KeyUsageFlags.keyEncipherment,
      })
      const cases: Array<
        [
          string,
          Promise<{ statusCode: number; body: string; json(): Record<string, unknown> }>,
          string,
          string,
          RegExp,
        ]
      > = [
        [
          'wrong password',
          importP12(h, key, pkcs12(taxpayer.key, [taxpayer.cert], PASSWORD), 'guess'),
          'wrong_password',
          'password',
          /wrong/,
        ],
        [
          'expired',
          importP12(h, key, pkcs12(expired.key, [expired.cert], PASSWORD)),
          'expired',
          'certificate',
          /"CN=Expired, C=ES" expired on \d{4}-/,
        ],
        [
          'not yet valid',
          importP12(h, key, pkcs12(early.key, [early.cert], PASSWORD)),
          'not_yet_valid',
          'certificate',
          /valid only from/,
        ],
        [
          'serverAuth only',
          importP12(h, key, pkcs12(serverOnly.key, [serverOnly.cert], PASSWORD)),
          'wrong_key_usage',
          'usage',
          /TLS client authentication/,
        ],
        [
          'keyEncipherment only',
          importP12(h, key, pkcs12(encipherOnly.key, [encipherOnly.cert], PASSWORD), PASSWORD, {
            uses: ['signing'],
          }),
          'wrong_key_usage',
          'usage',
          /signing/,
        ],
        [
          'a chain that does not link',
          importPem(h, key, `${taxpayer.key}${taxpayer.cert}${otherCa.cert}`),
          'broken_chain',
          'chain',
          /"CN=Some other CA, C=ES" did not sign/,
        ],
        [
          'key of another certificate',
          importPem(h, key, `${expired.key}${taxpayer.cert}`),
          'key_mismatch',
          'pem',
          /does not belong to the certificate/,
        ],
        [
          'legacy RC2 / 3DES PKCS#12',
          importP12(h, key, pkcs12(taxpayer.key, [taxpayer.cert], PASSWORD, { legacy: true })),
          'unsupported_encryption',
          'pkcs12',
          /without -legacy/,
        ],
        [
          'a key derivation of more rounds than any exporter writes',
          importP12(h, key, hugeIterations),
          'unsupported_encryption',
          'pkcs12',
          /asks for 1000001 key derivation rounds/,
        ],
        [
          'not a PKCS#12 file',
          importP12(h, key, Buffer.from('hello world')),
          'unreadable',
          'pkcs12',
          /not a PKCS#12/,
        ],
      ]
      for (const [what, pending, problem, field, message] of cases) {
        const response = await pending
        assert.equal(response.statusCode, 400, `${what}: ${response.body}`)
        const body = response.json()
        assert.equal(body.code, 'certificate_refused', what)
        assert.equal(body.problem, problem, what)
        assert.equal((body.details as { field: string }).field, field, what)
        assert.match(String(body.error), message, what)
      }
      const both = await h.app.inject({
        method: 'POST',
        url: '/v1/certificates',
        headers: bearer(key),
        payload: { pem: taxpayer.cert, pkcs12: 'AAAA', password: 'x' },
      })
      assert.equal(both.statusCode, 400)
      assert.deepEqual(await list(h, key), [], 'a refused certificate is not stored')
    })

    void test('a replacement is a new version under the same id; the old one is refused as a replacement again; an unused certificate is removed', async () => {
      const { key } = await newLiveAccount(h.app)
      const first = (await importP12(h, key, pkcs12(taxpayer.key, [taxpayer.cert], PASSWORD))).json()
      const renewed = await testClient(
        ca,
        'C=ES, O=Empresa de Prueba SL, CN=EMPRESA DE PRUEBA SL - B12345674',
        { to: 730 },
      )
      const replaced = await h.app.inject({
        method: 'PUT',
        url: `/v1/certificates/${first.id}`,
        headers: bearer(key),
        payload: {
          pkcs12: pkcs12(renewed.key, [renewed.cert], PASSWORD).toString('base64'),
          password: PASSWORD,
        },
      })
      assert.equal(replaced.statusCode, 200, replaced.body)
      const view = replaced.json()
      assert.equal(view.id, first.id)
      assert.equal(view.version, 2)
      assert.notEqual(view.fingerprint_sha256, first.fingerprint_sha256)
      assert.equal(view.not_after, new Date(new X509Certificate(renewed.cert).validTo).toISOString())
      assert.ok(view.replaced_at)
      const shown = await h.app.inject({
        method: 'GET',
        url: `/v1/certificates/${first.id}`,
        headers: bearer(key),
      })
      assert.equal(shown.json().version, 2)
      const back = await h.app.inject({
        method: 'PUT',
        url: `/v1/certificates/${first.id}`,
        headers: bearer(key),
        payload: { pem: `${taxpayer.key}${taxpayer.cert}` },
      })
      assert.equal(back.statusCode, 409, back.body)
      const expired = await testClient(ca, 'C=ES, CN=Expired', { from: -400, to: -35 })
      const refused = await h.app.inject({
        method: 'PUT',
        url: `/v1/certificates/${first.id}`,
        headers: bearer(key),
        payload: { pem: `${expired.key}${expired.cert}` },
      })
      assert.equal(refused.statusCode, 400)
      assert.equal(refused.json().problem, 'expired')
      assert.equal((await list(h, key))[0]?.version, 2, 'a refused replacement changes nothing')
      const removed = await h.app.inject({
        method: 'DELETE',
        url: `/v1/certificates/${first.id}`,
        headers: bearer(key),
      })
      assert.equal(removed.statusCode, 204)
      assert.deepEqual(await list(h, key), [])
    })

    void test('a test key lists the certificates but cannot import, replace or remove one (403 naming the rule)', async () => {
      const { key, testKey } = await newLiveAccount(h.app)
      const stored = (await importP12(h, key, pkcs12(taxpayer.key, [taxpayer.cert], PASSWORD))).json()
      const renewed = await testClient(ca, 'C=ES, CN=EMPRESA DE PRUEBA SL - B12345674', { to: 730 })
      const attempts = [
        ['import', importP12(h, testKey, pkcs12(renewed.key, [renewed.cert], PASSWORD))],
        [
          'replace',
          h.app.inject({
            method: 'PUT',
            url: `/v1/certificates/${stored.id}`,
            headers: bearer(testKey),
            payload: { pem: `${renewed.key}${renewed.cert}` },
          }),
        ],
        [
          'remove',
          h.app.inject({ method: 'DELETE', url: `/v1/certificates/${stored.id}`, headers: bearer(testKey) }),
        ],
      ] as const
      for (const [what, pending] of attempts) {
        const response = await pending
        assert.equal(response.statusCode, 403, `${what}: ${response.body}`)
        assert.equal(response.json().code, 'forbidden', what)
        assert.match(
          response.json().error,
          /only a live API key \(fsk_live_…\) may import, replace or remove/,
          what,
        )
      }
      const listed = await list(h, testKey)
      assert.equal(listed.length, 1, 'nothing was imported or removed')
      assert.equal(listed[0]?.fingerprint_sha256, stored.fingerprint_sha256, 'nothing was replaced')
      assert.equal(listed[0]?.version, 1)
    })
  })
}
