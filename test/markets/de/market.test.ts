import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { engines } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import {
  DE_CASE,
  DePos,
  deReceipt,
  PAY,
  qrOf,
  qrSelfVerifies,
  signatureData,
  stateLow,
  VAT,
} from './support.ts'

for (const engine of await engines()) {
  describe(`German market on /v2/sign (${engine})`, () => {
    let h: Harness
    const fresh = async () => {
      const pos = new DePos(h.app, await h.runtime.cashboxes.create('DE'))
      const start = await pos.signOk(deReceipt(DE_CASE.start))
      return { pos, start }
    }
    before(async () => {
      h = await startHarness(engine)
    })
    after(() => h.close())

    test('the start receipt initializes the TSS and registers the cash box as its client', async () => {
      const { pos, start } = await fresh()
      assert.equal(stateLow(start), 0n)
      assert.ok(qrSelfVerifies(qrOf(start) as string))
      const tss = (await pos.request('GET', '/de/v1/tss')).json()
      assert.equal(tss.tss_id, pos.box.queueId)
      assert.equal(tss.client_serial_number, pos.box.cashboxId)
      assert.equal(tss.in_service, true)
      // audit (personalize), initialize, registerClient, then the start receipt's own start+finish
      assert.equal(tss.signature_counter, 5)
      assert.equal(signatureData(start, 'TSE-Seriennummer'), tss.serial_number)
    })

    test('a POS receipt (implicit flow): VAT buckets, Bar/Unbar, and everything a German receipt prints', async () => {
      const { pos } = await fresh()
      const response = await pos.signOk(
        deReceipt(
          DE_CASE.posImplicit,
          [
            { amount: '10.00', vat: VAT.normal },
            { amount: '2.50', vat: VAT.reduced },
            { amount: '1.07', vat: VAT.special1 },
            { amount: '0.55', vat: VAT.special2 },
            { amount: '3.00', vat: VAT.zero },
          ],
          [
            { amount: '7.12', case: PAY.cash },
            { amount: '10.00', case: PAY.card },
          ],
        ),
      )
      assert.equal(stateLow(response), 0n)
      const qr = qrOf(response) as string
      const fields = qr.split(';')
      assert.equal(fields[0], 'V0')
      assert.equal(fields[1], pos.box.cashboxId)
      assert.equal(fields[2], 'Kassenbeleg-V1')
      assert.equal(fields[3], 'Beleg^10.00_2.50_1.07_0.55_3.00^7.12:Bar_10.00:Unbar')
      assert.ok(qrSelfVerifies(qr), 'the QR code alone verifies the Finish log signature')
      const number = signatureData(response, 'TSE-Transaktion')
      assert.equal(fields[4], number)
      assert.equal(fields[5], signatureData(response, 'TSE-Signaturzähler'))
      assert.equal(fields[6], signatureData(response, 'TSE-Start'))
      assert.equal(fields[7], signatureData(response, 'TSE-Stop'))
      assert.equal(fields[8], signatureData(response, 'TSE-Signaturalgorithmus'))
      assert.equal(fields[8], 'ecdsa-plain-SHA256')
      assert.equal(fields[10], signatureData(response, 'TSE-Signatur'))
      assert.equal(fields[11], signatureData(response, 'TSE-PublicKey'))
      assert.match(signatureData(response, 'TSE-Seriennummer') as string, /^[0-9a-f]{64}$/)
      assert.match(response.ftReceiptIdentification, new RegExp(`^ft[0-9A-F]+#IT${number}$`))
    })

    test('training and void flags map to AVTraining and AVBelegstorno; foreign cash keeps its currency', async () => {
      const { pos } = await fresh()
      const training = await pos.signOk(
        deReceipt(DE_CASE.training, [{ amount: '5.00', vat: VAT.normal }], [{ amount: '5.00' }]),
      )
      assert.equal(qrOf(training)?.split(';')[3], 'AVTraining^5.00_0.00_0.00_0.00_0.00^5.00:Bar')
      const sale = deReceipt(DE_CASE.posImplicit, [{ amount: '5.00', vat: VAT.normal }], [{ amount: '5.00' }])
      await pos.signOk(sale)
      const voided = await pos.signOk(
        deReceipt(DE_CASE.void, [{ amount: '-5.00', vat: VAT.normal }], [{ amount: '-5.00' }], {
          cbPreviousReceiptReference: sale.cbReceiptReference,
        }),
      )
      assert.equal(qrOf(voided)?.split(';')[3], 'AVBelegstorno^-5.00_0.00_0.00_0.00_0.00^-5.00:Bar')
      const francs = await pos.signOk(
        deReceipt(
          DE_CASE.posImplicit,
          [{ amount: '20.00', vat: VAT.normal }],
          [{ amount: '20.00', currency: 'CHF', quantity: 19.5 }],
        ),
      )
      assert.equal(qrOf(francs)?.split(';')[3], 'Beleg^20.00_0.00_0.00_0.00_0.00^19.50:Bar:CHF')
    })

    test('explicit flow: start, update, delta and finish share one TSS transaction; fail aborts one', async () => {
      const { pos } = await fresh()
      const opened = deReceipt(DE_CASE.txStart)
      const reference = opened.cbReceiptReference
      const started = await pos.signOk(opened)
      const number = signatureData(started, 'TSE-Transaktion') as string
      assert.match(started.ftReceiptIdentification, new RegExp(`#ST${number}$`))
      assert.equal(qrOf(started), undefined, 'a started transaction has no QR code yet')
      const again = await pos.sign({ ...deReceipt(DE_CASE.txStart), cbReceiptReference: reference })
      assert.equal(again.status, 400)
      const updated = await pos.signOk({
        ...deReceipt(
          DE_CASE.txUpdate,
          [{ amount: '4.50', vat: VAT.reduced, text: 'Eis "Spezial"', quantity: 2 }],
          [{ amount: '4.50' }],
        ),
        cbReceiptReference: reference,
      })
      assert.match(updated.ftReceiptIdentification, new RegExp(`#UT${number}$`))
      const delta = await pos.signOk({
        ...deReceipt(
          DE_CASE.txDelta,
          [{ amount: '2.20', vat: VAT.normal, text: 'Kaffee' }],
          [{ amount: '2.20' }],
        ),
        cbReceiptReference: reference,
      })
      assert.match(delta.ftReceiptIdentification, new RegExp(`#DT${number}$`))
      const finished = await pos.signOk({
        ...deReceipt(
          DE_CASE.pos,
          [
            { amount: '4.50', vat: VAT.reduced },
            { amount: '2.20', vat: VAT.normal },
          ],
          [{ amount: '6.70', case: PAY.card }],
        ),
        cbReceiptReference: reference,
      })
      assert.match(finished.ftReceiptIdentification, new RegExp(`#T${number}$`))
      assert.equal(signatureData(finished, 'TSE-Transaktion'), number)
      assert.ok(qrSelfVerifies(qrOf(finished) as string))
      assert.ok(
        Date.parse(signatureData(finished, 'TSE-Start') as string) <=
          Date.parse(signatureData(finished, 'TSE-Stop') as string),
      )

      const aborted = deReceipt(DE_CASE.txStart)
      await pos.signOk(aborted)
      const failed = await pos.signOk({
        ...deReceipt(DE_CASE.txFail),
        cbReceiptReference: aborted.cbReceiptReference,
      })
      assert.equal(qrOf(failed)?.split(';')[3], 'AVBelegabbruch^0.00_0.00_0.00_0.00_0.00^')
      const unknown = await pos.sign({ ...deReceipt(DE_CASE.txUpdate), cbReceiptReference: 'never-started' })
      assert.equal(unknown.status, 400)
      assert.match(unknown.payload, /no TSS transaction is open/)
    })

    test('an order log receipt signs Bestellung-V1 data, whose QR holds ";" and still verifies', async () => {
      const { pos } = await fresh()
      const order = await pos.signOk(
        deReceipt(
          DE_CASE.order,
          [{ amount: '9.00', vat: VAT.reduced, text: 'Eis "Spezial"', quantity: 2 }],
          [{ amount: '9.00' }],
        ),
      )
      const qr = qrOf(order) as string
      assert.equal(qr.split(';')[2], 'Bestellung-V1')
      assert.equal(qr.split(';').slice(3, 6).join(';'), '2.00;"Eis ""Spezial""";4.50')
      assert.ok(qrSelfVerifies(qr))
    })

    test('the daily closing cancels open transactions and counts its Z number', async () => {
      const { pos } = await fresh()
      await pos.signOk(deReceipt(DE_CASE.txStart))
      const first = await pos.signOk(deReceipt(DE_CASE.daily))
      assert.match(first.ftReceiptIdentification, /#Z1$/)
      assert.match(signatureData(first, 'Kassenabschluss Z-Nr. 1') as string, /^1 offene TSE-Transaktion/)
      const second = await pos.signOk(deReceipt(DE_CASE.daily))
      assert.match(second.ftReceiptIdentification, /#Z2$/)
      assert.match(signatureData(second, 'Kassenabschluss Z-Nr. 2') as string, /^0 offene/)
    })

    test('TSS unavailable: receipts are answered and flagged 0x2 until a zero receipt recovers', async () => {
      const { pos } = await fresh()
      const off = await pos.request('PUT', '/de/v1/tss/status', { inService: false })
      assert.equal(off.status, 200, off.payload)
      assert.equal(off.json().in_service, false)
      const sale = () =>
        pos.signOk(
          deReceipt(DE_CASE.posImplicit, [{ amount: '3.00', vat: VAT.normal }], [{ amount: '3.00' }]),
        )
      const down = await sale()
      assert.equal(stateLow(down), 0x2n)
      assert.equal(qrOf(down), undefined)
      assert.match(signatureData(down, 'TSE ausgefallen') as string, /1 Vorgang/)
      assert.equal(
        down.ftSignatures.find((s: any) => s.Caption === 'TSE ausgefallen').ftSignatureType,
        '0x4445200000003001',
      )
      // the TSS back, but no zero receipt yet: the circuit stays open
      await pos.request('PUT', '/de/v1/tss/status', { inService: true })
      const stillDown = await sale()
      assert.equal(stateLow(stillDown), 0x2n)
      assert.match(signatureData(stillDown, 'TSE ausgefallen') as string, /2 Vorg/)
      const zero = await pos.signOk(deReceipt(DE_CASE.zero))
      assert.equal(stateLow(zero), 0n)
      assert.match(signatureData(zero, 'TSE wieder in Betrieb') as string, /2 Vorgang\/Vorgänge ohne TSE/)
      const up = await sale()
      assert.equal(stateLow(up), 0n)
      assert.ok(qrSelfVerifies(qrOf(up) as string))
    })

    test('a zero receipt while the TSS is still out of service stays flagged', async () => {
      const { pos } = await fresh()
      await pos.request('PUT', '/de/v1/tss/status', { inService: false })
      const zero = await pos.signOk(deReceipt(DE_CASE.zero))
      assert.equal(stateLow(zero), 0x2n)
    })

    test('validation: a VAT case without a German rate is refused and writes nothing', async () => {
      const { pos } = await fresh()
      const reply = await pos.sign(
        deReceipt(
          DE_CASE.posImplicit,
          [{ amount: '1.00', vat: { case: '0x4445200000000005', rate: 0 } as never }],
          [{ amount: '1.00' }],
        ),
      )
      assert.equal(reply.status, 400)
      assert.match(reply.payload, /ftChargeItemCase/)
      const withItems = await pos.sign(
        deReceipt(DE_CASE.zero, [{ amount: '1.00', vat: VAT.normal }], [{ amount: '1.00' }]),
      )
      assert.equal(withItems.status, 400)
      const tss = (await pos.request('GET', '/de/v1/tss')).json()
      assert.equal(tss.signature_counter, 5)
    })

    test('/de/v1 is for German cash boxes only', async () => {
      const pos = new DePos(h.app, await h.runtime.cashboxes.create('EU'))
      const reply = await pos.request('GET', '/de/v1/tss')
      assert.equal(reply.status, 409)
      const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json()
      for (const path of ['/de/v1/tss', '/de/v1/tss/status', '/de/v1/dsfinvk'])
        assert.ok(doc.paths[path], path)
    })
  })
}
