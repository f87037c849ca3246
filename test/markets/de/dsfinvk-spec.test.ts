import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { cliEnv, runCli } from '../../cli/cli-process.ts'
import { engines } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import { checkAgainstSpec, formatError, SPEC } from './dsfinvk-spec-columns.ts'
import { DE_CASE, DePos, deReceipt, PAY, parseCsv, untar, VAT } from './support.ts'

/**
 * Every DSFinV-K table, written through the HTTP API and through `fiscalbox export dsfinvk`, against the
 * column lists of DSFinV-K 2.3 (dsfinvk-spec-columns.ts): header, index.xml declaration, every value.
 */
const column = (csv: ReturnType<typeof parseCsv>, name: string) =>
  csv.rows.map((row) => row[csv.header.indexOf(name)] as string)

for (const engine of await engines()) {
  describe(`DSFinV-K tables against the specification (${engine})`, () => {
    let h: Harness
    let pos: DePos
    const dir = mkdtempSync(join(tmpdir(), 'fiscalbox-dsfinvk-spec-'))

    before(async () => {
      h = await startHarness(engine)
      pos = new DePos(h.app, await h.runtime.cashboxes.create('DE'))
      const at = (moment: string) => ({ cbReceiptMoment: moment })
      // Closing 1: a signed day with a unit price of many decimals, foreign cash, a void and a terminal.
      await pos.signOk(deReceipt(DE_CASE.start))
      const sale = deReceipt(
        DE_CASE.posImplicit,
        [
          { amount: '10.00', vat: VAT.normal, quantity: 3 },
          { amount: '2.14', vat: VAT.reduced, quantity: 2 },
        ],
        [
          { amount: '2.14', case: PAY.card },
          { amount: '10.00', currency: 'CHF', quantity: 9.5 },
        ],
        { cbTerminalID: 'T-7' },
      )
      await pos.signOk(sale)
      await pos.signOk(
        deReceipt(
          DE_CASE.void,
          [{ amount: '-2.14', vat: VAT.reduced, quantity: -2 }],
          [{ amount: '-2.14' }],
          {
            cbPreviousReceiptReference: sale.cbReceiptReference,
          },
        ),
      )
      await pos.signOk(deReceipt(DE_CASE.daily))
      // Closing 2: receipts without the TSS (their times are the POS's cbReceiptMoment) on both sides of
      // the changes to and from summer time in 2026 (29 March and 25 October, 01:00 UTC).
      await pos.request('PUT', '/de/v1/tss/status', { inService: false })
      for (const moment of [
        '2026-03-29T00:30:00.000Z',
        '2026-03-29T01:30:00.000Z',
        '2026-10-25T00:30:00.000Z',
        '2026-10-25T01:30:00.000Z',
      ]) {
        await pos.signOk(
          deReceipt(
            DE_CASE.posImplicit,
            [{ amount: '1.00', vat: VAT.normal }],
            [{ amount: '1.00' }],
            at(moment),
          ),
        )
      }
      await pos.request('PUT', '/de/v1/tss/status', { inService: true })
      await pos.signOk(deReceipt(DE_CASE.zero, [], [], at('2026-10-25T23:00:00.000Z')))
      // 00:30 on 26 October in Germany, still 25 October in UTC.
      await pos.signOk(deReceipt(DE_CASE.daily, [], [], at('2026-10-25T23:30:00.000Z')))
    })
    after(async () => h.close())

    test('the HTTP export: every table has the columns, index.xml types and value formats of DSFinV-K 2.3', async () => {
      const reply = await pos.request('GET', '/de/v1/dsfinvk')
      assert.equal(reply.status, 200, reply.payload)
      const files = await untar(reply.raw)
      checkAgainstSpec(files)

      const lines = parseCsv(files.get('lines.csv') as Buffer)
      assert.ok(column(lines, 'STK_BR').includes('3,33333'), '10.00 for 3 pieces, at 5 decimals')
      assert.ok(column(lines, 'MENGE').includes('3,000'))
      const vat = parseCsv(files.get('vat.csv') as Buffer)
      assert.ok(column(vat, 'UST_SATZ').includes('19,00'))
      const references = parseCsv(files.get('references.csv') as Buffer)
      assert.deepEqual(column(references, 'REF_TYP'), ['Transaktion'])
      const payments = parseCsv(files.get('datapayment.csv') as Buffer)
      assert.ok(column(payments, 'ZAHLWAEH_CODE').includes('CHF'))
      const tse = parseCsv(files.get('transactions_tse.csv') as Buffer)
      const unsigned = tse.rows.filter((row) => row[tse.header.indexOf('TSE_TA_FEHLER')] !== '')
      assert.equal(unsigned.length, 4)
      for (const row of unsigned) {
        for (const name of ['TSE_TANR', 'TSE_TA_START', 'TSE_TA_ENDE', 'TSE_TA_SIG'])
          assert.equal(row[tse.header.indexOf(name)], '', `${name}: there was no TSE transaction`)
      }
    })

    test('times are German local time with the offset in force, on both sides of both DST changes', async () => {
      const files = await untar((await pos.request('GET', '/de/v1/dsfinvk?from=2&to=2')).raw)
      const transactions = parseCsv(files.get('transactions.csv') as Buffer)
      const sales = transactions.rows.filter((row) => row[transactions.header.indexOf('BON_TYP')] === 'Beleg')
      assert.deepEqual(
        sales.map((row) => row[transactions.header.indexOf('BON_START')]),
        [
          '2026-03-29T01:30:00+01:00', // the last half hour of winter time
          '2026-03-29T03:30:00+02:00', // 02:00 to 03:00 did not exist that night
          '2026-10-25T02:30:00+02:00', // 02:30 twice: first in summer time
          '2026-10-25T02:30:00+01:00', // and again an hour later in winter time
        ],
      )
      assert.deepEqual(
        sales.map((row) => row[transactions.header.indexOf('BON_ENDE')]),
        sales.map((row) => row[transactions.header.indexOf('BON_START')]),
      )
      const closing = parseCsv(files.get('cashpointclosing.csv') as Buffer)
      assert.deepEqual(column(closing, 'Z_BUCHUNGSTAG'), ['2026-10-26'], 'the German day, not the UTC one')
      // The closing's own creation time is the server's clock: local time with the offset in force then.
      const [created] = column(closing, 'Z_ERSTELLUNG')
      assert.equal(formatError('T', created as string, true), undefined)
      for (const file of Object.keys(SPEC)) {
        const csv = parseCsv(files.get(file) as Buffer)
        assert.ok(
          column(csv, 'Z_ERSTELLUNG').every((value) => value === created),
          `${file}: same closing key`,
        )
      }
    })

    test('the CLI export writes the same tables (directory form)', async () => {
      const out = join(dir, `dsfinvk-${engine}`)
      const env = cliEnv({ DATABASE_URL: h.databaseUrl, FISCALBOX_DATA_DIR: h.dataDir })
      const run = await runCli(['export', 'dsfinvk', '--cashbox', pos.box.cashboxId, '--out', out], env)
      assert.equal(run.code, 0, run.stderr)
      checkAgainstSpec(new Map(readdirSync(out).map((name) => [name, readFileSync(join(out, name))])))
    })
  })
}
