import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import { FR_CASE, frReceipt, joseKey, jwsOf, verifiedPayload, verifyChains } from './support.ts'

/** /v2/sign end to end: a real listening server, fetch, and the answers checked with jose. */
describe('French /v2/sign over HTTP', () => {
  let h: Harness
  let url: string
  before(async () => {
    h = await startHarness('sqlite')
    url = await h.app.listen({ port: 0, host: '127.0.0.1' })
  })
  after(() => h.close())

  test('a French cash box answers signed, chained receipts over the network', async () => {
    const box = await h.runtime.cashboxes.create('FR')
    const post = (body: unknown) =>
      fetch(`${url}/v2/sign`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-cashbox-id': box.cashboxId,
          'x-cashbox-accesstoken': box.accessToken,
          'x-operation-id': randomUUID(),
        },
        body: JSON.stringify(body),
      })
    const sign = async (body: unknown) => {
      const response = await post(body)
      assert.equal(response.status, 200, await response.clone().text())
      return response.json()
    }
    const responses = []
    for (const body of [
      frReceipt(FR_CASE.start),
      frReceipt(FR_CASE.pos, [['4.40', 10]]),
      frReceipt(FR_CASE.pos, [['1.20', 5.5]]),
      frReceipt(FR_CASE.daily),
    ])
      responses.push(await sign(body))
    const key = await joseKey(box.publicKey)
    await verifyChains(responses.map(jwsOf), key)
    const closing = await verifiedPayload(jwsOf(responses[3]), key)
    assert.equal(closing.totals.day.total, '5.60')
    assert.equal(BigInt(responses[3].ftState) >> 48n, 0x4652n, 'ftState carries France')

    const refused = await post(frReceipt(FR_CASE.pos, [['1.00', 7]]))
    assert.equal(refused.status, 400)
    assert.match(await refused.text(), /cbChargeItems\[0\]\.VATRate/)
  })
})
