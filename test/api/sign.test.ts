import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import {
  caseHex,
  code,
  FLAG,
  MOMENT,
  newPos,
  parseQr,
  qrSignatureOf,
  qrSignatureValid,
  RECEIPT_CASE,
  receipt,
  specialReceipt,
  startedPos,
  stateHex,
} from './support.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const GENESIS = '0'.repeat(64)

for (const engine of await engines()) {
  describe(`POST /v2/sign (${engine})`, () => {
    let harness: Harness
    before(async () => {
      harness = await startHarness(engine)
    })
    after(async () => {
      await harness?.close()
    })

    test('start receipt first, then POS receipts are numbered ft{n:X}# one by one and QR-signed', async () => {
      const pos = await newPos(harness)
      const publicKey = (await harness.runtime.cashboxes.signer(pos.queueId)).publicKey
      assert.equal(publicKey, pos.box.publicKey)

      const start = await pos.signOk(specialReceipt(RECEIPT_CASE.start))
      assert.equal(start.response.ftReceiptIdentification, 'ft1#')
      assert.equal(start.response.ftQueueRow, 1)
      assert.equal(start.response.ftState, '0x4555200000000000')

      let previousHash = parseQr(qrSignatureOf(start.response).Data).previousHash
      assert.equal(previousHash, GENESIS, 'the first receipt chains to the genesis hash')
      let previousRow = 1
      const receiptsJournalHashes: string[] = []

      // 17 receipts: the numbers cross 9 -> A and F -> 10, so the hex formatting is exercised.
      for (let n = 2; n <= 18; n++) {
        const body = receipt({ charges: [{ amount: `${n}.25`, vat: 20 }] })
        const { payload, response } = await pos.signOk(body)
        assert.equal(response.ftReceiptIdentification, `ft${n.toString(16).toUpperCase()}#`)
        assert.ok(response.ftQueueRow > previousRow, 'ftQueueRow increases')
        assert.equal(response.ftQueueRow, previousRow + 1)
        previousRow = response.ftQueueRow
        assert.equal(response.ftState, '0x4555200000000000')
        assert.equal(response.ftQueueID, pos.queueId)
        assert.equal(response.ftCashBoxID, pos.box.cashboxId)
        assert.match(response.ftQueueItemID, UUID)
        assert.equal(response.cbReceiptReference, body.cbReceiptReference)
        assert.ok(!Number.isNaN(Date.parse(response.ftReceiptMoment)))
        assert.equal(payload, JSON.stringify(response), 'the answer is compact JSON')

        const signature = qrSignatureOf(response)
        assert.equal(signature.ftSignatureType, caseHex('EU', 0x1n))
        assert.ok(signature.Data.startsWith('FB1_'))
        const qr = parseQr(signature.Data)
        assert.equal(qr.prefix, 'FB1')
        assert.equal(qr.queueId, pos.queueId)
        assert.equal(qr.receiptNumber, n)
        assert.equal(qr.moment, response.ftReceiptMoment)
        assert.equal(qr.total, `${n}.25`)
        assert.match(qr.previousHash, /^[0-9a-f]{64}$/)
        assert.notEqual(qr.previousHash, previousHash, 'each receipt chains to a new hash')
        assert.ok(qrSignatureValid(publicKey, qr.signed, qr.signature), `signature of receipt ${n} verifies`)
        // The signature covers the payload: a changed total must not verify.
        const forged = qr.signed.replace(`_${n}.25_`, `_${n}.26_`)
        assert.notEqual(forged, qr.signed)
        assert.equal(qrSignatureValid(publicKey, forged, qr.signature), false)
        previousHash = qr.previousHash
        receiptsJournalHashes.push(qr.previousHash)
      }

      // Each QR names the hash of the receipt before it in the journal.
      const journal = await pos.journal('ReceiptJournal')
      assert.equal(journal.length, 18)
      receiptsJournalHashes.forEach((hash, i) => {
        assert.equal(hash, journal[i].ftReceiptHash, `QR of receipt ${i + 2} chains to receipt ${i + 1}`)
      })
    })

    test('POST /v2/echo answers the message (Message or message) and needs credentials', async () => {
      const pos = await newPos(harness)
      const before = await pos.snapshot()
      const upper = await pos.post('/v2/echo', { Message: 'hello ✓' })
      assert.equal(upper.status, 200)
      assert.deepEqual(upper.json(), { Message: 'hello ✓' })
      assert.deepEqual((await pos.post('/v2/echo', { message: 'lower' })).json(), { Message: 'lower' })
      const missing = await pos.post('/v2/echo', {})
      assert.equal(missing.status, 400)
      assert.equal(missing.json().details.field, 'Message')
      const denied = await pos.app.inject({
        method: 'POST',
        url: '/v2/echo',
        headers: pos.headers({ 'x-cashbox-accesstoken': 'wrong' }),
        payload: '{"Message":"x"}',
      })
      assert.equal(denied.statusCode, 401)
      assert.deepEqual((await pos.snapshot()).counts, before.counts, 'echo writes nothing')
    })

    test("another queue's public key does not verify the signature", async () => {
      const a = await startedPos(harness)
      const b = await newPos(harness)
      const { response } = await a.signOk(receipt())
      const qr = parseQr(qrSignatureOf(response).Data)
      assert.ok(qrSignatureValid(a.box.publicKey, qr.signed, qr.signature))
      assert.equal(qrSignatureValid(b.box.publicKey, qr.signed, qr.signature), false)
    })

    test('concurrent receipts of different operations get distinct, gap-free numbers and rows', async () => {
      const pos = await startedPos(harness)
      const replies = await Promise.all(Array.from({ length: 20 }, () => pos.sign(receipt())))
      for (const reply of replies) assert.equal(reply.status, 200, reply.payload)
      const responses = replies.map((r) => r.json())
      const numbers = responses
        .map((r) => Number.parseInt(r.ftReceiptIdentification.slice(2, -1), 16))
        .sort((a, b) => a - b)
      assert.deepEqual(
        numbers,
        Array.from({ length: 20 }, (_, i) => i + 2),
      )
      const rows = responses.map((r) => r.ftQueueRow).sort((a, b) => a - b)
      assert.deepEqual(
        rows,
        Array.from({ length: 20 }, (_, i) => i + 2),
      )
      const chain = await pos.journal('ReceiptJournal')
      for (let i = 1; i < chain.length; i++) assert.equal(chain[i].PreviousHash, chain[i - 1].ftReceiptHash)
    })

    test('cbTerminalID is echoed; a missing one is answered as an empty string', async () => {
      const pos = await startedPos(harness)
      const withTerminal = await pos.signOk(receipt({ extra: { cbTerminalID: 'T-7' } }))
      assert.equal(withTerminal.response.cbTerminalID, 'T-7')
      const without = await pos.signOk(receipt())
      assert.equal(without.response.cbTerminalID, '')
    })

    test('void and refund receipts are signed when they name the previous receipt', async () => {
      const pos = await startedPos(harness)
      const sale = receipt({ charges: [{ amount: 30, vat: 20 }] })
      await pos.signOk(sale)
      for (const flag of [FLAG.void, FLAG.refund]) {
        const { response } = await pos.signOk(
          receipt({
            low: flag | RECEIPT_CASE.pos,
            charges: [{ amount: -30, vat: 20, quantity: -1 }],
            extra: { cbPreviousReceiptReference: sale.cbReceiptReference },
          }),
        )
        assert.equal(response.ftState, stateHex('EU', 0n))
        assert.equal(parseQr(qrSignatureOf(response).Data).total, '-30.00')
      }
    })

    test('unknown extra fields in the body and in items are tolerated and kept in the stored request', async () => {
      const pos = await startedPos(harness)
      const body = receipt({
        extra: {
          cbCustomer: { Name: 'ACME Corp', VATId: 'IT12345678901' },
          ftReceiptCaseData: { EU: { anything: [1, 2, 3] } },
          cbUser: { Name: 'Anna' },
          SomethingNew: true,
        },
      })
      ;(body.cbChargeItems as Array<Record<string, unknown>>)[0]!.UnitPrice = 10
      ;(body.cbPayItems as Array<Record<string, unknown>>)[0]!.MoneyNumber = 'TRANS123'
      const { response } = await pos.signOk(body)
      assert.equal(response.ftReceiptIdentification, 'ft2#')
      const items = await pos.journal('QueueItem')
      const stored = items.at(-1)
      assert.equal(stored.ftQueueItemId, response.ftQueueItemID)
      assert.deepEqual(stored.request.cbCustomer, { Name: 'ACME Corp', VATId: 'IT12345678901' })
      assert.equal(stored.request.SomethingNew, true)
      assert.equal(stored.request.cbChargeItems[0].UnitPrice, 10)
      assert.equal(stored.request.cbPayItems[0].MoneyNumber, 'TRANS123')
    })

    describe('exact money', () => {
      test('0.1 + 0.2 charged and 0.3 paid is accepted, totalling exactly 0.30', async () => {
        const pos = await startedPos(harness)
        assert.notEqual(0.1 + 0.2, 0.3, 'the float trap this test is about')
        const { response } = await pos.signOk(
          receipt({
            charges: [
              { amount: 0.1, vat: 20 },
              { amount: 0.2, vat: 20 },
            ],
            pays: [{ amount: 0.3 }],
          }),
        )
        assert.equal(parseQr(qrSignatureOf(response).Data).total, '0.30')
        const journal = await pos.journal('ReceiptJournal')
        assert.equal(journal.at(-1).ftReceiptTotal, '0.30')
      })

      test('ten times 0.1 equals one payment of 1', async () => {
        const pos = await startedPos(harness)
        const charges = Array.from({ length: 10 }, () => ({ amount: 0.1, vat: 10 }))
        assert.notEqual(
          charges.reduce((s, c) => s + c.amount, 0),
          1,
        )
        const { response } = await pos.signOk(receipt({ charges, pays: [{ amount: 1 }] }))
        assert.equal(parseQr(qrSignatureOf(response).Data).total, '1.00')
      })

      test('amounts as decimal strings ("12.50") behave like numbers', async () => {
        const pos = await startedPos(harness)
        const { response } = await pos.signOk(
          receipt({
            charges: [
              { amount: '12.50', vat: '19.00', quantity: '2' },
              { amount: '0.125', vat: '7' },
            ],
            pays: [{ amount: '10.125' }, { amount: 2.5 }],
          }),
        )
        assert.equal(parseQr(qrSignatureOf(response).Data).total, '12.625')
      })

      test('large amounts add up without rounding', async () => {
        const pos = await startedPos(harness)
        const { response } = await pos.signOk(
          receipt({
            charges: [
              { amount: 9999999999999.99, vat: 20 },
              { amount: '9999999999999.99', vat: 20 },
              { amount: 0.01, vat: 20 },
            ],
            pays: [{ amount: '9999999999999.99' }, { amount: 9999999999999.99 }, { amount: '0.01' }],
          }),
        )
        assert.equal(parseQr(qrSignatureOf(response).Data).total, '19999999999999.99')
      })

      test('an amount written with 16 or more decimal digits is still read as the decimal it is', async () => {
        const pos = await startedPos(harness)
        const body = JSON.stringify(receipt({ charges: [{ amount: 0.1, vat: 20 }], pays: [{ amount: 0.1 }] }))
        const raw = body.replace('"Amount":0.1,', '"Amount":0.1000000000000000000,')
        assert.notEqual(raw, body)
        const reply = await pos.sign(undefined, { raw })
        assert.equal(reply.status, 200, reply.payload)
        assert.equal(parseQr(qrSignatureOf(reply.json()).Data).total, '0.10')
      })
    })

    describe('case codes as hex strings, decimal strings and big JSON numbers', () => {
      const posCase = code('EU', RECEIPT_CASE.pos)
      test('the reference example number is the hex code it stands for', () => {
        assert.equal(posCase, 0x4555200000000001n)
        assert.equal(posCase.toString(), '4995934546009522177')
      })

      test('ftReceiptCase as hex, lower-case hex, decimal string and unquoted 19-digit number sign alike', async () => {
        const pos = await startedPos(harness)
        const forms: Array<[string, (body: Record<string, unknown>) => string]> = [
          ['hex', (b) => JSON.stringify({ ...b, ftReceiptCase: '0x4555200000000001' })],
          [
            'lower-case hex',
            (b) => JSON.stringify({ ...b, ftReceiptCase: '0x4555200000000001'.toLowerCase() }),
          ],
          ['decimal string', (b) => JSON.stringify({ ...b, ftReceiptCase: posCase.toString() })],
          [
            'big JSON number',
            (b) => JSON.stringify({ ...b, ftReceiptCase: '@@' }).replace('"@@"', posCase.toString()),
          ],
        ]
        let n = 2
        for (const [label, render] of forms) {
          const raw = render(receipt())
          if (label === 'big JSON number') assert.match(raw, /"ftReceiptCase":4995934546009522177,/)
          const reply = await pos.sign(undefined, { raw })
          assert.equal(reply.status, 200, `${label}: ${reply.payload}`)
          const response = reply.json()
          // Answered in the form sent: hex for hex, a JSON number of exact digits for decimal digits.
          const asNumber = label === 'decimal string' || label === 'big JSON number'
          assert.equal(response.ftState, asNumber ? '4995934546009522176' : '0x4555200000000000', label)
          if (asNumber) assert.match(reply.payload, /"ftState":4995934546009522176[,}]/, label)
          assert.equal(response.ftReceiptIdentification, `ft${n++}#`, label)
          const items = await pos.journal('QueueItem')
          assert.equal(items.at(-1).ftReceiptCase, '0x4555200000000001', label)
        }
      })

      test('a start receipt sent as a big JSON number starts the queue', async () => {
        const pos = await newPos(harness)
        const start = code('EU', RECEIPT_CASE.start)
        const raw = JSON.stringify({ ...specialReceipt(RECEIPT_CASE.start), ftReceiptCase: '@@' }).replace(
          '"@@"',
          start.toString(),
        )
        const reply = await pos.sign(undefined, { raw })
        assert.equal(reply.status, 200, reply.payload)
        assert.equal(reply.json().ftReceiptIdentification, 'ft1#')
        assert.equal(reply.json().ftState, String(code('EU', 0n)))
      })

      test('a big number whose flags make it a void is treated as one (needs cbPreviousReceiptReference)', async () => {
        const pos = await startedPos(harness)
        const voidCase = code('EU', FLAG.void | RECEIPT_CASE.pos)
        const raw = JSON.stringify({ ...receipt(), ftReceiptCase: '@@' }).replace('"@@"', voidCase.toString())
        const reply = await pos.sign(undefined, { raw })
        assert.equal(reply.status, 400)
        assert.equal(reply.json().details.field, 'cbPreviousReceiptReference')
      })

      test('a case code without the country bits and a missing ftReceiptCase are POS receipts of the queue', async () => {
        const pos = await startedPos(harness)
        const small = await pos.signOk(receipt({ ftReceiptCase: 1 }))
        assert.equal(small.response.ftState, String(code('EU', 0n)), 'a number is answered with numbers')
        assert.equal(small.response.ftReceiptIdentification, 'ft2#')
        const body = receipt()
        delete body.ftReceiptCase
        const missing = await pos.signOk(body)
        assert.equal(missing.response.ftReceiptIdentification, 'ft3#')
      })

      test('pay and charge item cases in every form are accepted', async () => {
        const pos = await startedPos(harness)
        const raw = JSON.stringify(
          receipt({
            charges: [
              { amount: 5, vat: 20, caseCode: '0x4555200000000013' },
              { amount: 5, vat: 20, caseCode: '@@charge' },
            ],
            pays: [
              { amount: 4, caseCode: 1 },
              { amount: 6, caseCode: '@@pay' },
            ],
          }),
        )
          .replace('"@@charge"', code('EU', 0x13n).toString())
          .replace('"@@pay"', code('EU', 0x5n).toString())
        const reply = await pos.sign(undefined, { raw })
        assert.equal(reply.status, 200, reply.payload)
      })

      test('the moment in the request is kept as UTC', async () => {
        const pos = await startedPos(harness)
        await pos.signOk(receipt({ extra: { cbReceiptMoment: '2024-03-29T12:15:00+02:00' } }))
        const items = await pos.journal('QueueItem')
        assert.equal(items.at(-1).cbReceiptMoment, MOMENT)
      })
    })
  })
}
