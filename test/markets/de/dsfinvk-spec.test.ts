import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { cliEnv, runCli } from '../../cli/cli-process.ts'
import { engines } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import { DE_CASE, DePos, deReceipt, PAY, parseCsv, untar, VAT } from './support.ts'

/**
 * Every DSFinV-K table, column by column, as DSFinV-K 2.3 defines it (section of the specification per
 * table) with the type, MaxLength and Accuracy of the index.xml published with it. Written out here from
 * those documents; pretix's python-dsfinvk names the same columns in the same order.
 *
 * Formats: A<n> AlphaNumeric of at most n characters; F flag (AlphaNumeric 1, "0" or "1"); T local time
 * with offset (AlphaNumeric 30); U a TSE log time, UTC with milliseconds (AlphaNumeric 30); D a day
 * (AlphaNumeric 25); N Numeric without decimals; N<k> Numeric with exactly k decimals.
 */
const KEY = ['Z_KASSE_ID:A50', 'Z_ERSTELLUNG:T', 'Z_NR:N']
const SPEC: Record<string, { section: string; name: string; columns: string[] }> = {
  'lines.csv': {
    section: '3.1.1',
    name: 'Bonpos',
    columns: [
      ...KEY,
      'BON_ID:A40',
      'POS_ZEILE:A50',
      'GUTSCHEIN_NR:A50',
      'ARTIKELTEXT:A255',
      'POS_TERMINAL_ID:A50',
      'GV_TYP:A30',
      'GV_NAME:A40',
      'INHAUS:F',
      'P_STORNO:F',
      'AGENTUR_ID:N',
      'ART_NR:A50',
      'GTIN:A50',
      'WARENGR_ID:A40',
      'WARENGR:A50',
      'MENGE:N3',
      'FAKTOR:N3',
      'EINHEIT:A50',
      'STK_BR:N5',
    ],
  },
  'lines_vat.csv': {
    section: '3.1.1.1',
    name: 'Bonpos_USt',
    columns: [
      ...KEY,
      'BON_ID:A40',
      'POS_ZEILE:A50',
      'UST_SCHLUESSEL:N',
      'POS_BRUTTO:N5',
      'POS_NETTO:N5',
      'POS_UST:N5',
    ],
  },
  'itemamounts.csv': {
    section: '3.1.1.2',
    name: 'Bonpos_Preisfindung',
    columns: [
      ...KEY,
      'BON_ID:A40',
      'POS_ZEILE:A50',
      'TYP:A20',
      'UST_SCHLUESSEL:N',
      'PF_BRUTTO:N5',
      'PF_NETTO:N5',
      'PF_UST:N5',
    ],
  },
  'subitems.csv': {
    section: '3.1.1.3',
    name: 'Bonpos_Zusatzinfo',
    columns: [
      ...KEY,
      'BON_ID:A40',
      'POS_ZEILE:A50',
      'ZI_ART_NR:A50',
      'ZI_GTIN:A50',
      'ZI_NAME:A60',
      'ZI_WARENGR_ID:A40',
      'ZI_WARENGR:A50',
      'ZI_MENGE:N3',
      'ZI_FAKTOR:N3',
      'ZI_EINHEIT:A50',
      'ZI_UST_SCHLUESSEL:N',
      'ZI_BASISPREIS_BRUTTO:N5',
      'ZI_BASISPREIS_NETTO:N5',
      'ZI_BASISPREIS_UST:N5',
    ],
  },
  'transactions.csv': {
    section: '3.1.2',
    name: 'Bonkopf',
    columns: [
      ...KEY,
      'BON_ID:A40',
      'BON_NR:N',
      'BON_TYP:A30',
      'BON_NAME:A60',
      'TERMINAL_ID:A50',
      'BON_STORNO:F',
      'BON_START:T',
      'BON_ENDE:T',
      'BEDIENER_ID:A50',
      'BEDIENER_NAME:A50',
      'UMS_BRUTTO:N2',
      'KUNDE_NAME:A50',
      'KUNDE_ID:A50',
      'KUNDE_TYP:A50',
      'KUNDE_STRASSE:A60',
      'KUNDE_PLZ:A10',
      'KUNDE_ORT:A62',
      'KUNDE_LAND:A3',
      'KUNDE_USTID:A15',
      'BON_NOTIZ:A255',
    ],
  },
  'transactions_vat.csv': {
    section: '3.1.2.1',
    name: 'Bonkopf_USt',
    columns: [...KEY, 'BON_ID:A40', 'UST_SCHLUESSEL:N', 'BON_BRUTTO:N5', 'BON_NETTO:N5', 'BON_UST:N5'],
  },
  'allocation_groups.csv': {
    section: '3.1.2.2',
    name: 'Bonkopf_AbrKreis',
    columns: [...KEY, 'BON_ID:A40', 'ABRECHNUNGSKREIS:A50'],
  },
  'datapayment.csv': {
    section: '3.1.2.3',
    name: 'Bonkopf_Zahlarten',
    columns: [
      ...KEY,
      'BON_ID:A40',
      'ZAHLART_TYP:A25',
      'ZAHLART_NAME:A60',
      'ZAHLWAEH_CODE:A3',
      'ZAHLWAEH_BETRAG:N2',
      'BASISWAEH_BETRAG:N2',
    ],
  },
  'references.csv': {
    section: '3.1.2.4',
    name: 'Bon_Referenzen',
    columns: [
      ...KEY,
      'BON_ID:A40',
      'POS_ZEILE:A50',
      'REF_TYP:A20',
      'REF_NAME:A40',
      'REF_DATUM:T',
      'REF_Z_KASSE_ID:A50',
      'REF_Z_NR:N',
      'REF_BON_ID:A40',
    ],
  },
  'transactions_tse.csv': {
    section: '3.1.2.5',
    name: 'TSE_Transaktionen',
    columns: [
      ...KEY,
      'BON_ID:A40',
      'TSE_ID:N',
      'TSE_TANR:N',
      'TSE_TA_START:U',
      'TSE_TA_ENDE:U',
      'TSE_TA_VORGANGSART:A30',
      'TSE_TA_SIGZ:N',
      'TSE_TA_SIG:A512',
      'TSE_TA_FEHLER:A200',
      'TSE_VORGANGSDATEN:A1000',
    ],
  },
  'cashpointclosing.csv': {
    section: '3.2.1',
    name: 'Stamm_Abschluss',
    columns: [
      ...KEY,
      'Z_BUCHUNGSTAG:D',
      'TAXONOMIE_VERSION:A10',
      'Z_START_ID:A40',
      'Z_ENDE_ID:A40',
      'NAME:A60',
      'STRASSE:A60',
      'PLZ:A10',
      'ORT:A62',
      'LAND:A3',
      'STNR:A20',
      'USTID:A15',
      'Z_SE_ZAHLUNGEN:N2',
      'Z_SE_BARZAHLUNGEN:N2',
    ],
  },
  'location.csv': {
    section: '3.2.2',
    name: 'Stamm_Orte',
    columns: [
      ...KEY,
      'LOC_NAME:A60',
      'LOC_STRASSE:A60',
      'LOC_PLZ:A10',
      'LOC_ORT:A62',
      'LOC_LAND:A3',
      'LOC_USTID:A15',
    ],
  },
  'cashregister.csv': {
    section: '3.2.3',
    name: 'Stamm_Kassen',
    columns: [
      ...KEY,
      'KASSE_BRAND:A50',
      'KASSE_MODELL:A50',
      'KASSE_SERIENNR:A70',
      'KASSE_SW_BRAND:A50',
      'KASSE_SW_VERSION:A50',
      'KASSE_BASISWAEH_CODE:A3',
      'KEINE_UST_ZUORDNUNG:F',
    ],
  },
  'slaves.csv': {
    section: '3.2.4',
    name: 'Stamm_Terminals',
    columns: [
      ...KEY,
      'TERMINAL_ID:A50',
      'TERMINAL_BRAND:A50',
      'TERMINAL_MODELL:A50',
      'TERMINAL_SERIENNR:A70',
      'TERMINAL_SW_BRAND:A50',
      'TERMINAL_SW_VERSION:A50',
    ],
  },
  'pa.csv': {
    section: '3.2.5',
    name: 'Stamm_Agenturen',
    columns: [
      ...KEY,
      'AGENTUR_ID:N',
      'AGENTUR_NAME:A60',
      'AGENTUR_STRASSE:A60',
      'AGENTUR_PLZ:A10',
      'AGENTUR_ORT:A62',
      'AGENTUR_LAND:A3',
      'AGENTUR_STNR:A20',
      'AGENTUR_USTID:A15',
    ],
  },
  'vat.csv': {
    section: '3.2.6',
    name: 'Stamm_USt',
    columns: [...KEY, 'UST_SCHLUESSEL:N', 'UST_SATZ:N2', 'UST_BESCHR:A55'],
  },
  'tse.csv': {
    section: '3.2.7 (TSE_ZERTIFIKAT_III to _VII since 2.1)',
    name: 'Stamm_TSE',
    columns: [
      ...KEY,
      'TSE_ID:N',
      'TSE_SERIAL:A68',
      'TSE_SIG_ALGO:A21',
      'TSE_ZEITFORMAT:A31',
      'TSE_PD_ENCODING:A5',
      'TSE_PUBLIC_KEY:A512',
      'TSE_ZERTIFIKAT_I:A1000',
      'TSE_ZERTIFIKAT_II:A1000',
      'TSE_ZERTIFIKAT_III:A1000',
      'TSE_ZERTIFIKAT_IV:A1000',
      'TSE_ZERTIFIKAT_V:A1000',
      'TSE_ZERTIFIKAT_VI:A1000',
      'TSE_ZERTIFIKAT_VII:A1000',
    ],
  },
  'businesscases.csv': {
    section: '3.3.1',
    name: 'Z_GV_Typ',
    columns: [
      ...KEY,
      'GV_TYP:A30',
      'GV_NAME:A40',
      'AGENTUR_ID:N',
      'UST_SCHLUESSEL:N',
      'Z_UMS_BRUTTO:N5',
      'Z_UMS_NETTO:N5',
      'Z_UST:N5',
    ],
  },
  'payment.csv': {
    section: '3.3.2',
    name: 'Z_Zahlart',
    columns: [...KEY, 'ZAHLART_TYP:A25', 'ZAHLART_NAME:A60', 'Z_ZAHLART_BETRAG:N2'],
  },
  'cash_per_currency.csv': {
    section: '3.3.3',
    name: 'Z_Waehrungen',
    columns: [...KEY, 'ZAHLART_WAEH:A3', 'ZAHLART_BETRAG_WAEH:N2'],
  },
}

/** The declaration index.xml must carry for a format (gdpdu-01-09-2004.dtd: type, then MaxLength). */
function declared(format: string): string {
  const length = { T: 30, U: 30, D: 25, F: 1 }[format]
  if (length) return `<AlphaNumeric/><MaxLength>${length}</MaxLength>`
  if (format.startsWith('A')) return `<AlphaNumeric/><MaxLength>${format.slice(1)}</MaxLength>`
  if (format === 'N') return '<Numeric/>'
  return `<Numeric><Accuracy>${format.slice(1)}</Accuracy></Numeric>`
}

/** German summer time (EU rule): from 01:00 UTC on the last Sunday of March to that of October. */
function berlinOffset(instant: number): string {
  const year = new Date(instant).getUTCFullYear()
  const lastSunday = (month: number) => {
    const day = new Date(Date.UTC(year, month + 1, 0, 1))
    return day.getTime() - day.getUTCDay() * 86_400_000
  }
  return instant >= lastSunday(2) && instant < lastSunday(9) ? '+02:00' : '+01:00'
}

const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}([+-]\d{2}:\d{2})$/

/** Why a cell breaks its column's format, or undefined when it does not. */
function formatError(format: string, value: string, quoted: boolean): string | undefined {
  if (value === '') return undefined
  const alphaNumeric = !format.startsWith('N')
  if (alphaNumeric !== quoted) return alphaNumeric ? 'text must be quoted' : 'numbers are not quoted'
  switch (format) {
    case 'T': {
      const offset = LOCAL_TIME.exec(value)?.[1]
      if (!offset) return 'not a local time with offset (YYYY-MM-DDThh:mm:ss+hh:mm)'
      const instant = Date.parse(value)
      return offset === berlinOffset(instant)
        ? undefined
        : `offset is not Berlin's (${berlinOffset(instant)})`
    }
    case 'U':
      return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(value) ? undefined : 'not a UTC TSE time'
    case 'D':
      return /^\d{4}-\d{2}-\d{2}$/.test(value) ? undefined : 'not YYYY-MM-DD'
    case 'F':
      return value === '0' || value === '1' ? undefined : 'not 0 or 1'
    case 'N':
      return /^-?\d+$/.test(value) ? undefined : 'not an integer'
  }
  if (format.startsWith('N'))
    return new RegExp(`^-?\\d+,\\d{${format.slice(1)}}$`).test(value)
      ? undefined
      : `not a decimal comma with ${format.slice(1)} decimals`
  return [...value].length <= Number(format.slice(1)) ? undefined : `longer than ${format.slice(1)}`
}

/** Checks every table's header, index.xml declaration and cell formats against SPEC. */
function checkAgainstSpec(files: Map<string, Buffer>): void {
  assert.deepEqual([...files.keys()].sort(), ['index.xml', ...Object.keys(SPEC)].sort())
  const index = (files.get('index.xml') as Buffer).toString('utf8')
  for (const [file, spec] of Object.entries(SPEC)) {
    const where = `${file} (DSFinV-K ${spec.section} ${spec.name})`
    const names = spec.columns.map((c) => c.split(':')[0] as string)
    const formats = spec.columns.map((c) => c.split(':')[1] as string)
    const csv = parseCsv(files.get(file) as Buffer)
    assert.deepEqual(csv.header, names, `${where}: header row`)

    const block = index.split('<Table>').find((t) => t.includes(`<URL>${file}</URL>`)) as string
    assert.ok(block, `${where}: in index.xml`)
    assert.ok(block.includes(`<Name>${spec.name}</Name>`), `${where}: table name in index.xml`)
    const declarations = [...block.matchAll(/<Variable\w+><Name>([^<]+)<\/Name>(.*?)<\/Variable\w+>/g)]
    assert.deepEqual(
      declarations.map((d) => `${d[1]} ${d[2]}`),
      names.map((name, i) => `${name} ${declared(formats[i] as string)}`),
      `${where}: index.xml columns`,
    )

    csv.rows.forEach((row, r) => {
      assert.equal(row.length, names.length, `${where} row ${r + 1}: every column`)
      row.forEach((value, c) => {
        const error = formatError(formats[c] as string, value, csv.quoted[r]?.[c] as boolean)
        assert.equal(error, undefined, `${where} row ${r + 1} ${names[c]} = ${JSON.stringify(value)}`)
      })
    })
  }
}

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
