import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { engines } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import { ContractPos } from '../contract.ts'

/**
 * PUT/GET /it/v1/cashbox: an IT cash box's RT device, through HTTP on both engines. A bad value is a 400
 * naming the field and changes nothing; other countries' cash boxes are refused. (The 409 after the first
 * document is in sign.test.ts, which has a device to print it.)
 */
for (const engine of await engines()) {
  describe(`IT cash box configuration (${engine})`, () => {
    let h: Harness
    before(async () => {
      h = await startHarness(engine)
    })
    after(() => h.close())

    const newPos = async (country = 'IT') => new ContractPos(h.app, await h.runtime.cashboxes.create(country))

    test('defaults, normalized rates, and GET returns what PUT stored', async () => {
      const pos = await newPos()
      const unconfigured = await pos.request('GET', '/it/v1/cashbox')
      assert.equal(unconfigured.status, 409, unconfigured.payload)
      assert.match(unconfigured.json().detail, /PUT \/it\/v1\/cashbox|fiscalbox it configure/)
      const put = await pos.request('PUT', '/it/v1/cashbox', {
        device: 'epson-rt',
        url: 'http://192.168.1.20/',
      })
      assert.equal(put.status, 200, put.payload)
      const expected = {
        device: 'epson-rt',
        url: 'http://192.168.1.20',
        timeoutMs: 10000,
        departments: { '22.00': 1, '10.00': 2, '5.00': 3, '4.00': 4, '0.00': 5 },
        failedMode: false,
      }
      assert.deepEqual(put.json(), expected)
      assert.deepEqual((await pos.request('GET', '/it/v1/cashbox')).json(), expected)
      const changed = await pos.request('PUT', '/it/v1/cashbox', {
        device: 'epson-rt',
        url: 'http://rt.example:8080',
        timeoutMs: 2500,
        departments: { '22': 7, '10.0': 8, '5.5': 9 },
        failedMode: true,
      })
      assert.equal(changed.status, 200, changed.payload)
      assert.deepEqual(changed.json().departments, { '22.00': 7, '10.00': 8, '5.50': 9 })
      const stored = (await pos.request('GET', '/it/v1/cashbox')).json()
      assert.equal(stored.timeoutMs, 2500)
      assert.equal(stored.failedMode, true)
    })

    test('a bad value is a 400 naming the field and the rule, and the stored configuration stays', async () => {
      const pos = await newPos()
      const good = { device: 'epson-rt', url: 'http://10.0.0.5' }
      assert.equal((await pos.request('PUT', '/it/v1/cashbox', good)).status, 200)
      const cases: [Record<string, unknown>, string, RegExp][] = [
        [{ ...good, device: 'custom-rt' }, 'device', /epson-rt/],
        [{ ...good, url: 'ftp://10.0.0.5' }, 'url', /http/],
        [{ ...good, url: 'http://10.0.0.5/?x=1' }, 'url', /query/],
        [{ ...good, timeoutMs: 50 }, 'timeoutMs', /100 to 60000/],
        [{ ...good, timeoutMs: 60001 }, 'timeoutMs', /100 to 60000/],
        [{ ...good, departments: {} }, 'departments', /map VAT rates/],
        [{ ...good, departments: { '22': 0 } }, 'departments.22', /1 to 99/],
        [{ ...good, departments: { '22': 100 } }, 'departments.22', /1 to 99/],
        [{ ...good, departments: { '120': 1 } }, 'departments.120', /between 0 and 100/],
        [{ ...good, departments: { '22': 1, '22.0': 2 } }, 'departments.22.0', /mapped twice/],
        [{ ...good, failedMode: 'yes' }, 'failedMode', /boolean/],
      ]
      for (const [body, field, rule] of cases) {
        const reply = await pos.request('PUT', '/it/v1/cashbox', body)
        assert.equal(reply.status, 400, `${JSON.stringify(body)}: ${reply.payload}`)
        const problem = reply.json()
        assert.equal(problem.details.field, field, reply.payload)
        assert.match(problem.details.reason, rule, reply.payload)
      }
      assert.equal((await pos.request('GET', '/it/v1/cashbox')).json().url, 'http://10.0.0.5')
    })

    test('another country’s cash box and bad credentials are refused', async () => {
      const spanish = await newPos('ES')
      const reply = await spanish.request('PUT', '/it/v1/cashbox', { device: 'epson-rt', url: 'http://a' })
      assert.equal(reply.status, 409, reply.payload)
      assert.equal(reply.json().details.field, 'headers.x-cashbox-id')
      const anonymous = await h.app.inject({ method: 'GET', url: '/it/v1/cashbox' })
      assert.equal(anonymous.statusCode, 401, anonymous.payload)
    })

    test('the OpenAPI document describes /it/v1/cashbox', async () => {
      const document = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json()
      const path = document.paths['/it/v1/cashbox']
      assert.ok(path?.put && path.get, Object.keys(document.paths).join(' '))
      assert.ok(path.put.requestBody.content['application/json'].schema.properties.departments)
      assert.ok(path.put.requestBody.content['application/json'].schema.properties.failedMode)
      assert.ok(document.paths['/it/v1/held-receipts']?.get, 'the held receipts of failed mode')
    })
  })
}
