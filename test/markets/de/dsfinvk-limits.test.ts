import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import fc from 'fast-check'
import { cliEnv, runCli } from '../../cli/cli-process.ts'
import { engines } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import { databaseDigest } from '../contract.ts'
import { checkAgainstSpec } from './dsfinvk-spec-columns.ts'
import { DE_CASE, DePos, deReceipt, parseCsv, qrOf, untar, VAT } from './support.ts'

/**
 * DSFinV-K's MaxLength through /v2/sign: a German receipt whose value would be longer than its export
 * column is refused before anything is signed or stored; a value at the limit is exported whole, and the
 * export passes `fiscalbox verify` and the column lists of the specification. MaxLength counts characters
 * (code points): an astral character such as U+1F600 is one, though it is two UTF-16 units and four bytes.
 */
const ASTRAL = '😀'
const chars = (value: string) => [...value].length

/** `length` characters mixing what a CSV writer escapes or a UTF-16 count gets wrong. */
function text(length: number): string {
  const pattern = [ASTRAL, '"', ';', 'ä', 'x']
  return Array.from({ length }, (_, i) => pattern[i % pattern.length]).join('')
}

const sale = (extra: Record<string, unknown> = {}, description = 'Artikel', payName = 'Bar') => {
  const body = deReceipt(
    DE_CASE.posImplicit,
    [{ amount: '3.00', vat: VAT.normal }],
    [{ amount: '3.00' }],
    extra,
  )
  ;(body.cbChargeItems as Array<Record<string, unknown>>)[0]!.Description = description
  ;(body.cbPayItems as Array<Record<string, unknown>>)[0]!.Description = payName
  return body
}

/** An order receipt (Bestellung-V1) of one item per description, 1 x 1.00 each. */
const order = (descriptions: string[]) =>
  deReceipt(
    DE_CASE.order,
    descriptions.map((d) => ({ amount: '1.00', vat: VAT.normal, text: d })),
    [{ amount: `${descriptions.length}.00` }],
  )

const processDataOf = (response: unknown): string => {
  // V0;serial;processType;processData;tx;counter;start;end;algorithm;unixTime;signature;public key
  const fields = (qrOf(response) as string).split(';')
  return fields.slice(3, fields.length - 8).join(';')
}

for (const engine of await engines()) {
  describe(`DSFinV-K column limits on /v2/sign (${engine})`, () => {
    let h: Harness
    let pos: DePos
    /** What one order line adds to processData besides its escaped description. */
    let orderLine: number
    /** Order descriptions whose Bestellung-V1 is `total` characters (quotes count twice, escaped). */
    let orderOf: (total: number) => string[]
    const accepted: { description: string[]; payName: string[] } = { description: [], payName: [] }
    const dir = mkdtempSync(join(tmpdir(), 'fiscalbox-dsfinvk-limits-'))

    before(async () => {
      h = await startHarness(engine)
      pos = new DePos(h.app, await h.runtime.cashboxes.create('DE'))
      await pos.signOk(deReceipt(DE_CASE.start))
      const probe = processDataOf(await pos.signOk(order(['x'])))
      orderLine = chars(probe) - 1
      orderOf = (total) => {
        // Two lines and the CR between them; the rest is quotes (2 each when escaped) and one astral character.
        const escaped = total - 2 * orderLine - 1
        const first = Math.floor(escaped / 2)
        const fill = (n: number) => '"'.repeat(Math.floor(n / 2)) + (n % 2 ? ASTRAL : '')
        return [fill(first), fill(escaped - first)]
      }
    })
    after(() => h.close())

    async function refused(body: Record<string, unknown>, field: string, rule: RegExp) {
      const before = await databaseDigest(h.runtime)
      const reply = await pos.sign(body)
      assert.equal(reply.status, 400, reply.payload)
      const problem = reply.json()
      assert.ok(reply.payload.includes(`"${field}`), `names ${field}: ${reply.payload}`)
      assert.match(problem.detail ?? reply.payload, rule)
      assert.equal(await databaseDigest(h.runtime), before, `${field}: nothing stored`)
    }

    test('each value longer than its DSFinV-K column is refused with a 400 naming the field and column; nothing is stored', async () => {
      const items = (n: number) =>
        deReceipt(
          DE_CASE.posImplicit,
          Array.from({ length: n }, () => ({ amount: '1.00', vat: VAT.normal })),
          [{ amount: `${n}.00` }],
        )
      const third = items(3)
      ;(third.cbChargeItems as Array<Record<string, unknown>>)[2]!.Description = text(256)
      await refused(
        third,
        'cbChargeItems[2].Description',
        /at most 255 characters \(it has 256\): DSFinV-K column ARTIKELTEXT of lines\.csv/,
      )
      await refused(
        sale({}, 'Artikel', text(61)),
        'cbPayItems[0].Description',
        /at most 60 characters \(it has 61\): DSFinV-K column ZAHLART_NAME of datapayment\.csv/,
      )
      await refused(
        sale({ cbTerminalID: text(51) }),
        'cbTerminalID',
        /at most 50 characters \(it has 51\): DSFinV-K column POS_TERMINAL_ID of lines\.csv/,
      )
      const voided = deReceipt(DE_CASE.void, [{ amount: '-3.00', vat: VAT.normal }], [{ amount: '-3.00' }])
      await refused(
        { ...voided, cbPreviousReceiptReference: text(41) },
        'cbPreviousReceiptReference',
        /at most 40 characters \(it has 41\): DSFinV-K column REF_NAME of references\.csv/,
      )
      await refused(
        { ...voided, cbPreviousReceiptReference: ['R-1', text(41)] },
        'cbPreviousReceiptReference[1]',
        /REF_NAME of references\.csv/,
      )
      const fine = sale()
      ;(fine.cbChargeItems as Array<Record<string, unknown>>)[0]!.Quantity = '1.0005'
      await refused(
        fine,
        'cbChargeItems[0].Quantity',
        /at most 3 decimals: DSFinV-K column MENGE of lines\.csv/,
      )
      await refused(
        order(orderOf(1001)),
        'cbChargeItems',
        /processData \(Bestellung-V1\).*at most 1000 characters \(it has 1001\): DSFinV-K column TSE_VORGANGSDATEN of transactions_tse\.csv/,
      )
      // Kassenbeleg-V1 lists the payments per means and currency: 90 currencies make it too long.
      const codes = Array.from(
        { length: 90 },
        (_, i) => `A${String.fromCharCode(65 + Math.floor(i / 26))}${String.fromCharCode(65 + (i % 26))}`,
      )
      const many = deReceipt(
        DE_CASE.posImplicit,
        [{ amount: '0.90', vat: VAT.normal }],
        codes.map((currency) => ({ amount: '0.01', currency, quantity: 0.01 })),
      )
      await refused(many, 'cbPayItems', /processData \(Kassenbeleg-V1\).*DSFinV-K column TSE_VORGANGSDATEN/)
    })

    test('the length is counted in characters: lengths around the limit, any Unicode, refused exactly above it', async () => {
      const codePoint = fc.oneof(
        fc.constantFrom(0x22, 0x3b, 0x20),
        fc.integer({ min: 0x21, max: 0x7e }),
        fc.integer({ min: 0xa0, max: 0xd7ff }),
        fc.integer({ min: 0x10000, max: 0x10ffff }),
      )
      const around = (limit: number) =>
        fc
          .array(codePoint, { minLength: limit - 2, maxLength: limit + 2 })
          .map((cps) => String.fromCodePoint(...cps))
      await fc.assert(
        fc.asyncProperty(around(255), around(60), async (description, payName) => {
          const reply = await pos.sign(sale({}, description, payName))
          const fits = chars(description) <= 255 && chars(payName) <= 60
          assert.equal(reply.status, fits ? 200 : 400, reply.payload)
          if (fits) {
            accepted.description.push(description)
            accepted.payName.push(payName)
          }
        }),
        { numRuns: 40 },
      )
    })

    test('values at their limits are accepted, exported whole, and the export verifies', async () => {
      const description = text(255)
      const payName = text(60)
      const terminal = text(50)
      const external = text(40)
      await pos.signOk(sale({ cbTerminalID: terminal }, description, payName))
      const quantity = sale()
      ;(quantity.cbChargeItems as Array<Record<string, unknown>>)[0]!.Quantity = '1.125'
      await pos.signOk(quantity)
      await pos.signOk({
        ...deReceipt(DE_CASE.void, [{ amount: '-3.00', vat: VAT.normal }], [{ amount: '-3.00' }]),
        cbPreviousReceiptReference: external,
      })
      const atLimit = processDataOf(await pos.signOk(order(orderOf(1000))))
      assert.equal(chars(atLimit), 1000)
      assert.ok(atLimit.length > 1000, 'the astral character is two UTF-16 units')
      await pos.signOk(deReceipt(DE_CASE.daily))

      const tar = join(dir, `${engine}.tar`)
      const env = cliEnv({ DATABASE_URL: h.databaseUrl, FISCALBOX_DATA_DIR: h.dataDir })
      const exported = await runCli(['export', 'dsfinvk', '--cashbox', pos.box.cashboxId, '--out', tar], env)
      assert.equal(exported.code, 0, exported.stderr)
      const verified = await runCli(['verify', tar], env)
      assert.equal(verified.code, 0, verified.stdout + verified.stderr)
      const files = await untar(readFileSync(tar))
      checkAgainstSpec(files)

      const values = (file: string, column: string) => {
        const csv = parseCsv(files.get(file) as Buffer)
        return csv.rows.map((row) => row[csv.header.indexOf(column)])
      }
      const texts = values('lines.csv', 'ARTIKELTEXT')
      for (const d of [description, ...accepted.description])
        assert.ok(texts.includes(d), 'ARTIKELTEXT whole')
      const names = values('datapayment.csv', 'ZAHLART_NAME')
      for (const n of [payName, ...accepted.payName]) assert.ok(names.includes(n), 'ZAHLART_NAME whole')
      assert.ok(values('slaves.csv', 'TERMINAL_ID').includes(terminal))
      assert.ok(values('transactions.csv', 'TERMINAL_ID').includes(terminal))
      assert.ok(values('references.csv', 'REF_NAME').includes(external))
      assert.ok(values('lines.csv', 'MENGE').includes('1,125'))
      assert.ok(values('transactions_tse.csv', 'TSE_VORGANGSDATEN').includes(atLimit))
    })
  })
}
