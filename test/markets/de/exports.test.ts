import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requireTool } from '../../helpers/system-tools.ts'
import { after, before, describe, test } from 'node:test'
import { cliEnv, runCli } from '../../cli/cli-process.ts'
import { engines } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import { DE_CASE, DePos, deReceipt, PAY, parseCsv, untar, VAT } from './support.ts'

/** The files and the columns the reference names (sign-de-v2.md, DSFinV-K). */
const REFERENCE_FILES = [
  'cashpointclosing.csv',
  'location.csv',
  'cashregister.csv',
  'slaves.csv',
  'pa.csv',
  'tse.csv',
  'vat.csv',
  'businesscases.csv',
  'payment.csv',
  'cash_per_currency.csv',
  'transactions.csv',
  'transactions_vat.csv',
  'allocation_groups.csv',
  'datapayment.csv',
  'references.csv',
  'transactions_tse.csv',
  'lines.csv',
  'lines_vat.csv',
  'itemamounts.csv',
  'subitems.csv',
]
const CLOSING_KEY = ['Z_KASSE_ID', 'Z_ERSTELLUNG', 'Z_NR']
const REFERENCE_COLUMNS: Record<string, string[]> = {
  'tse.csv': [
    'TSE_ID',
    'TSE_SERIAL',
    'TSE_SIG_ALGO',
    'TSE_ZEITFORMAT',
    'TSE_PD_ENCODING',
    'TSE_PUBLIC_KEY',
    // DSFinV-K 2.1 and later (python-dsfinvk's Stamm_TSE): up to seven columns of 1000 characters.
    ...['I', 'II', 'III', 'IV', 'V', 'VI', 'VII'].map((n) => `TSE_ZERTIFIKAT_${n}`),
  ],
  'transactions_tse.csv': [
    'TSE_TANR',
    'TSE_TA_START',
    'TSE_TA_ENDE',
    'TSE_TA_VORGANGSART',
    'TSE_TA_SIGZ',
    'TSE_TA_SIG',
    'TSE_TA_FEHLER',
    'TSE_VORGANGSDATEN',
  ],
}

const column = (csv: ReturnType<typeof parseCsv>, row: string[], name: string) =>
  row[csv.header.indexOf(name)]

for (const engine of await engines()) {
  describe(`German exports (${engine})`, () => {
    let h: Harness
    let pos: DePos
    let tssId: string
    const dir = mkdtempSync(join(tmpdir(), 'fiscalbox-de-export-'))
    const env = () => cliEnv({ DATABASE_URL: h.databaseUrl, FISCALBOX_DATA_DIR: h.dataDir })

    before(async () => {
      h = await startHarness(engine)
      pos = new DePos(h.app, await h.runtime.cashboxes.create('DE'))
      await pos.signOk(deReceipt(DE_CASE.start))
      tssId = (await pos.request('GET', '/de/v1/tss')).json().tss_id
      // Day 1: two sales, one training receipt, a receipt while the TSS is out of service, recovery.
      await pos.signOk(
        deReceipt(
          DE_CASE.posImplicit,
          [
            { amount: '11.90', vat: VAT.normal },
            { amount: '10.70', vat: VAT.reduced, quantity: 2 },
          ],
          [
            { amount: '2.60', case: PAY.cash },
            { amount: '20.00', case: PAY.card },
          ],
          { cbTerminalID: 'T1' },
        ),
      )
      await pos.signOk(
        deReceipt(DE_CASE.training, [{ amount: '1.00', vat: VAT.normal }], [{ amount: '1.00' }]),
      )
      await pos.request('PUT', '/de/v1/tss/status', { inService: false })
      await pos.signOk(
        deReceipt(DE_CASE.posImplicit, [{ amount: '5.00', vat: VAT.zero }], [{ amount: '5.00' }]),
      )
      await pos.request('PUT', '/de/v1/tss/status', { inService: true })
      await pos.signOk(deReceipt(DE_CASE.zero))
      await pos.signOk(deReceipt(DE_CASE.daily))
      // Day 2
      await pos.signOk(
        deReceipt(DE_CASE.posImplicit, [{ amount: '3.00', vat: VAT.normal }], [{ amount: '3.00' }]),
      )
      await pos.signOk(deReceipt(DE_CASE.daily))
      await pos.signOk(
        deReceipt(DE_CASE.posImplicit, [{ amount: '1.00', vat: VAT.normal }], [{ amount: '1.00' }]),
      )
    })
    after(async () => h.close())

    test('DSFinV-K through the API: index.xml and every CSV file of the reference, with its columns', async () => {
      const reply = await pos.request('GET', '/de/v1/dsfinvk?from=1&to=1')
      assert.equal(reply.status, 200, reply.payload)
      assert.equal(reply.headers['content-type'], 'application/x-tar')
      const files = await untar(reply.raw)
      assert.deepEqual([...files.keys()].sort(), ['index.xml', ...REFERENCE_FILES].sort())
      for (const name of REFERENCE_FILES) {
        const csv = parseCsv(files.get(name) as Buffer)
        assert.deepEqual(csv.header.slice(0, 3), CLOSING_KEY, `${name} starts with the closing key`)
        for (const row of csv.rows) {
          assert.equal(row.length, csv.header.length, `${name}: every record has every column`)
          assert.equal(row[0], pos.box.cashboxId)
          assert.equal(row[2], '1')
        }
        const reference = REFERENCE_COLUMNS[name]
        // The reference names these columns in this order (transactions_tse.csv after BON_ID and TSE_ID).
        if (reference) assert.deepEqual(csv.header.slice(-reference.length), reference, name)
      }
      const index = (files.get('index.xml') as Buffer).toString('utf8')
      assert.match(index, /<!DOCTYPE DataSet SYSTEM "gdpdu-01-09-2004.dtd">/)
      for (const name of REFERENCE_FILES) assert.ok(index.includes(`<URL>${name}</URL>`), name)
      const xmlFile = join(dir, `index-${engine}.xml`)
      writeFileSync(xmlFile, index)
      execFileSync(requireTool('xmllint'), ['--noout', xmlFile]) // well-formed (the DTD is not shipped)

      const transactions = parseCsv(files.get('transactions.csv') as Buffer)
      const types = transactions.rows.map((r) => column(transactions, r, 'BON_TYP'))
      // start receipt, sale, training, sale without the TSS, zero receipt
      assert.deepEqual(types, ['AVSonstige', 'Beleg', 'AVTraining', 'Beleg', 'AVSonstige'])
      const sale = transactions.rows[1] as string[]
      assert.equal(column(transactions, sale, 'UMS_BRUTTO'), '22,60')
      assert.equal(column(transactions, sale, 'TERMINAL_ID'), 'T1')
      assert.ok(transactions.text.includes('"Beleg"'), 'text is quoted')

      const vat = parseCsv(files.get('transactions_vat.csv') as Buffer)
      const saleVat = vat.rows.filter((r) => r[3] === column(transactions, sale, 'BON_ID'))
      assert.deepEqual(
        saleVat.map((r) => r.slice(4)),
        [
          ['1', '11,90000', '10,00000', '1,90000'],
          ['2', '10,70000', '10,00000', '0,70000'],
        ],
      )
      const lines = parseCsv(files.get('lines.csv') as Buffer)
      assert.equal(column(lines, lines.rows[1] as string[], 'MENGE'), '2,000')
      assert.equal(column(lines, lines.rows[1] as string[], 'STK_BR'), '5,35000')

      const tse = parseCsv(files.get('transactions_tse.csv') as Buffer)
      const errors = tse.rows.map((r) => column(tse, r, 'TSE_TA_FEHLER'))
      assert.equal(
        errors.filter((e) => e !== '').length,
        1,
        'exactly the receipt without the TSS has an error',
      )
      const failed = tse.rows[errors.findIndex((e) => e !== '')] as string[]
      assert.equal(column(tse, failed, 'TSE_TANR'), '')
      assert.match(column(tse, failed, 'TSE_TA_FEHLER') as string, /out of service/)
      const signed = tse.rows[1] as string[]
      assert.equal(column(tse, signed, 'TSE_TA_VORGANGSART'), 'Kassenbeleg-V1')
      assert.equal(
        column(tse, signed, 'TSE_VORGANGSDATEN'),
        'Beleg^11.90_10.70_0.00_0.00_0.00^2.60:Bar_20.00:Unbar',
      )

      const payment = parseCsv(files.get('payment.csv') as Buffer)
      assert.deepEqual(
        payment.rows.map((r) => r.slice(3)),
        [
          ['Bar', 'Bar', '7,60'],
          ['Unbar', 'Karte', '20,00'],
        ],
        'training receipts do not count in the closing',
      )
      const closing = parseCsv(files.get('cashpointclosing.csv') as Buffer)
      assert.equal(column(closing, closing.rows[0] as string[], 'Z_SE_ZAHLUNGEN'), '27,60')
      assert.equal(column(closing, closing.rows[0] as string[], 'Z_SE_BARZAHLUNGEN'), '7,60')
      const tseMaster = parseCsv(files.get('tse.csv') as Buffer)
      assert.equal(column(tseMaster, tseMaster.rows[0] as string[], 'TSE_SIG_ALGO'), 'ecdsa-plain-SHA256')
      assert.equal(column(tseMaster, tseMaster.rows[0] as string[], 'TSE_PD_ENCODING'), 'UTF-8')
      const parts = tseMaster.header
        .map((name, i) =>
          name.startsWith('TSE_ZERTIFIKAT_') ? (tseMaster.rows[0] as string[])[i] : undefined,
        )
        .filter((part) => part !== undefined)
      assert.ok(parts.every((part) => part.length <= 1000))
      const certificate = new X509Certificate(Buffer.from(parts.join(''), 'base64'))
      assert.match(certificate.issuer, /fiscalbox TSS Sub CA/)
    })

    test('a range covers its closings only; an open day is not exported', async () => {
      const both = await untar((await pos.request('GET', '/de/v1/dsfinvk')).raw)
      const closings = parseCsv(both.get('cashpointclosing.csv') as Buffer)
      assert.deepEqual(
        closings.rows.map((r) => r[2]),
        ['1', '2'],
      )
      const transactions = parseCsv(both.get('transactions.csv') as Buffer)
      assert.equal(transactions.rows.length, 6, 'the receipt after the last closing waits for its closing')
      const none = await pos.request('GET', '/de/v1/dsfinvk?from=3')
      assert.equal(none.status, 404)
      const bad = await pos.request('GET', '/de/v1/dsfinvk?from=yesterday')
      assert.equal(bad.status, 400)
    })

    test('fiscalbox export dsfinvk writes a directory or a TAR file', async () => {
      const out = join(dir, `dsfinvk-${engine}`)
      const run = await runCli(
        ['export', 'dsfinvk', '--cashbox', pos.box.cashboxId, '--from', '2', '--to', '2', '--out', out],
        env(),
      )
      assert.equal(run.code, 0, run.stderr)
      assert.deepEqual(readdirSync(out).sort(), ['index.xml', ...REFERENCE_FILES].sort())
      const closing = parseCsv(readFileSync(join(out, 'cashpointclosing.csv')))
      assert.equal(closing.rows.length, 1)
      const tarFile = join(dir, `dsfinvk-${engine}.tar`)
      const tarRun = await runCli(
        ['export', 'dsfinvk', '--cashbox', pos.box.cashboxId, '--out', tarFile],
        env(),
      )
      assert.equal(tarRun.code, 0, tarRun.stderr)
      assert.equal((await untar(readFileSync(tarFile))).size, 21)
    })

    test("the TAR export of the cash box's TSS and its journal export pass fiscalbox verify", async () => {
      const tar = join(dir, `tss-${engine}.tar`)
      const exported = await runCli(['export', 'tar', '--tss', tssId, '--out', tar], env())
      assert.equal(exported.code, 0, exported.stderr)
      const verified = await runCli(['verify', tar], env())
      assert.equal(verified.code, 0, verified.stdout + verified.stderr)
      const journal = join(dir, `journal-${engine}.jsonl`)
      const written = await runCli(
        ['export', 'journal', '--cashbox', pos.box.cashboxId, '--out', journal],
        env(),
      )
      assert.equal(written.code, 0, written.stderr)
      const checked = await runCli(['verify', journal], env())
      assert.equal(checked.code, 0, checked.stdout + checked.stderr)
    })
  })
}
