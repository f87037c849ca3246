import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { engines } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import {
  cents,
  FR_CASE,
  FrPos,
  frReceipt,
  joseKey,
  jwsOf,
  textSignature,
  verifiedPayload,
  verifyChains,
} from './support.ts'

for (const engine of await engines()) {
  describe(`French market on ${engine}`, () => {
    let h: Harness
    before(async () => {
      h = await startHarness(engine)
    })
    after(() => h.close())

    const started = async () => {
      const box = await h.runtime.cashboxes.create('FR')
      const pos = new FrPos(h.app, box)
      const start = await pos.signOk(frReceipt(FR_CASE.start))
      return { pos, box, start, key: await joseKey(box.publicKey) }
    }

    test('each family has its own chain; every entry verifies with jose and links to its predecessor', async () => {
      const { pos, start, key } = await started()
      const responses = [start]
      for (const body of [
        frReceipt(FR_CASE.pos, [['12.00', 20]]),
        frReceipt(FR_CASE.invoice, [['110.00', 10]]),
        frReceipt(FR_CASE.pos, [['5.50', 5.5]]),
        frReceipt(FR_CASE.paymentTransfer, [['20.00', 0]]),
        frReceipt(FR_CASE.proForma, [['30.00', 20]]),
        frReceipt(FR_CASE.trainingPos, [['9.99', 20]]),
        frReceipt(FR_CASE.technicalEvent),
        frReceipt(FR_CASE.daily),
      ])
        responses.push(await pos.signOk(body))
      const suffixes = responses.map((r) => r.ftReceiptIdentification.split('#')[1])
      assert.deepEqual(suffixes, ['G1', 'T1', 'I1', 'T2', 'P1', 'B1', 'X1', 'L2', 'G2'])
      const payloads = []
      for (const response of responses) {
        const payload = await verifiedPayload(jwsOf(response), key)
        assert.equal(payload.rid, response.ftReceiptIdentification, 'the payload names the identification')
        assert.equal(payload.qid, response.ftQueueID)
        payloads.push(payload)
      }
      // The start receipt's JET entry (L1) is not on any response: the next L entry starts at 2.
      await verifyChains(responses.map(jwsOf), key, { L: { n: 1, hash: payloads[7].hash } })
      assert.equal(textSignature(responses[5], 'Document provisoire'), 'Note : ne vaut pas ticket de caisse')
      assert.match(textSignature(responses[6], 'MODE ÉCOLE') ?? '', /sans valeur fiscale/)
      assert.match(textSignature(responses[4], 'Justificatif de paiement') ?? '', /non valable/)
      const extract = textSignature(responses[1], 'Signature')
      assert.equal(extract, jwsOf(responses[1]).split('.')[2]?.slice(0, 8))
    })

    test('closings sign the totals of their documents per VAT rate; the perpetual total never resets', async () => {
      const { pos, key } = await started()
      const sales = [
        [
          ['12.00', 20],
          ['5.50', 5.5],
        ],
        [['110.00', 10]],
        [['-2.00', 20]],
      ] as const
      for (const items of sales) await pos.signOk(frReceipt(FR_CASE.pos, items))
      await pos.signOk(frReceipt(FR_CASE.proForma, [['99.00', 20]]))
      await pos.signOk(frReceipt(FR_CASE.trainingPos, [['50.00', 20]]))
      const daily = await verifiedPayload(jwsOf(await pos.signOk(frReceipt(FR_CASE.daily))), key)
      assert.equal(daily.closing, 'day')
      assert.equal(daily.totals.day.documents, 3, 'tickets only: not the bill, not the training sale')
      assert.equal(cents([daily.totals.day.total]), 12550)
      assert.deepEqual(
        Object.fromEntries(
          Object.entries(daily.totals.day.vat).map(([rate, v]: [string, any]) => [rate, v.gross]),
        ),
        { '20.00': '10.00', '5.50': '5.50', '10.00': '110.00' },
      )
      assert.equal(daily.totals.day.vat['20.00'].vat, '1.67')
      assert.equal(daily.totals.day.vat['10.00'].net, '100.00')

      await pos.signOk(frReceipt(FR_CASE.invoice, [['24.00', 20]]))
      const second = await verifiedPayload(jwsOf(await pos.signOk(frReceipt(FR_CASE.daily))), key)
      assert.equal(second.totals.day.total, '24.00', 'the daily closing reset the day')
      assert.equal(second.totals.month.total, '149.50', 'the month runs on')
      assert.equal(second.totals.perpetual.total, '149.50')
      const monthly = await pos.signOk(frReceipt(FR_CASE.monthly))
      assert.equal(textSignature(monthly, 'Grand total perpétuel'), '149.50 (4 documents)')
      const yearly = await verifiedPayload(jwsOf(await pos.signOk(frReceipt(FR_CASE.yearly))), key)
      assert.equal(yearly.totals.month.total, '0.00', 'the monthly closing reset the month')
      assert.equal(yearly.totals.year.total, '149.50')
      const zero = await verifiedPayload(jwsOf(await pos.signOk(frReceipt(FR_CASE.zero))), key)
      assert.equal(zero.totals.year.total, '0.00')
      assert.equal(zero.totals.perpetual.total, '149.50', 'the perpetual grand total never resets')
    })

    test('duplicates are counted per receipt and in total, marked DUPLICATA and chained', async () => {
      const { pos, key } = await started()
      const sale = frReceipt(FR_CASE.pos, [['4.20', 10]])
      await pos.signOk(sale)
      const copy = () => frReceipt(FR_CASE.copy, [], { cbPreviousReceiptReference: sale.cbReceiptReference })
      const first = await pos.signOk(copy())
      const second = await pos.signOk(copy())
      assert.equal(textSignature(first, 'DUPLICATA'), `Duplicata n° 1 de ${sale.cbReceiptReference}`)
      assert.equal(textSignature(second, 'DUPLICATA'), `Duplicata n° 2 de ${sale.cbReceiptReference}`)
      const payload = await verifiedPayload(jwsOf(second), key)
      assert.deepEqual(
        [payload.chain, payload.n, payload.crr, payload.copy, payload.duplicates],
        ['C', 2, sale.cbReceiptReference, 2, 2],
      )
    })

    test('bad input is refused with a 400 naming the field, and nothing is signed', async () => {
      const { pos, key } = await started()
      const cases: Array<[Record<string, unknown>, string]> = [
        [frReceipt(FR_CASE.pos, [['11.90', 19]]), 'cbChargeItems[0].VATRate'],
        [frReceipt(FR_CASE.copy), 'cbPreviousReceiptReference'],
        [
          frReceipt(FR_CASE.copy, [], { cbPreviousReceiptReference: 'never-signed' }),
          'cbPreviousReceiptReference',
        ],
        [frReceipt(FR_CASE.archive), 'ftReceiptCaseData.FR.ArchivePeriod'],
        [
          frReceipt(FR_CASE.archive, [], { ftReceiptCaseData: { FR: { ArchivePeriod: '2026-13' } } }),
          'ftReceiptCaseData.FR.ArchivePeriod',
        ],
        [frReceipt(FR_CASE.daily, [['1.00', 20]]), 'cbChargeItems'],
      ]
      for (const [body, field] of cases) {
        const reply = await pos.sign(body)
        assert.equal(reply.status, 400, reply.payload)
        assert.equal(reply.json().field ?? reply.json().errors?.[0]?.field, field, reply.payload)
      }
      const next = await pos.signOk(frReceipt(FR_CASE.pos, [['1.00', 20]]))
      assert.equal(next.ftReceiptIdentification, 'ft2#T1', 'no receipt and no chain entry was written')
      assert.equal((await verifiedPayload(jwsOf(next), key)).hash, '')
    })

    test('delivery notes are answered without a chain entry; a sale abroad is a bill', async () => {
      const { pos } = await started()
      const note = await pos.signOk(frReceipt(FR_CASE.deliveryNote, [['3.00', 20]]))
      assert.deepEqual(
        note.ftSignatures.filter((s: any) => BigInt(s.ftSignatureFormat) === 0x3n),
        [],
      )
      const sale = await pos.signOk(frReceipt(FR_CASE.pos, [['1.00', 20]]))
      assert.match(sale.ftReceiptIdentification, /#T1$/)
      const foreign = await pos.signOk(frReceipt(FR_CASE.foreignSale, [['8.00', 20]]))
      assert.match(foreign.ftReceiptIdentification, /#B1$/, 'a sale in another country is a bill')
    })
  })
}
