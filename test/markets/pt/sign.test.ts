import assert from 'node:assert/strict'
import { createPublicKey, verify } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { engines } from '../../helpers/engines.ts'
import { ContractPos, type Node, type Site, site } from '../contract.ts'
import {
  CONFIG,
  EXEMPT_M07,
  PT_CASE,
  PUBLIC_KEY,
  pinnedMoment,
  ptReceipt,
  signatureOf,
  VAT,
  VECTORS,
} from './support.ts'

/**
 * Portuguese receipts on /v2/sign, on both engines: the shared vector reproduced byte for byte, the
 * printed mention, ATCUD and QR code, chains per series across a restart, credit notes, voids and
 * handwritten documents. Every hash is checked with the public key (node:crypto verify), not by the signer.
 */
const SIGNATURE = { qr: 0x01n, atcud: 0x10n, mention: 0x14n, hash: 0x20_0012n }
const publicKey = createPublicKey(PUBLIC_KEY)
const hashChecks = (message: string, hash: string) =>
  verify('sha1', Buffer.from(message, 'utf8'), publicKey, Buffer.from(hash, 'base64'))

for (const engine of await engines()) {
  describe(`PT receipts on /v2/sign (${engine})`, () => {
    let place: Site
    let node: Node
    /** The signing moment, when a test pins it; the clock otherwise. */
    let pinned: Date | undefined
    const open = () => place.open({ markets: pinnedMoment(() => pinned ?? new Date()) })
    before(async () => {
      place = await site(engine)
      node = await open()
    })
    after(async () => {
      await node.close()
      await place.drop()
    })

    const newPos = async (config: Record<string, unknown> = CONFIG) => {
      const pos = new ContractPos(node.app, await node.runtime.cashboxes.create('PT'))
      const put = await pos.request('PUT', '/pt/v1/cashbox', config)
      assert.equal(put.status, 200, put.payload)
      await pos.signOk(ptReceipt(PT_CASE.start, []))
      return pos
    }

    test('the third vector of the shared chain, byte for byte, continuing its series', async () => {
      const [, second, third] = VECTORS.chain
      const pos = await newPos({
        ...CONFIG,
        series: [
          {
            documentType: 'FS',
            series: 'A2024',
            validationCode: 'AAJFJNK6JJ',
            lastNumber: 2,
            lastHash: second.expectedHash,
          },
        ],
      })
      // 2024-10-08T09:15:00 in Lisbon is 08:15 UTC (summer time).
      pinned = new Date('2024-10-08T08:15:00Z')
      const response = await pos.signOk(
        ptReceipt(PT_CASE.pos, [{ amount: '1000.00', vat: VAT.normal }], {
          cbReceiptMoment: '2024-10-08T08:15:00Z',
        }),
      )
      pinned = undefined
      assert.equal(signatureOf(response, SIGNATURE.hash)?.Data, third.expectedHash)
      assert.equal(signatureOf(response, SIGNATURE.mention)?.Data, third.printedMention)
      assert.equal(signatureOf(response, SIGNATURE.atcud)?.Data, 'ATCUD:AAJFJNK6JJ-3')
      assert.match(response.ftReceiptIdentification, /^ft[0-9A-F]+#FS A2024\/3$/)
      assert.equal(
        signatureOf(response, SIGNATURE.qr)?.Data,
        'A:509442013*B:999999990*C:PT*D:FS*E:N*F:20241008*G:FS A2024/3*H:AAJFJNK6JJ-3*I1:PT*I7:813.01*I8:186.99*N:186.99*O:1000.00*Q:NXbM*R:9999',
      )
    })

    test('each series chains its own documents; the chain goes on after a restart', async () => {
      const pos = await newPos()
      const signed: { id: string; hash: string; entry: string; total: string }[] = []
      const sign = async (caseCode: string, amount: string) => {
        const response = await pos.signOk(ptReceipt(caseCode, [{ amount, vat: VAT.reduced }]))
        const hash = signatureOf(response, SIGNATURE.hash)?.Data as string
        signed.push({ id: response.ftReceiptIdentification.split('#')[1], hash, entry: '', total: amount })
      }
      await sign(PT_CASE.pos, '2.10')
      await sign(PT_CASE.invoice, '10.60')
      await sign(PT_CASE.pos, '3.18')
      await node.close()
      node = await open()
      const restarted = new ContractPos(node.app, pos.box)
      const response = await restarted.signOk(ptReceipt(PT_CASE.pos, [{ amount: '1.06', vat: VAT.reduced }]))
      assert.deepEqual(
        [...signed.map((s) => s.id), response.ftReceiptIdentification.split('#')[1]],
        ['FS FS2026/1', 'FT FT2026/1', 'FS FS2026/2', 'FS FS2026/3'],
      )
      // The SAF-T export holds the dates the hashes were made over: each FS hash checks with the previous FS's.
      const saft = await exportOf(node, pos)
      const documents = [...saft.matchAll(/<Invoice>(.*?)<\/Invoice>/gs)].map(([xml]) => ({
        no: tag(xml, 'InvoiceNo'),
        hash: tag(xml, 'Hash'),
        message: `${tag(xml, 'InvoiceDate')};${tag(xml, 'SystemEntryDate')};${tag(xml, 'InvoiceNo')};${tag(xml, 'GrossTotal')}`,
      }))
      const fs = documents.filter((d) => d.no.startsWith('FS '))
      assert.equal(fs.length, 3)
      fs.forEach((d, i) =>
        assert.ok(hashChecks(`${d.message};${i === 0 ? '' : fs[i - 1]?.hash}`, d.hash), d.no),
      )
      const ft = documents.find((d) => d.no === 'FT FT2026/1')
      assert.ok(ft && hashChecks(`${ft.message};`, ft.hash), 'the first FT starts its own chain')
    })

    test('a credit note names its invoice; a void takes no number and cancels the document', async () => {
      const pos = await newPos()
      const sale = ptReceipt(PT_CASE.pos, [
        { amount: '12.30', vat: VAT.normal },
        { amount: '5.00', rate: 0, caseCode: EXEMPT_M07, description: 'Consulta' },
      ])
      const sold = await pos.signOk(sale)
      assert.equal(
        signatureOf(sold, SIGNATURE.qr)?.Data.replace(/\*Q:.*$/, ''),
        'A:509442013*B:999999990*C:PT*D:FS*E:N*F:' +
          sold.ftReceiptMoment.slice(0, 10).replaceAll('-', '') +
          '*G:FS FS2026/1*H:AAJFJNK6JJ-1*I1:PT*I2:5.00*I7:10.00*I8:2.30*N:2.30*O:17.30',
      )
      const refund = ptReceipt(PT_CASE.refund, [{ amount: '-12.30', vat: VAT.normal }], {
        cbPreviousReceiptReference: sale.cbReceiptReference,
      })
      const credited = await pos.signOk(refund)
      assert.match(credited.ftReceiptIdentification, /#NC NC2026\/1$/)
      assert.ok(
        credited.ftSignatures.some(
          (s: { Caption: string; Data: string }) =>
            s.Caption === 'Referência: FS FS2026/1' && s.Data === 'Razão: Devolução',
        ),
      )
      const unknown = await pos.sign(
        ptReceipt(PT_CASE.refund, [{ amount: '-1.00', vat: VAT.normal }], {
          cbPreviousReceiptReference: 'nope',
        }),
      )
      assert.equal(unknown.status, 400, unknown.payload)
      assert.equal(unknown.json().details.field, 'cbPreviousReceiptReference')
      assert.match(unknown.json().details.reason, /no valid FT or FS for "nope"/)
      const other = ptReceipt(PT_CASE.pos, [{ amount: '1.23', vat: VAT.normal }])
      await pos.signOk(other)
      const voided = await pos.signOk(
        ptReceipt(PT_CASE.void, [{ amount: '-1.23', vat: VAT.normal }], {
          cbPreviousReceiptReference: other.cbReceiptReference,
        }),
      )
      assert.match(voided.ftReceiptIdentification, /#FS FS2026\/2$/)
      assert.equal(signatureOf(voided, SIGNATURE.hash), undefined, 'a void is not signed')
      const again = await pos.sign(
        ptReceipt(PT_CASE.void, [{ amount: '-1.23', vat: VAT.normal }], {
          cbPreviousReceiptReference: other.cbReceiptReference,
        }),
      )
      assert.equal(again.status, 400, again.payload)
      assert.equal(again.json().details.field, 'cbPreviousReceiptReference')
      const next = await pos.signOk(ptReceipt(PT_CASE.pos, [{ amount: '1.23', vat: VAT.normal }]))
      assert.match(next.ftReceiptIdentification, /#FS FS2026\/3$/, 'the void took no number')
      const saft = await exportOf(node, pos)
      const statusOf = (no: string) =>
        /<InvoiceStatus>(.)</.exec(saft.slice(saft.indexOf(`<InvoiceNo>${no}</InvoiceNo>`)))?.[1]
      assert.equal(statusOf('FS FS2026/2'), 'A')
      assert.equal(statusOf('FS FS2026/1'), 'N')
      assert.match(
        saft,
        /<References><Reference>FS FS2026\/1<\/Reference><Reason>Devolução<\/Reason><\/References>/,
      )
    })

    test('a handwritten invoice goes to the manual series with its HashControl', async () => {
      const pos = await newPos()
      const written = new Date(Date.now() - 3 * 86_400_000)
      const response = await pos.signOk(
        ptReceipt(PT_CASE.handwrittenInvoice, [{ amount: '10.60', vat: VAT.reduced }], {
          cbReceiptMoment: written.toISOString(),
          ftReceiptCaseData: { PT: { Series: 'M2026', Number: 17 } },
        }),
      )
      assert.match(response.ftReceiptIdentification, /#FT FTM2026\/1$/)
      assert.ok(
        response.ftSignatures.some(
          (s: { Data: string }) => s.Data === 'Cópia do documento original - FTM M2026/17',
        ),
      )
      const saft = await exportOf(node, pos, written)
      assert.match(saft, /<HashControl>1-FTM M2026\/17<\/HashControl>/)
      assert.match(saft, /<SourceBilling>M<\/SourceBilling>/)
      const missing = await pos.sign(
        ptReceipt(PT_CASE.handwrittenInvoice, [{ amount: '10.60', vat: VAT.reduced }]),
      )
      assert.equal(missing.status, 400)
      assert.equal(missing.json().details.field, 'ftReceiptCaseData.PT.Series')
    })

    test('refused: an unregistered series, a rate Portugal does not have, an unsupported document', async () => {
      const pos = await newPos({ ...CONFIG, series: [CONFIG.series[0]] })
      const journal = (await pos.receiptJournal()).length
      const cases: [Record<string, unknown>, string, RegExp][] = [
        [ptReceipt(PT_CASE.invoice, [{ amount: '12.30', vat: VAT.normal }]), 'ftReceiptCase', /FT series/],
        [
          ptReceipt(PT_CASE.pos, [{ amount: '12.30', caseCode: '0x5054200000000004', rate: 0 }]),
          'cbChargeItems[0].ftChargeItemCase',
          /no such VAT rate/,
        ],
        [
          ptReceipt(PT_CASE.pos, [{ amount: '12.30', vat: VAT.normal, rate: 21 }]),
          'cbChargeItems[0].VATRate',
          /23/,
        ],
        [
          ptReceipt(PT_CASE.paymentTransfer, [{ amount: '12.30', vat: VAT.normal }], {
            cbPreviousReceiptReference: 'PT-an-invoice',
          }),
          'ftReceiptCase',
          /RG series/,
        ],
        [ptReceipt(PT_CASE.pos, [{ amount: '1230.00', vat: VAT.normal }]), 'cbChargeItems', /1,000/],
        [
          ptReceipt(PT_CASE.pos, [{ amount: '1.00', vat: VAT.normal, description: 'Bica\u0001' }]),
          'cbChargeItems[0].Description',
          /control characters/,
        ],
        [
          ptReceipt(PT_CASE.pos, [{ amount: '1.00', vat: VAT.normal, description: 'Chá verde 🍵' }]),
          'cbChargeItems[0].Description',
          /Windows-1252/,
        ],
        [
          ptReceipt(PT_CASE.pos, [{ amount: '1.00', vat: VAT.normal }], {
            cbCustomer: { CustomerName: 'Łukasz Żółw', CustomerVATId: '123456789' },
          }),
          'cbCustomer.CustomerName',
          /Windows-1252/,
        ],
        [
          ptReceipt(PT_CASE.pos, [{ amount: '1.00', vat: VAT.normal }], {
            cbCustomer: { CustomerName: 'Cliente', CustomerVATId: '123456780' },
          }),
          'cbCustomer.CustomerVATId',
          /check digit/,
        ],
      ]
      for (const [body, field, reason] of cases) {
        const reply = await pos.sign(body)
        assert.equal(reply.status, 400, reply.payload)
        assert.equal(reply.json().details.field, field, reply.payload)
        assert.match(reply.json().details.reason, reason, reply.payload)
      }
      assert.equal((await pos.receiptJournal()).length, journal, 'nothing was written')
      // A clock that went back behind the series' last document: refused, nothing written.
      await pos.signOk(ptReceipt(PT_CASE.pos, [{ amount: '1.00', vat: VAT.normal }]))
      const written = (await pos.receiptJournal()).length
      pinned = new Date(Date.now() - 3_600_000)
      const behind = await pos.sign(ptReceipt(PT_CASE.pos, [{ amount: '1.00', vat: VAT.normal }]))
      pinned = undefined
      assert.equal(behind.status, 409, behind.payload)
      assert.match(behind.json().detail, /never go back in time/)
      assert.equal((await pos.receiptJournal()).length, written)
    })
  })
}

const tag = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1] ?? ''

/** The SAF-T (PT) file of the cash box, for all documents from `since` to today. */
async function exportOf(node: Node, pos: ContractPos, since = new Date()): Promise<string> {
  const { ptServicesOf } = await import('../../../src/markets/pt/services.ts')
  const saft = ptServicesOf(node.runtime.marketFor).saft
  const chunks: Buffer[] = []
  const range = {
    from: since.toISOString().slice(0, 10),
    to: new Date(Date.now() + 86_400_000).toISOString().slice(0, 10),
  }
  for await (const chunk of saft.chunks(pos.box.cashboxId, pos.box.queueId, range)) chunks.push(chunk)
  return new TextDecoder('windows-1252').decode(Buffer.concat(chunks))
}
