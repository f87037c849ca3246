import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { cliEnv, runCli } from '../../cli/cli-process.ts'
import { engines } from '../../helpers/engines.ts'
import { ContractPos, type Site, site } from '../contract.ts'
import { CONFIG, PT_CASE, ptReceipt, SERIES, signatureOf, VAT } from './support.ts'
import { readSaft, writeSaft, xmllintSaft } from './xsd.ts'

/**
 * Payment receipts (RG) through /v2/sign and into SAF-T, on both engines: a payment transfer naming the
 * invoices it settles becomes the next RG of its series with ATCUD and QR code (I1:0) and no signature;
 * the exported Payments section is valid against the AT's schema, `fiscalbox verify` checks it, and a
 * tampered payment is refused.
 */
const RG_SERIES = { documentType: 'RG', series: 'RG2026', validationCode: 'AAJFJ8K6JT' }
const SIGNATURE = { qr: 0x01n, atcud: 0x10n, hash: 0x20_0012n }

/** A payment transfer of `amount` in cash, settling the invoices of `references`. */
const paymentOf = (amount: string, references: string | string[], extra: Record<string, unknown> = {}) =>
  ptReceipt(PT_CASE.paymentTransfer, [{ amount, vat: VAT.normal, description: 'Pagamento' }], {
    cbPreviousReceiptReference: references,
    cbCustomer: { CustomerName: 'Cliente Exemplo', CustomerVATId: '123456789' },
    ...extra,
  })

for (const engine of await engines()) {
  describe(`PT payment receipts (RG) (${engine})`, () => {
    let place: Site
    let pos: ContractPos
    let env: NodeJS.ProcessEnv
    const invoices: Record<string, unknown>[] = []
    let sale: Record<string, unknown>
    const file = (name: string) => join(place.config.FISCALBOX_DATA_DIR, name)
    const responses: any[] = []
    before(async () => {
      place = await site(engine)
      env = cliEnv({ ...place.config })
      const node = await place.open()
      pos = new ContractPos(node.app, await node.runtime.cashboxes.create('PT'))
      const put = await pos.request('PUT', '/pt/v1/cashbox', { ...CONFIG, series: [...SERIES, RG_SERIES] })
      assert.equal(put.status, 200, put.payload)
      await pos.signOk(ptReceipt(PT_CASE.start, []))
      for (const amount of ['100.00', '20.00']) {
        const invoice = ptReceipt(PT_CASE.invoice, [{ amount, vat: VAT.normal }], {
          cbCustomer: { CustomerName: 'Cliente Exemplo', CustomerVATId: '123456789' },
        })
        await pos.signOk(invoice)
        invoices.push(invoice)
      }
      sale = ptReceipt(PT_CASE.pos, [{ amount: '3.00', vat: VAT.normal }])
      await pos.signOk(sale)
      const [first, second] = invoices.map((i) => i.cbReceiptReference as string)
      responses.push(await pos.signOk(paymentOf('40.00', first as string)))
      responses.push(await pos.signOk(paymentOf('80.00', [second as string, first as string])))
      const voided = paymentOf('5.00', second as string)
      responses.push(await pos.signOk(voided))
      await pos.signOk({
        ...paymentOf('5.00', voided.cbReceiptReference as string),
        ftReceiptCase: '0x5054200000040002',
      })
      await node.close()
    })
    after(() => place.drop())

    test('a payment transfer is the next RG of its series: ATCUD, QR with I1:0, no hash', () => {
      const [first, second] = responses
      assert.match(first.ftReceiptIdentification, /^ft[0-9A-F]+#RG RG2026\/1$/)
      assert.match(second.ftReceiptIdentification, /#RG RG2026\/2$/)
      assert.equal(signatureOf(first, SIGNATURE.atcud)?.Data, 'ATCUD:AAJFJ8K6JT-1')
      assert.equal(signatureOf(first, SIGNATURE.hash), undefined, 'a payment receipt is not signed')
      const qr = signatureOf(second, SIGNATURE.qr)?.Data ?? ''
      assert.match(
        qr,
        /^A:509442013\*B:123456789\*C:PT\*D:RG\*E:N\*F:\d{8}\*G:RG RG2026\/2\*H:AAJFJ8K6JT-2\*/,
      )
      assert.match(qr, /\*I1:0\*N:0\.00\*O:80\.00\*Q:0\*R:9999$/)
      assert.deepEqual(
        second.ftSignatures.filter((s: any) => /^Origem/.test(s.Data)).map((s: any) => s.Data),
        ['Origem: FT FT2026/2', 'Origem: FT FT2026/1'],
      )
    })

    test('refused with 400 naming the field, nothing written', async () => {
      const node = await place.open()
      const again = new ContractPos(node.app, pos.box)
      const journal = (await again.receiptJournal()).length
      const [first, second] = invoices.map((i) => i.cbReceiptReference as string)
      const cases: [Record<string, unknown>, string, RegExp][] = [
        [paymentOf('10.00', []), 'cbPreviousReceiptReference', /invoice/],
        [
          ptReceipt(PT_CASE.paymentTransfer, [], { cbPreviousReceiptReference: first }),
          'cbPayItems',
          /more than 0/,
        ],
        [paymentOf('3.00', sale.cbReceiptReference as string), 'cbPreviousReceiptReference', /FT/],
        [paymentOf('25.00', second as string), 'cbPayItems', /GrossTotal/],
        [
          { ...paymentOf('1.00', first as string), ftReceiptCase: '0x5054200001000002' },
          'ftReceiptCase',
          /void it/,
        ],
      ]
      for (const [body, field, reason] of cases) {
        const reply = await again.sign(body)
        assert.equal(reply.status, 400, reply.payload)
        assert.equal(reply.json().details.field, field, reply.payload)
        assert.match(reply.json().details.reason, reason, reply.payload)
      }
      assert.equal((await again.receiptJournal()).length, journal, 'nothing was written')
      await node.close()
    })

    test('SAF-T lists the payments, the AT schema accepts it, verify checks and refuses tampering', async () => {
      const today = new Date().toISOString().slice(0, 10)
      const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)
      const exported = await runCli(
        ['export', 'saft-pt', '--cashbox', pos.box.cashboxId, '--from', today, '--to', tomorrow].concat([
          '--out',
          file('rg.xml'),
          '--public-key',
          file('rg.pem'),
        ]),
        env,
      )
      assert.equal(exported.code, 0, exported.stderr)
      const lint = xmllintSaft(file('rg.xml'))
      assert.ok(lint.ok, lint.output)
      const xml = readSaft(file('rg.xml'))
      // RG 3 was voided: listed with status A, out of TotalCredit.
      assert.match(
        xml,
        /<Payments><NumberOfEntries>3<\/NumberOfEntries><TotalDebit>0\.00<\/TotalDebit><TotalCredit>120\.00<\/TotalCredit>/,
      )
      assert.match(
        xml,
        /<PaymentRefNo>RG RG2026\/2<\/PaymentRefNo><ATCUD>AAJFJ8K6JT-2<\/ATCUD>.*?<PaymentType>RG<\/PaymentType>.*?<Line><LineNumber>1<\/LineNumber><SourceDocumentID><OriginatingON>FT FT2026\/2<\/OriginatingON><InvoiceDate>\d{4}-\d\d-\d\d<\/InvoiceDate><\/SourceDocumentID><CreditAmount>20\.00<\/CreditAmount><\/Line><Line><LineNumber>2<\/LineNumber><SourceDocumentID><OriginatingON>FT FT2026\/1<\/OriginatingON>.*?<CreditAmount>60\.00</s,
      )
      assert.match(xml, /<PaymentRefNo>RG RG2026\/3<\/PaymentRefNo>.*?<PaymentStatus>A<\/PaymentStatus>/s)
      const verified = await runCli(['verify', file('rg.xml'), '--public-key', file('rg.pem')], env)
      assert.equal(verified.code, 0, verified.stdout + verified.stderr)
      assert.match(verified.stdout, /^OK: SAF-T \(PT\) with 6 documents in 3 series/)

      const tamper = async (name: string, changed: string, problem: RegExp) => {
        assert.notEqual(changed, xml, `${name}: the tampering changed nothing`)
        writeSaft(file(name), changed)
        const run = await runCli(['verify', file(name), '--public-key', file('rg.pem'), '--json'], env)
        assert.equal(run.code, 1, run.stdout + run.stderr)
        const report = JSON.parse(run.stdout)
        assert.ok(
          report.problems.some((p: string) => problem.test(p)),
          run.stdout,
        )
      }
      await tamper(
        'rg-amount.xml',
        xml.replace(/(<PaymentRefNo>RG RG2026\/1<\/PaymentRefNo>.*?<CreditAmount>)40\.00/s, '$14.00'),
        /RG RG2026\/1: the lines settle 4\.00, GrossTotal is 40\.00/,
      )
      await tamper(
        'rg-total.xml',
        xml.replace('<TotalCredit>120.00</TotalCredit>', '<TotalCredit>125.00</TotalCredit>'),
        /Payments TotalCredit is 125\.00, the payments' lines add up to 120\.00/,
      )
      await tamper(
        'rg-gap.xml',
        xml.replace(/<Payment><PaymentRefNo>RG RG2026\/2<\/PaymentRefNo>.*?<\/Payment>\n?/s, ''),
        /RG RG2026\/3: follows number 1 of RG RG2026: the numbering has a gap/,
      )
    })
  })
}
