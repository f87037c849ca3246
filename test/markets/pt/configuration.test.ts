import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { engines } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import { ContractPos } from '../contract.ts'
import { CONFIG, PUBLIC_KEY } from './support.ts'

/**
 * PUT/GET /pt/v1/cashbox on both engines: what is stored and shown (never the private key), a bad value is
 * a 400 naming the field and changes nothing, a new key needs a new version, other countries are refused.
 */
for (const engine of await engines()) {
  describe(`PT cash box configuration (${engine})`, () => {
    let h: Harness
    before(async () => {
      h = await startHarness(engine)
    })
    after(() => h.close())

    const newPos = async (country = 'PT') => new ContractPos(h.app, await h.runtime.cashboxes.create(country))

    test('GET shows what PUT stored, with the public key and without the private one', async () => {
      const pos = await newPos()
      const unconfigured = await pos.request('GET', '/pt/v1/cashbox')
      assert.equal(unconfigured.status, 409, unconfigured.payload)
      assert.match(unconfigured.json().detail, /PUT \/pt\/v1\/cashbox|fiscalbox pt configure/)
      const put = await pos.request('PUT', '/pt/v1/cashbox', CONFIG)
      assert.equal(put.status, 200, put.payload)
      const shown = (await pos.request('GET', '/pt/v1/cashbox')).json()
      assert.deepEqual(shown, put.json())
      assert.equal(shown.publicKey.trim(), PUBLIC_KEY.trim())
      assert.equal(shown.keyVersion, 1)
      assert.equal(shown.region, 'PT')
      assert.deepEqual(shown.series[3], {
        documentType: 'FT',
        series: 'FTM2026',
        validationCode: 'AAJFJHK6J6',
        manual: true,
        lastNumber: 0,
        lastHash: '',
      })
      assert.doesNotMatch(JSON.stringify(shown), /PRIVATE|privateKey/)
      const withoutKey = { ...CONFIG, privateKey: undefined }
      const kept = await pos.request('PUT', '/pt/v1/cashbox', { ...withoutKey, region: 'PT-AC' })
      assert.equal(kept.status, 200, kept.payload)
      assert.equal(kept.json().publicKey, shown.publicKey, 'the stored key is kept')
    })

    test('a bad value is a 400 naming the field and the rule, and the stored configuration stays', async () => {
      const pos = await newPos()
      assert.equal((await pos.request('PUT', '/pt/v1/cashbox', CONFIG)).status, 200)
      const series = CONFIG.series
      const ecKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
        type: 'pkcs8',
        format: 'pem',
      })
      const cases: [Record<string, unknown>, string, RegExp][] = [
        [{ ...CONFIG, nif: '509442014' }, 'nif', /check digit/],
        [{ ...CONFIG, companyName: ' ' }, 'companyName', /1 to 100/],
        [{ ...CONFIG, certificateNumber: '99A' }, 'certificateNumber', /digits/],
        [{ ...CONFIG, region: 'ES' }, 'region', /PT-AC/],
        [{ ...CONFIG, privateKey: ecKey }, 'privateKey', /RSA/],
        [{ ...CONFIG, privateKey: 'not a key' }, 'privateKey', /PEM/],
        [{ ...CONFIG, keyVersion: 0 }, 'keyVersion', /1 to 999/],
        [{ ...CONFIG, keyVersion: 2 }, 'keyVersion', /keep 1 for the same private key/],
        [{ ...CONFIG, address: { ...CONFIG.address, postalCode: '1100' } }, 'address.postalCode', /1000-001/],
        [{ ...CONFIG, series: [] }, 'series', /registered/],
        [
          { ...CONFIG, series: [{ ...series[0], documentType: 'CM' }] },
          'series[0].documentType',
          /FT, FS, NC, RG/,
        ],
        [
          { ...CONFIG, series: [{ ...series[0], documentType: 'RG', manual: true }] },
          'series[0].manual',
          /FT and FS/,
        ],
        [{ ...CONFIG, series: [{ ...series[0], series: 'FS 2026' }] }, 'series[0].series', /no spaces/],
        [{ ...CONFIG, series: [{ ...series[0], validationCode: 'abc' }] }, 'series[0].validationCode', /8/],
        [{ ...CONFIG, series: [series[0], series[0]] }, 'series[1].documentType', /listed twice/],
        [{ ...CONFIG, series: [{ ...series[2], manual: true }] }, 'series[0].manual', /FT and FS/],
        [{ ...CONFIG, series: [{ ...series[0], lastNumber: 4 }] }, 'series[0].lastHash', /both or neither/],
      ]
      for (const [body, field, rule] of cases) {
        const reply = await pos.request('PUT', '/pt/v1/cashbox', body)
        assert.equal(reply.status, 400, `${field}: ${reply.payload}`)
        assert.equal(reply.json().details.field, field, reply.payload)
        assert.match(reply.json().details.reason, rule, reply.payload)
      }
      const stored = (await pos.request('GET', '/pt/v1/cashbox')).json()
      assert.equal(stored.nif, CONFIG.nif)
      assert.equal(stored.series.length, 4)
      const fresh = await newPos()
      const withoutKey = { ...CONFIG, privateKey: undefined }
      const keyless = await fresh.request('PUT', '/pt/v1/cashbox', withoutKey)
      assert.equal(keyless.status, 400)
      assert.equal(keyless.json().details.field, 'privateKey')
    })

    test('a new private key needs a higher key version', async () => {
      const pos = await newPos()
      assert.equal((await pos.request('PUT', '/pt/v1/cashbox', CONFIG)).status, 200)
      const next = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
        type: 'pkcs8',
        format: 'pem',
      })
      const same = await pos.request('PUT', '/pt/v1/cashbox', { ...CONFIG, privateKey: next })
      assert.equal(same.status, 400)
      assert.equal(same.json().details.field, 'keyVersion')
      const bumped = await pos.request('PUT', '/pt/v1/cashbox', {
        ...CONFIG,
        privateKey: next,
        keyVersion: 2,
      })
      assert.equal(bumped.status, 200, bumped.payload)
      assert.notEqual(bumped.json().publicKey.trim(), PUBLIC_KEY.trim())
    })

    test('another country’s cash box is refused', async () => {
      const spanish = await newPos('ES')
      const reply = await spanish.request('PUT', '/pt/v1/cashbox', CONFIG)
      assert.equal(reply.status, 409, reply.payload)
      assert.match(reply.json().detail, /--country PT/)
    })
  })
}
