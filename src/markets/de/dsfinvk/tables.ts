/**
 * The DSFinV-K tables (Digitale Schnittstelle der Finanzverwaltung für Kassensysteme, version 2.3): file
 * name, the GDPdU table name of index.xml, and the columns in their order with the type, MaxLength and
 * Accuracy that the index.xml published with the specification declares. Every table starts with the key
 * of its cash point closing (Z_KASSE_ID, Z_ERSTELLUNG, Z_NR). Section numbers are the specification's.
 */

/**
 * text: AlphaNumeric; flag: AlphaNumeric of length 1, "0" or "1"; timestamp: AlphaNumeric, local time
 * (Europe/Berlin) as RFC 3339 with its offset; day: AlphaNumeric YYYY-MM-DD; int: Numeric without
 * decimals; decimal: Numeric with `accuracy` decimals.
 */
export type ColumnType = 'text' | 'flag' | 'timestamp' | 'day' | 'int' | 'decimal'

export interface Column {
  name: string
  type: ColumnType
  /** AlphaNumeric types: the MaxLength index.xml declares (GDPdU readers cut longer values). */
  maxLength?: number
  /** decimal: the Accuracy (digits after the decimal comma). */
  accuracy?: number
}

export interface TableSpec {
  file: string
  name: string
  /** Where the specification defines the table. */
  section: string
  description: string
  /** How many leading columns form the table's primary key. */
  keyColumns: number
  columns: Column[]
}

const text = (name: string, maxLength: number): Column => ({ name, type: 'text', maxLength })
const flag = (name: string): Column => ({ name, type: 'flag', maxLength: 1 })
const timestamp = (name: string): Column => ({ name, type: 'timestamp', maxLength: 30 })
const int = (name: string): Column => ({ name, type: 'int' })
const decimal = (name: string, accuracy: number): Column => ({ name, type: 'decimal', accuracy })

const CLOSING_KEY: Column[] = [text('Z_KASSE_ID', 50), timestamp('Z_ERSTELLUNG'), int('Z_NR')]

const table = (
  file: string,
  name: string,
  section: string,
  description: string,
  extraKeys: Column[],
  columns: Column[],
): TableSpec => ({
  file,
  name,
  section,
  description,
  keyColumns: CLOSING_KEY.length + extraKeys.length,
  columns: [...CLOSING_KEY, ...extraKeys, ...columns],
})

const BON_ID = text('BON_ID', 40)
const POS_ZEILE = text('POS_ZEILE', 50)
/** DSFinV-K 2.1 and later: a certificate of up to 7000 base64 characters, 1000 per column. */
export const CERTIFICATE_COLUMNS = ['I', 'II', 'III', 'IV', 'V', 'VI', 'VII'].map((n) =>
  text(`TSE_ZERTIFIKAT_${n}`, 1000),
)

export const TABLES: TableSpec[] = [
  // Einzelaufzeichnungsmodul
  table(
    'lines.csv',
    'Bonpos',
    '3.1.1',
    'Bonpositionen',
    [BON_ID, POS_ZEILE],
    [
      text('GUTSCHEIN_NR', 50),
      text('ARTIKELTEXT', 255),
      text('POS_TERMINAL_ID', 50),
      text('GV_TYP', 30),
      text('GV_NAME', 40),
      flag('INHAUS'),
      flag('P_STORNO'),
      int('AGENTUR_ID'),
      text('ART_NR', 50),
      text('GTIN', 50),
      text('WARENGR_ID', 40),
      text('WARENGR', 50),
      decimal('MENGE', 3),
      decimal('FAKTOR', 3),
      text('EINHEIT', 50),
      decimal('STK_BR', 5),
    ],
  ),
  table(
    'lines_vat.csv',
    'Bonpos_USt',
    '3.1.1.1',
    'Bonpositionen USt',
    [BON_ID, POS_ZEILE],
    [int('UST_SCHLUESSEL'), decimal('POS_BRUTTO', 5), decimal('POS_NETTO', 5), decimal('POS_UST', 5)],
  ),
  table(
    'itemamounts.csv',
    'Bonpos_Preisfindung',
    '3.1.1.2',
    'Bonpositionen Preisfindung',
    [BON_ID, POS_ZEILE],
    [
      text('TYP', 20),
      int('UST_SCHLUESSEL'),
      decimal('PF_BRUTTO', 5),
      decimal('PF_NETTO', 5),
      decimal('PF_UST', 5),
    ],
  ),
  table(
    'subitems.csv',
    'Bonpos_Zusatzinfo',
    '3.1.1.3',
    'Bonpositionen Zusatzinformationen',
    [BON_ID, POS_ZEILE],
    [
      text('ZI_ART_NR', 50),
      text('ZI_GTIN', 50),
      text('ZI_NAME', 60),
      text('ZI_WARENGR_ID', 40),
      text('ZI_WARENGR', 50),
      decimal('ZI_MENGE', 3),
      decimal('ZI_FAKTOR', 3),
      text('ZI_EINHEIT', 50),
      int('ZI_UST_SCHLUESSEL'),
      decimal('ZI_BASISPREIS_BRUTTO', 5),
      decimal('ZI_BASISPREIS_NETTO', 5),
      decimal('ZI_BASISPREIS_UST', 5),
    ],
  ),
  table(
    'transactions.csv',
    'Bonkopf',
    '3.1.2',
    'Bonkopf',
    [BON_ID],
    [
      int('BON_NR'),
      text('BON_TYP', 30),
      text('BON_NAME', 60),
      text('TERMINAL_ID', 50),
      flag('BON_STORNO'),
      timestamp('BON_START'),
      timestamp('BON_ENDE'),
      text('BEDIENER_ID', 50),
      text('BEDIENER_NAME', 50),
      decimal('UMS_BRUTTO', 2),
      text('KUNDE_NAME', 50),
      text('KUNDE_ID', 50),
      text('KUNDE_TYP', 50),
      text('KUNDE_STRASSE', 60),
      text('KUNDE_PLZ', 10),
      text('KUNDE_ORT', 62),
      text('KUNDE_LAND', 3),
      text('KUNDE_USTID', 15),
      text('BON_NOTIZ', 255),
    ],
  ),
  table(
    'transactions_vat.csv',
    'Bonkopf_USt',
    '3.1.2.1',
    'Bonkopf USt',
    [BON_ID, int('UST_SCHLUESSEL')],
    [decimal('BON_BRUTTO', 5), decimal('BON_NETTO', 5), decimal('BON_UST', 5)],
  ),
  table(
    'allocation_groups.csv',
    'Bonkopf_AbrKreis',
    '3.1.2.2',
    'Bonkopf Abrechnungskreise',
    [BON_ID],
    [text('ABRECHNUNGSKREIS', 50)],
  ),
  table(
    'datapayment.csv',
    'Bonkopf_Zahlarten',
    '3.1.2.3',
    'Bonkopf Zahlarten',
    [BON_ID],
    [
      text('ZAHLART_TYP', 25),
      text('ZAHLART_NAME', 60),
      text('ZAHLWAEH_CODE', 3),
      decimal('ZAHLWAEH_BETRAG', 2),
      decimal('BASISWAEH_BETRAG', 2),
    ],
  ),
  table(
    'references.csv',
    'Bon_Referenzen',
    '3.1.2.4',
    'Bon Referenzen',
    [BON_ID, POS_ZEILE],
    [
      text('REF_TYP', 20),
      text('REF_NAME', 40),
      timestamp('REF_DATUM'),
      text('REF_Z_KASSE_ID', 50),
      int('REF_Z_NR'),
      text('REF_BON_ID', 40),
    ],
  ),
  table(
    'transactions_tse.csv',
    'TSE_Transaktionen',
    '3.1.2.5',
    'TSE Transaktionen',
    [BON_ID, int('TSE_ID')],
    [
      int('TSE_TANR'),
      // The TSE's own log times, UTC as the TSE signed them (YYYY-MM-DDThh:mm:ss.fffZ), not local time.
      text('TSE_TA_START', 30),
      text('TSE_TA_ENDE', 30),
      text('TSE_TA_VORGANGSART', 30),
      int('TSE_TA_SIGZ'),
      text('TSE_TA_SIG', 512),
      text('TSE_TA_FEHLER', 200),
      text('TSE_VORGANGSDATEN', 1000),
    ],
  ),
  // Stammdatenmodul
  table(
    'cashpointclosing.csv',
    'Stamm_Abschluss',
    '3.2.1',
    'Stammdaten Kassenabschluss',
    [],
    [
      { name: 'Z_BUCHUNGSTAG', type: 'day', maxLength: 25 },
      text('TAXONOMIE_VERSION', 10),
      text('Z_START_ID', 40),
      text('Z_ENDE_ID', 40),
      text('NAME', 60),
      text('STRASSE', 60),
      text('PLZ', 10),
      text('ORT', 62),
      text('LAND', 3),
      text('STNR', 20),
      text('USTID', 15),
      decimal('Z_SE_ZAHLUNGEN', 2),
      decimal('Z_SE_BARZAHLUNGEN', 2),
    ],
  ),
  table(
    'location.csv',
    'Stamm_Orte',
    '3.2.2',
    'Stammdaten Orte',
    [],
    [
      text('LOC_NAME', 60),
      text('LOC_STRASSE', 60),
      text('LOC_PLZ', 10),
      text('LOC_ORT', 62),
      text('LOC_LAND', 3),
      text('LOC_USTID', 15),
    ],
  ),
  table(
    'cashregister.csv',
    'Stamm_Kassen',
    '3.2.3',
    'Stammdaten Kassen',
    [],
    [
      text('KASSE_BRAND', 50),
      text('KASSE_MODELL', 50),
      text('KASSE_SERIENNR', 70),
      text('KASSE_SW_BRAND', 50),
      text('KASSE_SW_VERSION', 50),
      text('KASSE_BASISWAEH_CODE', 3),
      flag('KEINE_UST_ZUORDNUNG'),
    ],
  ),
  table(
    'slaves.csv',
    'Stamm_Terminals',
    '3.2.4',
    'Stammdaten Terminals',
    [text('TERMINAL_ID', 50)],
    [
      text('TERMINAL_BRAND', 50),
      text('TERMINAL_MODELL', 50),
      text('TERMINAL_SERIENNR', 70),
      text('TERMINAL_SW_BRAND', 50),
      text('TERMINAL_SW_VERSION', 50),
    ],
  ),
  table(
    'pa.csv',
    'Stamm_Agenturen',
    '3.2.5',
    'Stammdaten Agenturen',
    [int('AGENTUR_ID')],
    [
      text('AGENTUR_NAME', 60),
      text('AGENTUR_STRASSE', 60),
      text('AGENTUR_PLZ', 10),
      text('AGENTUR_ORT', 62),
      text('AGENTUR_LAND', 3),
      text('AGENTUR_STNR', 20),
      text('AGENTUR_USTID', 15),
    ],
  ),
  table(
    'vat.csv',
    'Stamm_USt',
    '3.2.6',
    'Stammdaten Umsatzsteuer',
    [int('UST_SCHLUESSEL')],
    [decimal('UST_SATZ', 2), text('UST_BESCHR', 55)],
  ),
  table(
    'tse.csv',
    'Stamm_TSE',
    '3.2.7',
    'Stammdaten TSE',
    [int('TSE_ID')],
    [
      text('TSE_SERIAL', 68),
      text('TSE_SIG_ALGO', 21),
      text('TSE_ZEITFORMAT', 31),
      text('TSE_PD_ENCODING', 5),
      text('TSE_PUBLIC_KEY', 512),
      ...CERTIFICATE_COLUMNS,
    ],
  ),
  // Kassenabschlussmodul
  table(
    'businesscases.csv',
    'Z_GV_Typ',
    '3.3.1',
    'Kassenabschluss Geschäftsvorfälle',
    [text('GV_TYP', 30), text('GV_NAME', 40), int('AGENTUR_ID'), int('UST_SCHLUESSEL')],
    [decimal('Z_UMS_BRUTTO', 5), decimal('Z_UMS_NETTO', 5), decimal('Z_UST', 5)],
  ),
  table(
    'payment.csv',
    'Z_Zahlart',
    '3.3.2',
    'Kassenabschluss Zahlarten',
    [text('ZAHLART_TYP', 25), text('ZAHLART_NAME', 60)],
    [decimal('Z_ZAHLART_BETRAG', 2)],
  ),
  table(
    'cash_per_currency.csv',
    'Z_Waehrungen',
    '3.3.3',
    'Kassenabschluss Bargeld nach Währungen',
    [text('ZAHLART_WAEH', 3)],
    [decimal('ZAHLART_BETRAG_WAEH', 2)],
  ),
]
