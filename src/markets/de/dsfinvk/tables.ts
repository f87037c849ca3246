/**
 * The DSFinV-K tables (Digitale Schnittstelle der Finanzverwaltung für Kassensysteme): file name, the
 * GDPdU table name of index.xml, and the columns in their order with their types. Every table starts
 * with the key of its cash point closing (Z_KASSE_ID, Z_ERSTELLUNG, Z_NR).
 */

/** text: AlphaNumeric; int: Numeric without decimals; amount: 2 decimals; quantity: 3; timestamp/day: Date. */
export type ColumnType = 'text' | 'int' | 'amount' | 'quantity' | 'timestamp' | 'day'

export interface TableSpec {
  file: string
  name: string
  description: string
  /** How many leading columns form the table's primary key. */
  keyColumns: number
  columns: Array<[string, ColumnType]>
}

const CLOSING_KEY: Array<[string, ColumnType]> = [
  ['Z_KASSE_ID', 'text'],
  ['Z_ERSTELLUNG', 'timestamp'],
  ['Z_NR', 'int'],
]

const table = (
  file: string,
  name: string,
  description: string,
  extraKeys: Array<[string, ColumnType]>,
  columns: Array<[string, ColumnType]>,
): TableSpec => ({
  file,
  name,
  description,
  keyColumns: CLOSING_KEY.length + extraKeys.length,
  columns: [...CLOSING_KEY, ...extraKeys, ...columns],
})

const text = (...names: string[]): Array<[string, ColumnType]> => names.map((n) => [n, 'text'])

export const TABLES: TableSpec[] = [
  // Einzelaufzeichnungsmodul
  table(
    'lines.csv',
    'Bonpos',
    'Bonpositionen',
    [
      ['BON_ID', 'text'],
      ['POS_ZEILE', 'text'],
    ],
    [
      ...text('GUTSCHEIN_NR', 'ARTIKELTEXT', 'POS_TERMINAL_ID', 'GV_TYP', 'GV_NAME'),
      ['INHAUS', 'int'],
      ['P_STORNO', 'int'],
      ...text('AGENTUR_ID', 'ART_NR', 'GTIN', 'WARENGR_ID', 'WARENGR'),
      ['MENGE', 'quantity'],
      ['FAKTOR', 'quantity'],
      ['EINHEIT', 'text'],
      ['STK_BR', 'amount'],
    ],
  ),
  table(
    'lines_vat.csv',
    'Bonpos_USt',
    'Bonpositionen USt',
    [
      ['BON_ID', 'text'],
      ['POS_ZEILE', 'text'],
    ],
    [
      ['UST_SCHLUESSEL', 'int'],
      ['POS_BRUTTO', 'amount'],
      ['POS_NETTO', 'amount'],
      ['POS_UST', 'amount'],
    ],
  ),
  table(
    'itemamounts.csv',
    'Bonpos_Preisfindung',
    'Bonpositionen Preisfindung',
    [
      ['BON_ID', 'text'],
      ['POS_ZEILE', 'text'],
    ],
    [
      ['TYP', 'text'],
      ['UST_SCHLUESSEL', 'int'],
      ['PF_BRUTTO', 'amount'],
      ['PF_NETTO', 'amount'],
      ['PF_UST', 'amount'],
    ],
  ),
  table(
    'subitems.csv',
    'Bonpos_Zusatzinfo',
    'Bonpositionen Zusatzinformationen',
    [
      ['BON_ID', 'text'],
      ['POS_ZEILE', 'text'],
    ],
    [
      ...text('ZI_ART_NR', 'ZI_GTIN', 'ZI_NAME', 'ZI_WARENGR_ID', 'ZI_WARENGR'),
      ['ZI_MENGE', 'quantity'],
      ['ZI_FAKTOR', 'quantity'],
      ['ZI_EINHEIT', 'text'],
      ['ZI_UST_SCHLUESSEL', 'int'],
      ['ZI_BASISPREIS_BRUTTO', 'amount'],
      ['ZI_BASISPREIS_NETTO', 'amount'],
      ['ZI_BASISPREIS_UST', 'amount'],
    ],
  ),
  table(
    'transactions.csv',
    'Bonkopf',
    'Bonkopf',
    [['BON_ID', 'text']],
    [
      ['BON_NR', 'int'],
      ...text('BON_TYP', 'BON_NAME', 'TERMINAL_ID'),
      ['BON_STORNO', 'int'],
      ['BON_START', 'timestamp'],
      ['BON_ENDE', 'timestamp'],
      ...text('BEDIENER_ID', 'BEDIENER_NAME'),
      ['UMS_BRUTTO', 'amount'],
      ...text('KUNDE_NAME', 'KUNDE_ID', 'KUNDE_TYP', 'KUNDE_STRASSE', 'KUNDE_PLZ', 'KUNDE_ORT', 'KUNDE_LAND'),
      ...text('KUNDE_USTID', 'BON_NOTIZ'),
    ],
  ),
  table(
    'transactions_vat.csv',
    'Bonkopf_USt',
    'Bonkopf USt',
    [
      ['BON_ID', 'text'],
      ['UST_SCHLUESSEL', 'int'],
    ],
    [
      ['BON_BRUTTO', 'amount'],
      ['BON_NETTO', 'amount'],
      ['BON_UST', 'amount'],
    ],
  ),
  table(
    'allocation_groups.csv',
    'Bonkopf_AbrKreis',
    'Bonkopf Abrechnungskreise',
    [['BON_ID', 'text']],
    text('ABRECHNUNGSKREIS'),
  ),
  table(
    'datapayment.csv',
    'Bonkopf_Zahlarten',
    'Bonkopf Zahlarten',
    [['BON_ID', 'text']],
    [
      ...text('ZAHLART_TYP', 'ZAHLART_NAME', 'ZAHLWAEH_CODE'),
      ['ZAHLWAEH_BETRAG', 'amount'],
      ['BASISWAEH_BETRAG', 'amount'],
    ],
  ),
  table(
    'references.csv',
    'Bon_Referenzen',
    'Bon Referenzen',
    [
      ['BON_ID', 'text'],
      ['POS_ZEILE', 'text'],
    ],
    [
      ...text('REF_TYP', 'REF_NAME'),
      ['REF_DATUM', 'timestamp'],
      ['REF_Z_KASSE_ID', 'text'],
      ['REF_Z_NR', 'int'],
      ['REF_BON_ID', 'text'],
    ],
  ),
  table(
    'transactions_tse.csv',
    'TSE_Transaktionen',
    'TSE Transaktionen',
    [
      ['BON_ID', 'text'],
      ['TSE_ID', 'int'],
    ],
    [
      ['TSE_TANR', 'int'],
      ['TSE_TA_START', 'text'],
      ['TSE_TA_ENDE', 'text'],
      ['TSE_TA_VORGANGSART', 'text'],
      ['TSE_TA_SIGZ', 'int'],
      ['TSE_TA_SIG', 'text'],
      ['TSE_TA_FEHLER', 'text'],
      ['TSE_VORGANGSDATEN', 'text'],
    ],
  ),
  // Stammdatenmodul
  table(
    'cashpointclosing.csv',
    'Stamm_Abschluss',
    'Stammdaten Kassenabschluss',
    [],
    [
      ['Z_BUCHUNGSTAG', 'day'],
      ...text(
        'TAXONOMIE_VERSION',
        'Z_START_ID',
        'Z_ENDE_ID',
        'NAME',
        'STRASSE',
        'PLZ',
        'ORT',
        'LAND',
        'STNR',
        'USTID',
      ),
      ['Z_SE_ZAHLUNGEN', 'amount'],
      ['Z_SE_BARZAHLUNGEN', 'amount'],
    ],
  ),
  table(
    'location.csv',
    'Stamm_Orte',
    'Stammdaten Orte',
    [],
    text('LOC_NAME', 'LOC_STRASSE', 'LOC_PLZ', 'LOC_ORT', 'LOC_LAND', 'LOC_USTID'),
  ),
  table(
    'cashregister.csv',
    'Stamm_Kassen',
    'Stammdaten Kassen',
    [],
    [
      ...text(
        'KASSE_BRAND',
        'KASSE_MODELL',
        'KASSE_SERIENNR',
        'KASSE_SW_BRAND',
        'KASSE_SW_VERSION',
        'KASSE_BASISWAEH_CODE',
      ),
      ['KEINE_UST_ZUORDNUNG', 'int'],
    ],
  ),
  table(
    'slaves.csv',
    'Stamm_Terminals',
    'Stammdaten Terminals',
    [['TERMINAL_ID', 'text']],
    text(
      'TERMINAL_BRAND',
      'TERMINAL_MODELL',
      'TERMINAL_SERIENNR',
      'TERMINAL_SW_BRAND',
      'TERMINAL_SW_VERSION',
    ),
  ),
  table(
    'pa.csv',
    'Stamm_Agenturen',
    'Stammdaten Agenturen',
    [['AGENTUR_ID', 'int']],
    text(
      'AGENTUR_NAME',
      'AGENTUR_STRASSE',
      'AGENTUR_PLZ',
      'AGENTUR_ORT',
      'AGENTUR_LAND',
      'AGENTUR_STNR',
      'AGENTUR_USTID',
    ),
  ),
  table(
    'vat.csv',
    'Stamm_USt',
    'Stammdaten Umsatzsteuer',
    [['UST_SCHLUESSEL', 'int']],
    [
      ['UST_SATZ', 'amount'],
      ['UST_BESCHR', 'text'],
    ],
  ),
  table(
    'tse.csv',
    'Stamm_TSE',
    'Stammdaten TSE',
    [['TSE_ID', 'int']],
    [
      ...text(
        'TSE_SERIAL',
        'TSE_SIG_ALGO',
        'TSE_ZEITFORMAT',
        'TSE_PD_ENCODING',
        'TSE_PUBLIC_KEY',
        // DSFinV-K 2.1 and later: seven columns for a certificate of up to 7000 base64 characters.
        'TSE_ZERTIFIKAT_I',
        'TSE_ZERTIFIKAT_II',
        'TSE_ZERTIFIKAT_III',
        'TSE_ZERTIFIKAT_IV',
        'TSE_ZERTIFIKAT_V',
        'TSE_ZERTIFIKAT_VI',
        'TSE_ZERTIFIKAT_VII',
      ),
    ],
  ),
  // Kassenabschlussmodul
  table(
    'businesscases.csv',
    'Z_GV_Typ',
    'Kassenabschluss Geschäftsvorfälle',
    [
      ['GV_TYP', 'text'],
      ['GV_NAME', 'text'],
      ['AGENTUR_ID', 'int'],
      ['UST_SCHLUESSEL', 'int'],
    ],
    [
      ['Z_UMS_BRUTTO', 'amount'],
      ['Z_UMS_NETTO', 'amount'],
      ['Z_UST', 'amount'],
    ],
  ),
  table(
    'payment.csv',
    'Z_Zahlart',
    'Kassenabschluss Zahlarten',
    [
      ['ZAHLART_TYP', 'text'],
      ['ZAHLART_NAME', 'text'],
    ],
    [['Z_ZAHLART_BETRAG', 'amount']],
  ),
  table(
    'cash_per_currency.csv',
    'Z_Waehrungen',
    'Kassenabschluss Bargeld nach Währungen',
    [['ZAHLART_WAEH', 'text']],
    [['ZAHLART_BETRAG_WAEH', 'amount']],
  ),
]
