import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { cliEnv, runCli } from '../../cli/cli-process.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import { DE_CASE, DePos, deReceipt, PAY, parseCsv, untar, VAT } from './support.ts'

/**
 * `fiscalbox verify` on a DSFinV-K export written by `fiscalbox export dsfinvk`, run as processes: the
 * untouched export passes, and copies with one thing changed fail naming the file and the rule broken.
 * The verifier is independent of storage, so one engine is enough.
 */
describe('fiscalbox verify on DSFinV-K exports', () => {
  let h: Harness
  let pos: DePos
  let files: Map<string, Buffer>
  const dir = mkdtempSync(join(tmpdir(), 'fiscalbox-dsfinvk-verify-'))
  const tar = join(dir, 'export.tar')
  const env = () => cliEnv({ DATABASE_URL: h.databaseUrl, FISCALBOX_DATA_DIR: h.dataDir })

  before(async () => {
    h = await startHarness('sqlite')
    pos = new DePos(h.app, await h.runtime.cashboxes.create('DE'))
    await pos.signOk(deReceipt(DE_CASE.start))
    await pos.signOk(
      deReceipt(
        DE_CASE.posImplicit,
        [
          { amount: '10.00', vat: VAT.normal, quantity: 3 },
          { amount: '2.14', vat: VAT.reduced, quantity: 2 },
        ],
        [{ amount: '2.14', case: PAY.card }, { amount: '10.00' }],
      ),
    )
    await pos.signOk(
      deReceipt(DE_CASE.posImplicit, [{ amount: '4.50', vat: VAT.normal }], [{ amount: '4.50' }]),
    )
    await pos.signOk(deReceipt(DE_CASE.daily))
    const run = await runCli(['export', 'dsfinvk', '--cashbox', pos.box.cashboxId, '--out', tar], env())
    assert.equal(run.code, 0, run.stderr)
    files = await untar(readFileSync(tar))
  })
  after(() => h.close())

  /** A directory copy of the export with `change` applied to the text of some of its files. */
  function tampered(name: string, change: Record<string, (text: string) => string>): string {
    const out = join(dir, name)
    mkdirSync(out)
    for (const [file, data] of files) {
      const edit = change[file]
      writeFileSync(join(out, file), edit ? edit(data.toString('utf8')) : data)
    }
    return out
  }

  const verifyRun = (path: string, ...flags: string[]) => runCli(['verify', path, ...flags], env())

  test('the export as written verifies (TAR and --json), with its TSE signatures checked', async () => {
    const run = await verifyRun(tar)
    assert.equal(run.code, 0, run.stdout + run.stderr)
    assert.match(run.stdout, /^OK: DSFinV-K export verified: /)
    const json = await verifyRun(tar, '--json')
    assert.equal(json.code, 0)
    const report = JSON.parse(json.stdout)
    assert.equal(report.format, 'DSFinV-K')
    assert.deepEqual(report.problems, [])
    const signed = parseCsv(files.get('transactions_tse.csv') as Buffer)
    const sig = signed.header.indexOf('TSE_TA_SIG')
    const signedRows = signed.rows.filter((row) => row[sig]).length
    assert.ok(signedRows >= 2)
    assert.equal(report.signaturesVerified, signedRows)
    const lines = report.tables.find((t: { file: string }) => t.file === 'lines.csv')
    assert.equal(lines.rows, parseCsv(files.get('lines.csv') as Buffer).rows.length)
  })

  test('the directory form verifies too', async () => {
    const run = await verifyRun(tampered('as-written', {}))
    assert.equal(run.code, 0, run.stdout)
  })

  test('a changed unit price in lines.csv fails', async () => {
    const csv = parseCsv(files.get('lines.csv') as Buffer)
    const price = csv.rows[0]?.[csv.header.indexOf('STK_BR')] as string
    const run = await verifyRun(
      tampered('price', { 'lines.csv': (text) => text.replace(`;${price}\r\n`, ';99,00000\r\n') }),
    )
    assert.equal(run.code, 1)
    assert.match(run.stdout, /lines\.csv row 2 STK_BR: 99,00000 x MENGE/)
  })

  test('a changed line amount in lines_vat.csv fails its transaction total', async () => {
    const csv = parseCsv(files.get('lines_vat.csv') as Buffer)
    const gross = csv.rows[0]?.[csv.header.indexOf('POS_BRUTTO')] as string
    const run = await verifyRun(
      tampered('gross', { 'lines_vat.csv': (text) => text.replace(`;${gross};`, ';1,00000;') }),
    )
    assert.equal(run.code, 1)
    assert.match(run.stdout, /transactions_vat\.csv row \d+ BON_BRUTTO: .* lines_vat\.csv POS_BRUTTO/)
  })

  test('a dropped column fails the header check', async () => {
    const dropGtin = (text: string) =>
      text
        .split('\r\n')
        .map((line) => {
          if (!line) return line
          const cells = line.split(';')
          cells.splice(parseCsv(files.get('lines.csv') as Buffer).header.indexOf('GTIN'), 1)
          return cells.join(';')
        })
        .join('\r\n')
    const run = await verifyRun(tampered('column', { 'lines.csv': dropGtin }))
    assert.equal(run.code, 1)
    assert.match(
      run.stdout,
      /lines\.csv row 1: header does not match index\.xml's columns in order \(missing GTIN\)/,
    )
  })

  test('a corrupted signature in transactions_tse.csv fails', async () => {
    const csv = parseCsv(files.get('transactions_tse.csv') as Buffer)
    const sig = csv.rows.map((row) => row[csv.header.indexOf('TSE_TA_SIG')]).find(Boolean) as string
    const flipped = `${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`
    const run = await verifyRun(
      tampered('signature', { 'transactions_tse.csv': (text) => text.replace(sig, flipped) }),
    )
    assert.equal(run.code, 1)
    assert.match(run.stdout, /transactions_tse\.csv row \d+ TSE_TA_SIG: signature does not verify/)
  })

  test('a removed transactions row leaves its lines without a transaction', async () => {
    const lines = parseCsv(files.get('lines.csv') as Buffer)
    const bonId = lines.rows[0]?.[lines.header.indexOf('BON_ID')] as string
    const drop = (text: string) =>
      text
        .split('\r\n')
        .filter((line) => !line.includes(`;"${bonId}";`))
        .join('\r\n')
    const run = await verifyRun(tampered('transaction', { 'transactions.csv': drop }))
    assert.equal(run.code, 1)
    assert.match(run.stdout, new RegExp(`lines\\.csv row 2 BON_ID: ${bonId} is not in transactions\\.csv`))
  })
})
