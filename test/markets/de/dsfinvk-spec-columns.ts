import assert from 'node:assert/strict'
import { parseCsv } from './support.ts'

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
export const SPEC: Record<string, { section: string; name: string; columns: string[] }> = {
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
export function formatError(format: string, value: string, quoted: boolean): string | undefined {
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
export function checkAgainstSpec(files: Map<string, Buffer>): void {
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
