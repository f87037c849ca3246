import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { exportCashboxVerifactu } from '../../../src/cli/export-verifactu.ts'
import { sandboxSigningCredentials } from '../../../src/markets/es/sandbox-signer.ts'
import { startSimulator } from '../../../src/markets/es/simulator/app.ts'
import type { SigningCredentials } from '../../../src/markets/es/ticketbai/xades.ts'
import { TicketBaiVerifier } from '../../../src/verify/ticketbai-verifier.ts'
import { VerifactuVerifier } from '../../../src/verify/verifactu-verifier.ts'
import { engines } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import {
  CUSTOMER,
  checkTbaiIdentifier,
  checkTbaiQr,
  ES_CASE,
  EsPos,
  esReceipt,
  VAT,
  VERIFACTU_TEST_QR,
} from './pos-support.ts'
import { xmlsecVerify } from './support.ts'
import { xmllint } from './xsd.ts'

/**
 * Spain on /v2/sign (docs/country-es.md), through HTTP on both engines: ES cash boxes of VERI*FACTU and of
 * the three TicketBAI territories turn sales, invoices, refunds and voids into chained records with QR
 * code and identifier; the outbox submits them to the in-process authority simulator.
 */
type Sim = Awaited<ReturnType<typeof startSimulator>>
const simState = async (sim: Sim) => (await fetch(`${sim.url}/_sim/state`)).json() as Promise<any>

const ES = 0x4553n
const signatureType = (low: bigint) => `0x${((ES << 48n) | (2n << 44n) | low).toString(16).toUpperCase()}`
const stateFlags = (ftState: string) => BigInt(ftState) & 0xffff_ffffn
/** The issue date of a record: the signing moment's day in Madrid, as DD-MM-YYYY. */
const madridDate = (iso: string) => {
  const [y, m, d] = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Madrid' })
    .format(new Date(iso))
    .split('-')
  return `${d}-${m}-${y}`
}
const byType = (response: any, low: bigint) =>
  response.ftSignatures.find((s: any) => s.ftSignatureType === signatureType(low))

for (const engine of await engines()) {
  void describe(`ES receipts on /v2/sign (${engine})`, () => {
    let h: Harness
    let sim: Sim
    let credentials: SigningCredentials
    before(async () => {
      credentials = await sandboxSigningCredentials()
      sim = await startSimulator()
      h = await startHarness(engine, {
        v1: { engine: { pollMs: 10, backoffBaseMs: 20, backoffMaxMs: 300, maxAttempts: 40, concurrency: 2 } },
        // Bizkaia's records go out at once here; its daily LROE window is es-lroe-window.test.ts's subject.
        es: { simulatorUrl: sim.url, timeoutMs: 400, testCredentials: credentials, lroeAt: 'immediate' },
      })
      h.runtime.v1.start()
    })
    after(async () => {
      await h.close()
      await sim.close()
    })

    const newPos = async (config?: Record<string, unknown>) => {
      const pos = new EsPos(h.app, await h.runtime.cashboxes.create('ES', 'es test'))
      if (config) await pos.configure(config)
      await pos.start()
      return pos
    }

    test('VERI*FACTU: sale F2, invoice F1, refunds R5 and R1, a void; QR, Huella, chain, XSD, all accepted', async () => {
      const pos = await newPos({
        system: 'verifactu',
        nif: 'B12345674',
        name: 'Bar Ejemplo SL',
        series: 'T26-',
      })
      const sale = esReceipt(ES_CASE.pos, [
        { amount: '12.10', vat: 21 },
        { amount: '5.50', vat: 10, code: VAT.reduced, quantity: 2 },
      ])
      const s = await pos.signOk(sale)
      assert.equal(stateFlags(s.ftState), 0x40n, 'message pending until the AEAT accepted the record')
      assert.match(s.ftReceiptIdentification, /^ft[0-9A-F]+#T26-000001$/)
      const qr = byType(s, 0x1n)
      assert.equal(qr.ftSignatureFormat, '0x0000000000000003')
      assert.equal(
        qr.Data,
        `${VERIFACTU_TEST_QR}?nif=B12345674&numserie=T26-000001&fecha=${madridDate(s.ftReceiptMoment)}&importe=17.60`,
      )
      assert.match(byType(s, 0x2n).Data, /^[0-9A-F]{64}$/, 'the Huella')
      assert.equal(byType(s, 0x3n).Data, 'T26-000001')
      assert.equal(byType(s, 0x3n).Caption, 'Factura simplificada')

      const invoice = await pos.signOk(
        esReceipt(ES_CASE.b2b, [{ amount: '121.00', vat: 21, vatAmount: '21.00' }], { cbCustomer: CUSTOMER }),
      )
      assert.equal(byType(invoice, 0x3n).Caption, 'Factura')
      const refund = await pos.signOk(
        esReceipt(ES_CASE.refundPos, [{ amount: '-12.10', vat: 21, quantity: -1 }], {
          cbPreviousReceiptReference: sale.cbReceiptReference,
        }),
      )
      assert.match(
        refund.ftReceiptIdentification,
        /#T26-R000001$/,
        'rectifying invoices have a series of their own',
      )
      const invoiceBody = esReceipt(ES_CASE.b2b, [{ amount: '60.50', vat: 21 }], { cbCustomer: CUSTOMER })
      await pos.signOk(invoiceBody)
      const r1 = await pos.signOk(
        esReceipt(ES_CASE.refundB2b, [{ amount: '-60.50', vat: 21 }], {
          cbPreviousReceiptReference: invoiceBody.cbReceiptReference,
          cbCustomer: CUSTOMER,
        }),
      )
      assert.equal(stateFlags(r1.ftState), 0x40n)
      const voided = await pos.signOk(
        esReceipt(ES_CASE.voidB2b, [{ amount: '-121.00', vat: 21 }], {
          cbPreviousReceiptReference: invoice.cbReceiptReference as string,
        }),
      )
      assert.equal(byType(voided, 0x4n).Data, 'T26-000002', 'the cancelled invoice')
      assert.equal(byType(voided, 0x1n), undefined, 'a cancellation has no QR code')
      // Receipts of no fiscal document make no record; training receipts are not sent.
      for (const c of [ES_CASE.zero, ES_CASE.daily])
        assert.equal(stateFlags((await pos.signOk(esReceipt(c, []))).ftState), 0n)
      const training = await pos.signOk(esReceipt(ES_CASE.training, [{ amount: '3.00', vat: 21 }]))
      assert.equal(byType(training, 0x1n), undefined)

      const records = await pos.settled()
      assert.deepEqual(
        records.map((r) => [r.kind, r.invoiceType, r.invoiceNumber, r.status]),
        [
          ['alta', 'F2', 'T26-000001', 'accepted'],
          ['alta', 'F1', 'T26-000002', 'accepted'],
          ['alta', 'R5', 'T26-R000001', 'accepted'],
          ['alta', 'F1', 'T26-000003', 'accepted'],
          ['alta', 'R1', 'T26-R000002', 'accepted'],
          ['anulacion', null, 'T26-000002', 'accepted'],
        ],
      )
      const registered = (await simState(sim)).aeat.invoices.filter((i: any) => i.issuerNif === 'B12345674')
      assert.equal(registered.length, 5)
      assert.equal(registered.find((i: any) => i.seriesNumber === 'T26-000002').state, 'Anulada')
      assert.equal(registered.find((i: any) => i.seriesNumber === 'T26-R000001').invoiceType, 'R5')
      assert.equal(registered.find((i: any) => i.seriesNumber === 'T26-000001').total, '17.60')
      assert.equal(registered.find((i: any) => i.seriesNumber === 'T26-000001').taxTotal, '2.60')

      // The export: AEAT XML valid against the XSD, chain checked by the independent verifier.
      const dir = mkdtempSync(join(tmpdir(), 'es-pos-'))
      const { files, records: count } = await exportCashboxVerifactu(
        h.runtime,
        pos.box.cashboxId,
        join(dir, 'v.xml'),
      )
      assert.equal(count, 6)
      const xml = readFileSync(files[0] as string, 'utf8')
      const lint = xmllint(xml, 'SuministroLR.xsd')
      assert.ok(lint.ok, lint.output)
      const verifier = new VerifactuVerifier()
      verifier.document(xml, 'v.xml')
      const report = verifier.finish()
      assert.deepEqual(report.problems, [])
      assert.equal(report.records, 6)
    })

    for (const territory of ['araba', 'bizkaia', 'gipuzkoa']) {
      test(`TicketBAI ${territory}: identifier and QR by the territory's rules, XAdES by xmlsec1, chain, accepted`, async () => {
        const nif = { araba: 'B01234560', bizkaia: 'B48123453', gipuzkoa: 'B20123456' }[territory] as string
        const pos = await newPos({
          system: 'ticketbai',
          territory,
          nif,
          name: 'Taberna Ejemplo SL',
          series: 'TK',
        })
        const sale = esReceipt(ES_CASE.pos, [
          { amount: '3.20', vat: 10, code: VAT.reduced, quantity: 2, description: 'Café con leche' },
          { amount: '1.04', vat: 4, code: VAT.superReduced, description: 'Pan' },
        ])
        const s = await pos.signOk(sale)
        assert.equal(stateFlags(s.ftState), 0x40n)
        const identifier = byType(s, 0x2n).Data as string
        checkTbaiIdentifier(
          identifier,
          nif,
          madridDate(s.ftReceiptMoment)
            .replace(/-(\d\d)(\d\d)$/, '$2')
            .replace(/-/g, ''),
        )
        checkTbaiQr(byType(s, 0x1n).Data, territory, identifier, 'TK', '1', '4.24')
        assert.match(s.ftReceiptIdentification, /#TK1$/)
        const invoice = await pos.signOk(
          esReceipt(ES_CASE.b2b, [{ amount: '24.20', vat: 21 }], { cbCustomer: CUSTOMER }),
        )
        await pos.signOk(
          esReceipt(ES_CASE.refundPos, [{ amount: '-1.04', vat: 4, code: VAT.superReduced }], {
            cbPreviousReceiptReference: sale.cbReceiptReference,
          }),
        )
        const voided = await pos.signOk(
          esReceipt(ES_CASE.voidB2b, [{ amount: '-24.20', vat: 21 }], {
            cbPreviousReceiptReference: invoice.cbReceiptReference,
          }),
        )
        assert.equal(byType(voided, 0x4n).Data, 'TK2')
        const records = await pos.settled()
        assert.deepEqual(
          records.map((r) => [r.kind, r.invoiceType, r.invoiceNumber, r.status]),
          [
            ['alta', 'F2', 'TK1', 'accepted'],
            ['alta', 'F1', 'TK2', 'accepted'],
            ['alta', 'R5', 'TKR1', 'accepted'],
            ['anulacion', null, 'TK2', 'accepted'],
          ],
        )
        const verifier = new TicketBaiVerifier()
        for (const r of records) {
          const signed = xmlsecVerify(r.xml, credentials.certificate)
          assert.ok(signed.ok, `xmlsec1 verifies record ${r.seq}: ${signed.output}`)
          if (r.kind === 'alta') verifier.document(r.xml, `record ${r.seq}`)
        }
        assert.deepEqual(verifier.finish().problems, [])
        const received = (await simState(sim)).ticketbai.invoices.filter((i: any) => i.issuerNif === nif)
        assert.equal(received.length, 3)
        assert.equal(received.filter((i: any) => i.cancelled).length, 1)
      })
    }

    test('an unconfigured ES cash box: 409 telling what to do; bad configuration: 400 naming the field', async () => {
      const pos = await newPos()
      const refused = await pos.sign(esReceipt(ES_CASE.pos, [{ amount: '1.00', vat: 21 }]))
      assert.equal(refused.status, 409, refused.payload)
      assert.match(
        refused.json().detail ?? refused.json().message,
        /PUT \/es\/v1\/cashbox|fiscalbox es configure/,
      )
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ system: 'verifactu', nif: 'B1234', name: 'X' }, 'nif'],
        [{ system: 'sii', nif: 'B12345674', name: 'X' }, 'system'],
        [{ system: 'facturae', nif: 'B12345674', name: 'X' }, 'system'],
        [{ system: 'ticketbai', nif: 'B12345674', name: 'X' }, 'territory'],
        [{ system: 'ticketbai', territory: 'navarra', nif: 'B12345674', name: 'X' }, 'territory'],
        [{ system: 'verifactu', nif: 'B12345674', name: '' }, 'name'],
        [{ system: 'verifactu', nif: 'B12345674', name: 'X', series: 'A B' }, 'series'],
        [{ system: 'verifactu', nif: 'B12345674', name: 'X', environment: 'staging' }, 'environment'],
        [
          { system: 'ticketbai', territory: 'araba', nif: 'B12345674', name: 'X', environment: 'production' },
          'certificate_id',
        ],
        [{ system: 'verifactu', nif: 'B12345674', name: 'X', environment: 'production' }, 'certificate_id'],
        [{ system: 'verifactu', nif: 'B12345674', name: 'X', certificate_id: 'none-such' }, 'certificate_id'],
        [
          { system: 'verifactu', nif: 'B12345674', name: 'X', series: 'A', rectifyingSeries: 'A' },
          'rectifyingSeries',
        ],
      ]
      for (const [body, field] of cases) {
        const reply = await pos.request('PUT', '/es/v1/cashbox', body)
        assert.equal(reply.status, 400, `${JSON.stringify(body)}: ${reply.payload}`)
        assert.equal(reply.json().details?.field, field, reply.payload)
      }
      assert.equal((await pos.request('GET', '/es/v1/cashbox')).status, 409, 'still not configured')
    })

    test('bad receipts get 400s naming the field and write nothing; a configuration with records is fixed', async () => {
      const pos = await newPos({ system: 'verifactu', nif: 'B87654321', name: 'Tienda SL' })
      const first = esReceipt(ES_CASE.pos, [{ amount: '10.00', vat: 21 }])
      await pos.signOk(first)
      const before = await pos.request('GET', '/v2/journal/' + pos.box.queueId + '/QueueItem?limit=1000')
      const cases: Array<[Record<string, unknown>, string]> = [
        [esReceipt(ES_CASE.pos, [{ amount: '10.00', vat: 20 }]), 'cbChargeItems[0].VATRate'],
        [
          esReceipt(ES_CASE.pos, [{ amount: '10.00', vat: 21, code: VAT.reduced }]),
          'cbChargeItems[0].VATRate',
        ],
        [
          esReceipt(ES_CASE.pos, [{ amount: '10.001', vat: 21 }], {
            cbPayItems: [{ Description: 'Efectivo', Amount: '10.001', ftPayItemCase: '0x4553200000000001' }],
          }),
          'cbChargeItems[0].Amount',
        ],
        [
          esReceipt(ES_CASE.pos, [{ amount: '10.00', vat: 21, vatAmount: '2.10' }]),
          'cbChargeItems[0].VATAmount',
        ],
        [esReceipt(ES_CASE.pos, []), 'cbChargeItems'],
        [esReceipt(ES_CASE.b2b, [{ amount: '10.00', vat: 21 }]), 'cbCustomer.CustomerVATId'],
        [
          esReceipt(ES_CASE.b2b, [{ amount: '10.00', vat: 21 }], {
            cbCustomer: { CustomerVATId: 'A58818501' },
          }),
          'cbCustomer.CustomerName',
        ],
        [
          esReceipt(ES_CASE.b2b, [{ amount: '10.00', vat: 21 }], {
            cbCustomer: { CustomerName: 'X', CustomerVATId: 'DE123' },
          }),
          'cbCustomer.CustomerVATId',
        ],
        [
          esReceipt(ES_CASE.refundPos, [{ amount: '-1.00', vat: 21 }], {
            cbPreviousReceiptReference: 'nope',
          }),
          'cbPreviousReceiptReference',
        ],
        [
          esReceipt(ES_CASE.refundPos, [{ amount: '1.00', vat: 21 }], {
            cbPreviousReceiptReference: first.cbReceiptReference,
          }),
          'cbChargeItems',
        ],
        [
          esReceipt(ES_CASE.voidPos, [], { cbPreviousReceiptReference: 'nope' }),
          'cbPreviousReceiptReference',
        ],
      ]
      for (const [body, field] of cases) {
        const reply = await pos.sign(body)
        assert.equal(reply.status, 400, `${field}: ${reply.payload}`)
        assert.equal(reply.json().details?.field, field, reply.payload)
      }
      // A void of a void: the invoice is cancelled already.
      await pos.signOk(
        esReceipt(ES_CASE.voidPos, [], { cbPreviousReceiptReference: first.cbReceiptReference }),
      )
      const again = await pos.sign(
        esReceipt(ES_CASE.voidPos, [], { cbPreviousReceiptReference: first.cbReceiptReference }),
      )
      assert.equal(again.status, 400, again.payload)
      const afterItems = await pos.request('GET', '/v2/journal/' + pos.box.queueId + '/QueueItem?limit=1000')
      assert.equal(afterItems.json().length, before.json().length + 1, 'only the good void was written')
      assert.equal((await pos.records()).length, 2)
      const change = await pos.request('PUT', '/es/v1/cashbox', {
        system: 'verifactu',
        nif: 'B12345674',
        name: 'Otra SL',
      })
      assert.equal(change.status, 409, change.payload)
      const same = await pos.request('GET', '/es/v1/cashbox')
      assert.equal(same.json().nif, 'B87654321')
    })

    test('idempotent replay: the same x-operation-id gives the same bytes and no second record', async () => {
      const pos = await newPos({ system: 'verifactu', nif: 'B11111119', name: 'Repetición SL' })
      const body = esReceipt(ES_CASE.pos, [{ amount: '2.00', vat: 21 }])
      const operationId = randomUUID()
      const first = await pos.sign(body, operationId)
      const second = await pos.sign(body, operationId)
      assert.equal(first.status, 200, first.payload)
      assert.equal(second.payload, first.payload)
      assert.equal((await pos.records()).length, 1)
      const records = await pos.settled()
      assert.equal(records[0].status, 'accepted')
      assert.equal(byType(first.json(), 0x2n).Data, records[0].identifier)
    })

    test('faults: errors, lost answers and an outage end with every record accepted once, chain intact', async () => {
      const pos = await newPos({ system: 'verifactu', nif: 'B22222228', name: 'Averías SL' })
      const tbai = await newPos({
        system: 'ticketbai',
        territory: 'gipuzkoa',
        nif: 'B33333337',
        name: 'Fallos SL',
      })
      await fetch(`${sim.url}/_sim/faults`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ errorRate: 0.3, timeoutRate: 0.15, holdMs: 1_000, seed: 11 }),
      })
      try {
        for (let i = 0; i < 30; i++) {
          if (i === 10)
            await fetch(`${sim.url}/_sim/outage`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ seconds: 1 }),
            })
          await pos.signOk(esReceipt(ES_CASE.pos, [{ amount: `${i + 1}.00`, vat: 21 }]))
          if (i % 3 === 0)
            await tbai.signOk(esReceipt(ES_CASE.pos, [{ amount: `${i + 1}.10`, vat: 10, code: VAT.reduced }]))
        }
        const records = await pos.settled(120_000)
        const tbaiRecords = await tbai.settled(120_000)
        assert.equal(records.length, 30)
        assert.ok(
          records.every((r) => r.status === 'accepted'),
          JSON.stringify(records.map((r) => r.status)),
        )
        assert.ok(tbaiRecords.every((r) => r.status === 'accepted'))
        const state = await simState(sim)
        assert.equal(state.aeat.duplicates, 0, 'no record sent again after it was registered')
        assert.equal(state.ticketbai.duplicates, 0)
        const ours = state.aeat.invoices.filter((i: any) => i.issuerNif === 'B22222228')
        assert.equal(ours.length, 30)
        assert.ok(
          ours.every((i: any) => i.state === 'Correcta'),
          'in chain order: no broken link reported',
        )
        const dir = mkdtempSync(join(tmpdir(), 'es-pos-faults-'))
        const { files } = await exportCashboxVerifactu(h.runtime, pos.box.cashboxId, join(dir, 'v.xml'))
        const verifier = new VerifactuVerifier()
        verifier.document(readFileSync(files[0] as string, 'utf8'), 'v.xml')
        assert.deepEqual(verifier.finish().problems, [])
      } finally {
        await fetch(`${sim.url}/_sim/faults`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ errorRate: 0, timeoutRate: 0, outages: [] }),
        })
      }
    })
  })
}
