import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { engines } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import { OfficialSpec } from './official-spec.ts'
import { createCredentials, receipt, type SignDeClient, setUpTss, signDeClient } from './support.ts'

const spec = new OfficialSpec()

/**
 * The client, with every answer checked against fiskaly's specification: the operation the request
 * hits, the documented status, the content type and the JSON schema of that response.
 */
function checkedAgainstSpec(api: SignDeClient, checked: Set<string>): SignDeClient {
  return {
    get token() {
      return api.token
    },
    async call(method, url, body, headers) {
      const response = await api.call(method, url, body, headers)
      const op = spec.operationOf(method, `/api/v2${url}`)
      assert.ok(op, `${method} /api/v2${url} is no operation of the specification`)
      const problems = spec.check(op, {
        status: response.status,
        contentType: String(response.headers['content-type'] ?? ''),
        body: response.body,
      })
      assert.deepEqual(
        problems,
        [],
        `${method} ${url} (${op.operationId}) answered ${response.status}, which is not what the specification says: ${JSON.stringify(response.body)?.slice(0, 600)}`,
      )
      if (response.status === 200) checked.add(op.operationId)
      return response
    },
  }
}

const waitForExport = async (api: SignDeClient, tssId: string, exportId: string) => {
  for (let i = 0; i < 200; i++) {
    const state = (await api.call('GET', `/tss/${tssId}/export/${exportId}`)).body.state
    if (state !== 'PENDING' && state !== 'WORKING') return state as string
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`export ${exportId} did not finish`)
}

for (const engine of await engines()) {
  describe(`SIGN DE v2 answers as fiskaly's specification v2.1.35 describes (${engine})`, () => {
    let harness: Harness
    let api: SignDeClient
    const checked = new Set<string>()

    before(async () => {
      harness = await startHarness(engine)
      api = checkedAgainstSpec(await signDeClient(harness.app, await createCredentials(harness)), checked)
    })
    after(async () => harness.close())

    it('POST /auth answers a grant of the specification', async () => {
      const credentials = await createCredentials(harness)
      const response = await harness.app.inject({ method: 'POST', url: '/api/v2/auth', payload: credentials })
      const op = spec.operationOf('POST', '/api/v2/auth')
      assert.ok(op)
      assert.deepEqual(
        spec.check(op, {
          status: response.statusCode,
          contentType: String(response.headers['content-type']),
          body: response.json(),
        }),
        [],
      )
      checked.add(op.operationId)
    })

    it('TSS: supported_update_variants is the string SIGNED, the description is set, lists and metadata', async () => {
      const tssId = randomUUID()
      const created = await api.call('PUT', `/tss/${tssId}`, {})
      assert.equal(created.body.supported_update_variants, 'SIGNED')
      assert.match(created.body.description, /^[A-Za-z0-9 '()+,\-./:=?]{1,100}$/)
      assert.ok(created.body.description.includes(tssId), created.body.description)
      await api.call('GET', `/tss/${tssId}`)
      await api.call('GET', '/tss?limit=5&order=desc')
      const { tssId: initialized } = await setUpTss(api)
      const tss = (await api.call('GET', `/tss/${initialized}`)).body
      assert.equal(tss.description, 'Kasse 1')
      assert.equal(typeof tss.signature_counter, 'string')
      assert.equal(typeof tss.transaction_counter, 'string')
      await api.call('GET', `/tss/${initialized}/metadata`)
    })

    it("metadata: PATCH with null and empty values, as fiskaly's collection sends them, answers 200", async () => {
      const { tssId, clientIds } = await setUpTss(api)
      const clientId = clientIds[0] as string
      const txId = randomUUID()
      await api.call('PUT', `/tss/${tssId}/tx/${txId}?tx_revision=1`, {
        state: 'ACTIVE',
        client_id: clientId,
      })
      const collectionBody = { custom_field: null, custom_field2: '' }
      for (const path of [`/tss/${tssId}`, `/tss/${tssId}/client/${clientId}`, `/tss/${tssId}/tx/${txId}`]) {
        const before = (await api.call('GET', `${path}/metadata`)).body
        const kept = await api.call('PATCH', `${path}/metadata`, { custom_field: 'a', kept: 'yes' })
        assert.equal(kept.status, 200, JSON.stringify(kept.body))
        const patched = await api.call('PATCH', `${path}/metadata`, collectionBody)
        assert.equal(patched.status, 200, JSON.stringify(patched.body))
        // null removes a key (the answer's values are strings), "" is a value like any other
        assert.deepEqual(patched.body, { ...before, kept: 'yes', custom_field2: '' }, path)
        assert.deepEqual((await api.call('GET', `${path}/metadata`)).body, patched.body, path)
      }
      const viaTss = await api.call('PATCH', `/tss/${tssId}`, {
        state: 'INITIALIZED',
        metadata: { kept: null },
      })
      assert.equal(viaTss.status, 200, JSON.stringify(viaTss.body))
      assert.deepEqual(viaTss.body.metadata, { shop: 'Berlin 1', custom_field2: '' })
      const viaClient = await api.call('PATCH', `/tss/${tssId}/client/${clientId}`, {
        metadata: { kept: null, till: '' },
      })
      assert.equal(viaClient.status, 200, JSON.stringify(viaClient.body))
      assert.deepEqual(viaClient.body.metadata, { custom_field2: '', till: '' })
      const bad = await api.call('PATCH', `/tss/${tssId}/metadata`, { custom_field: 7 })
      assert.equal(bad.status, 400)
      assert.match(bad.body.message, /custom_field/)
    })

    it('transactions: currency_code defaults to EUR, schema.raw echoes process_type and process_data', async () => {
      const { tssId, clientIds } = await setUpTss(api)
      const clientId = clientIds[0] as string
      const txId = randomUUID()
      const start = await api.call('PUT', `/tss/${tssId}/tx/${txId}?tx_revision=1`, {
        state: 'ACTIVE',
        client_id: clientId,
      })
      assert.equal(typeof start.body.signature.counter, 'number')
      const finish = await api.call('PUT', `/tss/${tssId}/tx/${txId}?tx_revision=2`, {
        state: 'FINISHED',
        client_id: clientId,
        schema: receipt('10.00'),
      })
      const expectedData = 'Beleg^10.00_0.00_0.00_0.00_0.00^10.00:Bar'
      for (const answer of [finish.body, (await api.call('GET', `/tss/${tssId}/tx/${txId}`)).body]) {
        assert.deepEqual(answer.schema.standard_v1.receipt.amounts_per_payment_type, [
          { payment_type: 'CASH', amount: '10.00', currency_code: 'EUR' },
        ])
        assert.deepEqual(answer.schema.raw, {
          process_type: 'Kassenbeleg-V1',
          process_data: Buffer.from(expectedData).toString('base64'),
        })
        assert.equal(typeof answer.signature.counter, 'number')
      }
      // the QR code carries the same processData
      assert.ok(finish.body.qr_code_data.includes(`;Kassenbeleg-V1;${expectedData};`))

      const rawTx = randomUUID()
      await api.call('PUT', `/tss/${tssId}/tx/${rawTx}?tx_revision=1`, {
        state: 'ACTIVE',
        client_id: clientId,
      })
      const raw = {
        process_type: 'SonstigerVorgang',
        process_data: Buffer.from('Trinkgeld 1,00').toString('base64'),
      }
      const rawFinish = await api.call('PUT', `/tss/${tssId}/tx/${rawTx}?tx_revision=2`, {
        state: 'FINISHED',
        client_id: clientId,
        schema: { raw },
      })
      assert.deepEqual(rawFinish.body.schema, { raw })

      const cancelled = randomUUID()
      await api.call('PUT', `/tss/${tssId}/tx/${cancelled}?tx_revision=1`, {
        state: 'ACTIVE',
        client_id: clientId,
      })
      const cancel = await api.call('PUT', `/tss/${tssId}/tx/${cancelled}?tx_revision=2`, {
        state: 'CANCELLED',
        client_id: clientId,
      })
      assert.deepEqual(cancel.body.schema.raw, {
        process_type: 'Kassenbeleg-V1',
        process_data: Buffer.from('AVBelegabbruch^0.00_0.00_0.00_0.00_0.00^').toString('base64'),
      })

      const order = randomUUID()
      await api.call('PUT', `/tss/${tssId}/tx/${order}?tx_revision=1`, {
        state: 'ACTIVE',
        client_id: clientId,
      })
      await api.call('PUT', `/tss/${tssId}/tx/${order}?tx_revision=2`, {
        state: 'ACTIVE',
        client_id: clientId,
        schema: {
          standard_v1: { order: { line_items: [{ quantity: '1', text: 'Tee', price_per_unit: '2.00' }] } },
        },
      })
      const orderEnd = await api.call('PUT', `/tss/${tssId}/tx/${order}?tx_revision=3`, {
        state: 'FINISHED',
        client_id: clientId,
        schema: {
          standard_v1: { order: { line_items: [{ quantity: '1', text: 'Tee', price_per_unit: '2.00' }] } },
        },
      })
      assert.equal(orderEnd.body.schema.raw.process_type, 'Bestellung-V1')
      assert.equal(Buffer.from(orderEnd.body.schema.raw.process_data, 'base64').toString(), '1;"Tee";2.00')

      await api.call('GET', `/tss/${tssId}/tx/${txId}?tx_revision=1`)
      await api.call('GET', `/tss/${tssId}/tx/1`)
      await api.call('GET', `/tss/${tssId}/tx?order_by=number&order=desc`)
      await api.call('GET', '/tx?limit=3')
      await api.call('GET', `/tss/${tssId}/client/${clientId}/tx`)
      const log = await api.call('GET', `/tss/${tssId}/tx/${txId}/log`)
      assert.equal(log.raw[0], 0x30)
      await api.call('GET', `/tss/${tssId}/client/${clientId}`)
      await api.call('GET', `/tss/${tssId}/client`)
      await api.call('GET', '/client')
      await api.call('GET', `/tss/${tssId}/client/${clientId}/metadata`)
      await api.call('GET', `/tss/${tssId}/tx/${txId}/metadata`)
    })

    it('exports: PUT with no body, GET /export lists them across TSS, file, metadata, cancel', async () => {
      const { tssId, clientIds } = await setUpTss(api, { clients: 1 })
      const exportId = randomUUID()
      // The specification gives triggerExport no request body: a client sends none.
      const triggered = await api.call('PUT', `/tss/${tssId}/export/${exportId}`)
      assert.equal(triggered.status, 200, JSON.stringify(triggered.body))
      // ... or an empty JSON object, with or without filters.
      const second = randomUUID()
      const withEmptyObject = await api.call(
        'PUT',
        `/tss/${tssId}/export/${second}?client_id=${clientIds[0]}`,
        {},
      )
      assert.equal(withEmptyObject.status, 200, JSON.stringify(withEmptyObject.body))
      assert.equal(await waitForExport(api, tssId, exportId), 'COMPLETED')
      await waitForExport(api, tssId, second)

      const { tssId: otherTss } = await setUpTss(api)
      const third = randomUUID()
      await api.call('PUT', `/tss/${otherTss}/export/${third}`)
      await waitForExport(api, otherTss, third)
      const all = await api.call('GET', '/export')
      assert.equal(all.status, 200)
      const ids = all.body.data.map((e: { _id: string }) => e._id)
      for (const id of [exportId, second, third]) assert.ok(ids.includes(id), `${id} in GET /export`)
      assert.equal(all.body.count, all.body.data.length)
      const paged = await api.call('GET', '/export?limit=1&offset=1&order=desc')
      assert.equal(paged.body.data.length, 1)
      assert.equal(paged.body.count, all.body.count)
      const completed = await api.call('GET', '/export?states[]=COMPLETED')
      assert.ok(completed.body.data.every((e: { state: string }) => e.state === 'COMPLETED'))
      await api.call('GET', `/tss/${tssId}/export`)

      const file = await api.call('GET', `/tss/${tssId}/export/${exportId}/file`)
      assert.equal(file.status, 200)
      assert.ok(file.raw.length > 512)
      const meta = await api.call('PATCH', `/tss/${tssId}/export/${exportId}/metadata`, {
        custom_field: null,
        custom_field2: '',
      })
      assert.deepEqual(meta.body, { custom_field2: '' })
      await api.call('GET', `/tss/${tssId}/export/${exportId}/metadata`)
      const cancelled = await api.call('DELETE', `/tss/${tssId}/export/${third.replace(/.$/, '0')}`)
      assert.equal(cancelled.status, 404)
      await api.call('DELETE', `/tss/${otherTss}/export/${third}`)
    })

    it('every operation fiscalbox serves was answered as the specification says', () => {
      const served = spec.operations.map((op) => op.operationId)
      assert.deepEqual(
        served.filter((id) => !checked.has(id)),
        [],
        'operations not exercised by this suite',
      )
    })
  })
}
