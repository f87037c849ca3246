import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { cliEnv, runCli } from '../../cli/cli-process.ts'
import { engines } from '../../helpers/engines.ts'
import { ContractPos, type Site, site } from '../contract.ts'
import { CONFIG, EXEMPT_M07, PT_CASE, PUBLIC_KEY, ptReceipt, VAT } from './support.ts'
import { readSaft, writeSaft, xmllintSaft } from './xsd.ts'

/**
 * `fiscalbox export saft-pt` and `fiscalbox verify` as an operator runs them, on receipts signed through
 * /v2/sign: the file is valid against the AT's schema, verify recomputes every hash with the public key,
 * and a tampered file is refused. On both engines.
 */
for (const engine of await engines()) {
  describe(`SAF-T (PT) export and verify (${engine})`, () => {
    let place: Site
    let pos: ContractPos
    let env: NodeJS.ProcessEnv
    const file = (name: string) => join(place.config.FISCALBOX_DATA_DIR, name)
    before(async () => {
      place = await site(engine)
      env = cliEnv({ ...place.config })
      const node = await place.open()
      pos = new ContractPos(node.app, await node.runtime.cashboxes.create('PT'))
      assert.equal((await pos.request('PUT', '/pt/v1/cashbox', CONFIG)).status, 200)
      await pos.signOk(ptReceipt(PT_CASE.start, []))
      const sale = ptReceipt(PT_CASE.pos, [
        { amount: '4.60', vat: VAT.normal, description: 'Pastel de nata & café' },
        { amount: '2.12', vat: VAT.reduced, description: 'Água <0,5 l>' },
      ])
      await pos.signOk(sale)
      await pos.signOk(
        ptReceipt(
          PT_CASE.invoice,
          [{ amount: '50.00', rate: 0, caseCode: EXEMPT_M07, description: 'Consulta de nutrição' }],
          {
            cbCustomer: { CustomerName: 'Cliente Exemplo', CustomerVATId: '123456789' },
          },
        ),
      )
      await pos.signOk(
        ptReceipt(
          PT_CASE.refund,
          [{ amount: '-4.60', vat: VAT.normal, description: 'Pastel de nata & café' }],
          {
            cbPreviousReceiptReference: sale.cbReceiptReference,
          },
        ),
      )
      const voided = ptReceipt(PT_CASE.pos, [{ amount: '1.30', vat: VAT.intermediate }])
      await pos.signOk(voided)
      await pos.signOk(
        ptReceipt(PT_CASE.void, [{ amount: '-1.30', vat: VAT.intermediate }], {
          cbPreviousReceiptReference: voided.cbReceiptReference,
        }),
      )
      for (let i = 0; i < 3; i++)
        await pos.signOk(ptReceipt(PT_CASE.pos, [{ amount: `1.${i}0`, vat: VAT.normal }]))
      await node.close()
    })
    after(() => place.drop())

    const today = new Date().toISOString().slice(0, 10)
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)

    test('the export is valid against the AT schema and verify recomputes every hash', async () => {
      const exported = await runCli(
        [
          'export',
          'saft-pt',
          '--cashbox',
          pos.box.cashboxId,
          '--from',
          today,
          '--to',
          tomorrow,
          '--out',
          file('saft.xml'),
          '--public-key',
          file('public.pem'),
        ],
        env,
      )
      assert.equal(exported.code, 0, exported.stderr)
      assert.match(exported.stdout, /wrote 7 documents/)
      assert.equal(readFileSync(file('public.pem'), 'utf8').trim(), PUBLIC_KEY.trim())
      const lint = xmllintSaft(file('saft.xml'))
      assert.ok(lint.ok, lint.output)
      // Windows-1252 bytes, as the AT reads them: "ã" is 0xE3, "ç" 0xE7, "º" 0xBA, never UTF-8's two bytes.
      const bytes = readFileSync(file('saft.xml'))
      assert.ok(
        bytes.subarray(0, 60).toString('latin1').startsWith('<?xml version="1.0" encoding="Windows-1252"?>'),
      )
      assert.ok(bytes.includes(Buffer.from([0x6e, 0x75, 0x74, 0x72, 0x69, 0xe7, 0xe3, 0x6f])), 'nutrição')
      assert.ok(bytes.includes(Buffer.from('9.\xba do CIVA', 'latin1')), 'artigo 9.º')
      assert.ok(!bytes.includes(Buffer.from('ã', 'utf8')), 'no UTF-8 sequence')
      const xml = readSaft(file('saft.xml'))
      assert.match(
        xml,
        /<NumberOfEntries>7<\/NumberOfEntries><TotalDebit>3.74<\/TotalDebit><TotalCredit>58.42<\/TotalCredit>/,
      )
      assert.match(
        xml,
        /<TaxExemptionReason>Isento artigo 9.º do CIVA<\/TaxExemptionReason><TaxExemptionCode>M07</,
      )
      const verified = await runCli(['verify', file('saft.xml'), '--public-key', file('public.pem')], env)
      assert.equal(verified.code, 0, verified.stdout + verified.stderr)
      assert.match(verified.stdout, /^OK: SAF-T \(PT\) with 7 documents in 3 series/)
    })

    test('verify refuses a tampered total, a changed date and a removed document', async () => {
      const xml = readSaft(file('saft.xml'))
      const tamper = async (name: string, changed: string, problem: RegExp) => {
        assert.notEqual(changed, xml, `${name}: the tampering changed nothing`)
        writeSaft(file(name), changed)
        const run = await runCli(['verify', file(name), '--public-key', file('public.pem'), '--json'], env)
        assert.equal(run.code, 1, run.stdout + run.stderr)
        const report = JSON.parse(run.stdout)
        assert.ok(
          report.problems.some((p: string) => problem.test(p)),
          run.stdout,
        )
      }
      // The second FS: its gross total, with its line and net total made to agree, still breaks its hash.
      await tamper(
        'gross.xml',
        xml.replace(/(<InvoiceNo>FS FS2026\/2<\/InvoiceNo>.*?<GrossTotal>)1\.30</s, '$11.20<'),
        /FS FS2026\/2: the Hash does not match/,
      )
      await tamper(
        'date.xml',
        xml.replace(/(<InvoiceNo>FT FT2026\/1<\/InvoiceNo>.*?<InvoiceDate>)\d{4}/s, '$11999'),
        /FT FT2026\/1: the Hash does not match/,
      )
      await tamper(
        'gap.xml',
        xml.replace(/<Invoice><InvoiceNo>FS FS2026\/3<\/InvoiceNo>.*?<\/Invoice>\n?/s, ''),
        /FS FS2026\/4: follows number 2 of FS FS2026: the numbering has a gap/,
      )
      const wrongKey = await runCli(['verify', file('saft.xml')], env)
      assert.equal(wrongKey.code, 1)
      assert.match(wrongKey.stderr, /--public-key/)
    })
  })
}
