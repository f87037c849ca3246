import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { engines } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import {
  ERROR,
  IT_CASE,
  type ItSim,
  itPos,
  itReceipt,
  itType,
  OK,
  signature,
  startSim,
} from './pos-support.ts'

/**
 * Italy on /v2/sign (docs/country-it.md), through HTTP on both engines, against the RT device simulator on a
 * real port: the POS System API v2.1 document's Italian examples, refunds and voids by the original's
 * device numbers, closings, zero, training and non-fiscal receipts, and what the POS gets when the device
 * refuses, is unreachable or loses its answer.
 */
const SERIAL = '99IEB012345'

/** The POS System API v2.1 document's Italian examples, as printed there (case codes included). */
const EXAMPLES = {
  sale: {
    cbTerminalID: 'T1',
    cbReceiptReference: 'SALE-1234',
    cbReceiptMoment: '2024-03-29T10:15:00.000Z',
    ftReceiptCase: '0x4954200000000001',
    cbChargeItems: [
      {
        Quantity: 2.0,
        Description: 'Product A',
        Amount: 122.0,
        VATRate: 22.0,
        ftChargeItemCase: '0x495420000000301',
        ProductNumber: 'SKU123',
      },
      {
        Quantity: 1.0,
        Description: 'Service B',
        Amount: 50.0,
        VATRate: 10.0,
        ftChargeItemCase: '0x495420000000102',
      },
    ],
    cbPayItems: [{ Quantity: 1.0, Description: 'Cash', Amount: 172.0, ftPayItemCase: '0x495420000000001' }],
  },
  mixed: {
    cbTerminalID: 'T1',
    cbReceiptReference: 'MIXED-1235',
    cbReceiptMoment: '2024-03-29T10:20:00.000Z',
    ftReceiptCase: '0x4954200000000001',
    cbChargeItems: [
      {
        Quantity: 1.0,
        Description: 'High-value Item',
        Amount: 1000.0,
        VATRate: 22.0,
        ftChargeItemCase: '0x495420000000301',
      },
    ],
    cbPayItems: [
      { Description: 'Cash', Amount: 500.0, ftPayItemCase: '0x495420000000001' },
      {
        Description: 'Credit Card',
        Amount: 500.0,
        ftPayItemCase: '0x495420000000005',
        ftPayItemCaseData: {
          Provider: { Protocol: 'worldline_wpi_2', Action: 'payment', ProtocolVersion: '2.0' },
        },
      },
    ],
  },
  b2b: {
    cbTerminalID: 'T1',
    cbReceiptReference: 'INV-1236',
    cbReceiptMoment: '2024-03-29T10:25:00.000Z',
    ftReceiptCase: '0x4954200000201002',
    cbCustomer: { Name: 'ACME Corp', Address: 'Via Roma 123, 00184 Roma RM', VATId: 'IT12345678901' },
    cbChargeItems: [
      {
        Quantity: 10.0,
        Description: 'Enterprise License',
        Amount: 1000.0,
        VATRate: 22.0,
        ftChargeItemCase: '0x495420000000302',
        ProductNumber: 'LIC-ENT-001',
      },
    ],
    cbPayItems: [{ Description: 'Bank Transfer', Amount: 1000.0, ftPayItemCase: '0x49542000000000A' }],
  },
  refund: {
    cbTerminalID: 'T1',
    cbReceiptReference: 'REF-1237',
    cbReceiptMoment: '2024-03-29T10:30:00.000Z',
    ftReceiptCase: '0x4954200000100001',
    cbPreviousReceiptReference: 'SALE-1234',
    cbChargeItems: [
      {
        Quantity: -1.0,
        Description: 'Product A Return',
        Amount: -61.0,
        VATRate: 22.0,
        ftChargeItemCase: '0x495420000000301',
      },
    ],
    cbPayItems: [{ Description: 'Cash Refund', Amount: -61.0, ftPayItemCase: '0x495420000000001' }],
  },
}

for (const engine of await engines()) {
  describe(`IT receipts on /v2/sign (${engine})`, () => {
    let h: Harness
    let sim: ItSim
    before(async () => {
      sim = await startSim({ serialNumber: SERIAL })
      h = await startHarness(engine)
    })
    after(async () => {
      await h.close()
      await sim.close()
    })

    /** A started IT cash box on its own simulator (numbers start at Z 1, document 1). */
    const freshPos = async (config: Record<string, unknown> = {}) => {
      const own = await startSim({ serialNumber: SERIAL })
      const pos = await itPos(h.app, await h.runtime.cashboxes.create('IT'), own, config)
      return { pos, sim: own, [Symbol.asyncDispose]: () => own.close() }
    }

    test('the POS System API v2.1 examples: sale, mixed payment, B2B invoice, refund of the sale', async () => {
      await using device = await freshPos()
      const { pos } = device
      const sale = await pos.signOk(EXAMPLES.sale)
      assert.equal(sale.ftState, OK, JSON.stringify(sale))
      assert.equal(sale.ftCashBoxIdentification, SERIAL)
      assert.equal(sale.ftReceiptIdentification, 'ft2#0001-0001')
      const [printed] = device.sim.documents()
      assert.equal(printed?.amount, 17200)
      assert.deepEqual(
        printed?.lines.map((l) => [l.description, l.quantity, l.unitPrice, l.department]),
        [
          ['Product A', 2000, 6100, 1],
          ['Service B', 1000, 5000, 2],
        ],
      )
      assert.deepEqual(signature(sale, 0x10n)?.Data, SERIAL)
      assert.deepEqual(signature(sale, 0x11n)?.Data, '0001')
      assert.deepEqual(signature(sale, 0x12n)?.Data, '0001')
      assert.equal(signature(sale, 0x14n)?.Data, 'POSRECEIPT')
      assert.equal(signature(sale, 0x02n)?.Caption, 'DOCUMENTO COMMERCIALE')
      assert.equal(signature(sale, 0x02n)?.Data, 'di vendita o prestazione')
      assert.match(signature(sale, 0x13n)?.Data, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/)
      assert.match(signature(sale, 0x01n)?.Data, /\nDOCUMENTO N\. 0001-0001\n/)
      assert.equal(signature(sale, 0x13n)?.Data.replace(' ', 'T'), printed?.moment)

      const mixed = await pos.signOk(EXAMPLES.mixed)
      assert.equal(mixed.ftReceiptIdentification, 'ft3#0001-0002')
      assert.deepEqual(
        device.sim.documents()[1]?.payments.map((p) => [p.paymentType, p.index, p.amount]),
        [
          [0, 0, 50000],
          [2, 1, 50000],
        ],
      )

      // The example's VATId fails the partita IVA check digit: refused before anything is written or printed.
      const rowsBefore = (await pos.receiptJournal()).length
      const badVat = await pos.sign(EXAMPLES.b2b)
      assert.equal(badVat.status, 400, badVat.payload)
      assert.equal(badVat.json().details.field, 'cbCustomer.VATId')
      assert.equal((await pos.receiptJournal()).length, rowsBefore)
      assert.equal(device.sim.documents().length, 2)
      const b2b = await pos.signOk({
        ...EXAMPLES.b2b,
        cbCustomer: { ...EXAMPLES.b2b.cbCustomer, VATId: 'IT12345678903' },
      })
      assert.equal(b2b.ftState, OK, JSON.stringify(b2b))
      assert.equal(signature(b2b, 0x16n)?.Data, '12345678903')
      assert.equal(device.sim.documents()[2]?.customerId, '12345678903')
      assert.equal(device.sim.documents()[2]?.lines[0]?.unitPrice, 10000)

      const refund = await pos.signOk(EXAMPLES.refund)
      assert.equal(refund.ftState, OK, JSON.stringify(refund))
      assert.equal(refund.ftReceiptIdentification, 'ft5#0001-0004')
      assert.equal(signature(refund, 0x14n)?.Data, 'REFUND')
      assert.equal(signature(refund, 0x20n)?.Data, '0001')
      assert.equal(signature(refund, 0x21n)?.Data, '0001')
      assert.equal(signature(refund, 0x22n)?.Data, printed?.moment.slice(0, 10))
      assert.match(
        signature(refund, 0x02n)?.Data,
        /^emesso per RESO MERCE\nN\. 0001-0001 del \d{2}-\d{2}-\d{4}$/,
      )
      const returned = device.sim.documents()[3]
      assert.equal(returned?.type, 'REFUND')
      assert.equal(returned?.amount, 6100)
      assert.deepEqual(returned?.reference, {
        kind: 'REFUND',
        zNumber: 1,
        documentNumber: 1,
        date: printed?.moment.slice(0, 10),
        serialNumber: SERIAL,
      })
    })

    test('a void names its original; the second void is refused by the device: failure state, nothing fiscal', async () => {
      await using device = await freshPos()
      const { pos } = device
      const sale = itReceipt(IT_CASE.pos, [
        { amount: '9.90', vat: 22 },
        { amount: '2.20', vat: 10 },
      ])
      await pos.signOk(sale)
      const voidOf = () =>
        itReceipt(
          IT_CASE.void,
          [
            { amount: '-9.90', vat: 22, quantity: -1 },
            { amount: '-2.20', vat: 10, quantity: -1 },
          ],
          {
            cbPreviousReceiptReference: sale.cbReceiptReference,
          },
        )
      const voided = await pos.signOk(voidOf())
      assert.equal(voided.ftState, OK, JSON.stringify(voided))
      assert.equal(signature(voided, 0x14n)?.Data, 'VOID')
      assert.match(signature(voided, 0x02n)?.Data, /^emesso per ANNULLAMENTO\nN\. 0001-0001 del /)
      assert.equal(device.sim.documents()[1]?.type, 'VOID')
      assert.equal(device.sim.documents()[1]?.amount, 1210)

      const again = await pos.signOk(voidOf())
      assert.equal(again.ftState, ERROR, JSON.stringify(again))
      assert.deepEqual(
        again.ftSignatures.map((s: any) => [s.ftSignatureType, s.Caption]),
        [[itType(0x3000n), 'FAILURE']],
      )
      assert.match(again.ftSignatures[0].Data, /PRINTER ERROR 39: document already voided/)
      assert.equal(again.ftReceiptIdentification.endsWith('#'), true)
      assert.equal(device.sim.documents().length, 2, 'nothing printed')
      // The refused document left nothing behind: the next sale is the day's third document.
      const next = await pos.signOk(itReceipt(IT_CASE.pos, [{ amount: '1.00', vat: 4 }]))
      assert.match(next.ftReceiptIdentification, /#0001-0003$/)
    })

    test('refused before anything is written: an unmapped VAT rate, an unknown original, sub-cent amounts', async () => {
      await using device = await freshPos({ departments: { '22': 1, '10': 2 } })
      const { pos } = device
      const before = await pos.receiptJournal()
      const cases: [Record<string, unknown>, string, RegExp][] = [
        [
          itReceipt(IT_CASE.pos, [
            { amount: '1.00', vat: 22 },
            { amount: '1.00', vat: 4 },
          ]),
          'cbChargeItems[1].VATRate',
          /4\.00 % has no department/,
        ],
        [
          itReceipt(IT_CASE.refund, [{ amount: '-1.00', vat: 22, quantity: -1 }], {
            cbPreviousReceiptReference: 'never-sold',
          }),
          'cbPreviousReceiptReference',
          /names no sale/,
        ],
        [
          {
            ...itReceipt(IT_CASE.pos, [{ amount: '1.005', vat: 22 }]),
            cbPayItems: [{ Description: 'Contanti', Amount: '1.005', ftPayItemCase: '0x4954200000000001' }],
          },
          'cbChargeItems[0].Amount',
          /2 decimals/,
        ],
        [
          {
            ...itReceipt(IT_CASE.pos, [{ amount: '1.00', vat: 22 }]),
            cbPayItems: [{ Description: 'x', Amount: '1.00', ftPayItemCase: '0x4954200000000011' }],
          },
          'cbPayItems[0].ftPayItemCase',
          /no payment type/,
        ],
      ]
      for (const [body, field, reason] of cases) {
        const reply = await pos.sign(body)
        assert.equal(reply.status, 400, reply.payload)
        assert.equal(reply.json().details.field, field, reply.payload)
        assert.match(reply.json().details.reason, reason)
      }
      assert.deepEqual(await pos.receiptJournal(), before)
      assert.equal(device.sim.documents().length, 0)
    })

    test('a delivery note prints the customer; the lottery code and codice fiscale reach the device', async () => {
      await using device = await freshPos()
      const { pos } = device
      const note = await pos.signOk(
        itReceipt(IT_CASE.deliveryNote, [{ amount: '30.00', vat: 22, quantity: 3 }], {
          cbCustomer: {
            CustomerName: 'Mario Rossi',
            CustomerId: 'RSSMRA85T10A562S',
            CustomerStreet: 'Via Garibaldi 1',
            CustomerZip: '10121',
            CustomerCity: 'Torino',
          },
          ftReceiptCaseData: { servizi_lotteriadegliscontrini_gov_it: { codicelotteria: 'ABCD1234' } },
        }),
      )
      assert.equal(note.ftState, OK, JSON.stringify(note))
      assert.equal(signature(note, 0x15n)?.Data, 'ABCD1234')
      assert.equal(signature(note, 0x16n)?.Data, 'RSSMRA85T10A562S')
      assert.match(
        signature(note, 0x01n)?.Data,
        /\nCodice Lotteria: ABCD1234\n\nCod\. Fisc\.\/P\.IVA: RSSMRA85T10A562S\nCassa 99IEB012345$/,
      )
      const [printed] = device.sim.documents()
      assert.equal(printed?.lotteryCode, 'ABCD1234')
      assert.equal(printed?.customerId, 'RSSMRA85T10A562S')
      assert.deepEqual(
        printed?.lines.map((l) => [l.quantity, l.unitPrice]),
        [[3000, 1000]],
      )
      const badLottery = await pos.sign(
        itReceipt(IT_CASE.pos, [{ amount: '1.00', vat: 22 }], {
          ftReceiptCaseData: { servizi_lotteriadegliscontrini_gov_it: { codicelotteria: 'abc' } },
        }),
      )
      assert.equal(badLottery.status, 400)
      assert.equal(
        badLottery.json().details.field,
        'ftReceiptCaseData.servizi_lotteriadegliscontrini_gov_it.codicelotteria',
      )
    })

    test('daily and monthly closings print a Z report; the day after starts at document 1', async () => {
      await using device = await freshPos()
      const { pos } = device
      await pos.signOk(itReceipt(IT_CASE.pos, [{ amount: '5.00', vat: 22 }]))
      const daily = await pos.signOk(itReceipt(IT_CASE.daily, []))
      assert.equal(daily.ftState, OK, JSON.stringify(daily))
      assert.equal(daily.ftReceiptIdentification, 'ft3#Z0001')
      assert.equal(signature(daily, 0x11n)?.Data, '0001')
      const next = await pos.signOk(itReceipt(IT_CASE.pos, [{ amount: '5.00', vat: 22 }]))
      assert.match(next.ftReceiptIdentification, /#0002-0001$/)
      const monthly = await pos.signOk(itReceipt(IT_CASE.monthly, []))
      assert.match(monthly.ftReceiptIdentification, /#Z0002$/)
      assert.equal(device.sim.device.state.zNumber, 3)
    })

    test('zero receipt: the device status in ftStateData; training and non-fiscal prints are not fiscal documents', async () => {
      await using device = await freshPos()
      const { pos } = device
      const zero = await pos.signOk(itReceipt(IT_CASE.zero, []))
      assert.equal(zero.ftState, OK)
      assert.equal(zero.ftStateData.PrinterStatus.rtType, 'I')
      assert.equal(zero.ftStateData.PrinterStatus.fpStatus, '00110')
      const training = await pos.signOk(itReceipt(IT_CASE.training, [{ amount: '3.00', vat: 22 }]))
      assert.equal(training.ftState, OK)
      assert.equal(signature(training, 0x12n), undefined)
      const nonFiscal = await pos.signOk(
        itReceipt(IT_CASE.nonFiscal, [{ amount: '0', vat: 0, description: 'Buono sconto 10%' }]),
      )
      assert.equal(nonFiscal.ftState, OK, JSON.stringify(nonFiscal))
      assert.equal(device.sim.documents().length, 0, 'nothing fiscal printed')
      assert.equal(device.sim.device.state.nonFiscalNumber, 1)
    })

    test('the configuration is fixed once the device printed a document: 409, the same again is fine', async () => {
      await using device = await freshPos()
      const { pos } = device
      await pos.signOk(itReceipt(IT_CASE.pos, [{ amount: '1.00', vat: 22 }]))
      const current = (await pos.request('GET', '/it/v1/cashbox')).json()
      const change = await pos.request('PUT', '/it/v1/cashbox', { ...current, timeoutMs: 999 })
      assert.equal(change.status, 409, change.payload)
      assert.match(change.json().detail, /can no longer change/)
      const same = await pos.request('PUT', '/it/v1/cashbox', current)
      assert.equal(same.status, 200, same.payload)
    })

    test('paper out: the device refuses, failure state; once paper is back the next sale prints', async () => {
      await using device = await freshPos()
      const { pos } = device
      await device.sim.setFaults({ paperOut: true })
      const refused = await pos.signOk(itReceipt(IT_CASE.pos, [{ amount: '4.00', vat: 22 }]))
      assert.equal(refused.ftState, ERROR)
      assert.match(refused.ftSignatures[0].Data, /EPTR_REC_EMPTY 3/)
      await device.sim.setFaults({ paperOut: false })
      const printed = await pos.signOk(itReceipt(IT_CASE.pos, [{ amount: '4.00', vat: 22 }]))
      assert.match(printed.ftReceiptIdentification, /#0001-0001$/)
    })

    test('an unreachable device: RT-not-reachable state and nothing printed; a zero receipt reports it', async () => {
      await using device = await freshPos()
      const { pos } = device
      await device.sim.close()
      const refused = await pos.signOk(itReceipt(IT_CASE.pos, [{ amount: '4.00', vat: 22 }]))
      assert.equal(refused.ftState, '0x49542001EEEEEEEE', JSON.stringify(refused))
      assert.match(refused.ftSignatures[0].Data, /RT device not reachable, nothing was printed/)
      const zero = await pos.signOk(itReceipt(IT_CASE.zero, []))
      assert.equal(zero.ftState, '0x4954200100000000')
      assert.equal(zero.ftStateData.PrinterStatus, null)
    })
  })
}
