import { wallClockFormat } from '../core/wall-clock.ts'

/** Receipt languages: the market's language, English for countries without one of their own. */
export type Language = 'de' | 'en' | 'es' | 'it' | 'fr' | 'pt'

export interface Labels {
  receipt: string
  invoice: string
  training: string
  void: string
  refund: string
  /** A reprint of a receipt (copy receipt 0x3010). */
  duplicate: string
  date: string
  receiptNumber: string
  reference: string
  cashRegister: string
  terminal: string
  item: string
  quantity: string
  amount: string
  total: string
  vat: string
  rate: string
  net: string
  gross: string
  payments: string
  customer: string
  signature: string
  queueRow: string
  print: string
  pdf: string
  markReceived: string
  received: string
}

const LABELS: Record<Language, Labels> = {
  en: {
    receipt: 'Receipt',
    invoice: 'Invoice',
    training: 'TRAINING - not a fiscal sale',
    void: 'VOID',
    refund: 'REFUND',
    duplicate: 'COPY',
    date: 'Date',
    receiptNumber: 'Receipt no.',
    reference: 'Reference',
    cashRegister: 'Cash register',
    terminal: 'Terminal',
    item: 'Item',
    quantity: 'Qty',
    amount: 'Amount',
    total: 'Total',
    vat: 'VAT',
    rate: 'Rate',
    net: 'Net',
    gross: 'Gross',
    payments: 'Payment',
    customer: 'Customer',
    signature: 'Signature',
    queueRow: 'Queue row',
    print: 'Print',
    pdf: 'PDF',
    markReceived: 'Mark as received',
    received: 'Received',
  },
  de: {
    receipt: 'Beleg',
    invoice: 'Rechnung',
    training: 'TRAINING - kein steuerlicher Umsatz',
    void: 'STORNO',
    refund: 'RÜCKGABE',
    duplicate: 'KOPIE',
    date: 'Datum',
    receiptNumber: 'Beleg-Nr.',
    reference: 'Referenz',
    cashRegister: 'Kasse',
    terminal: 'Terminal',
    item: 'Artikel',
    quantity: 'Menge',
    amount: 'Betrag',
    total: 'Summe',
    vat: 'MwSt.',
    rate: 'Satz',
    net: 'Netto',
    gross: 'Brutto',
    payments: 'Zahlung',
    customer: 'Kunde',
    signature: 'Signatur',
    queueRow: 'Queue-Zeile',
    print: 'Drucken',
    pdf: 'PDF',
    markReceived: 'Als erhalten markieren',
    received: 'Erhalten',
  },
  es: {
    receipt: 'Ticket',
    invoice: 'Factura',
    training: 'FORMACIÓN - sin valor fiscal',
    void: 'ANULADO',
    refund: 'DEVOLUCIÓN',
    duplicate: 'COPIA',
    date: 'Fecha',
    receiptNumber: 'N.º de ticket',
    reference: 'Referencia',
    cashRegister: 'Caja',
    terminal: 'Terminal',
    item: 'Artículo',
    quantity: 'Cant.',
    amount: 'Importe',
    total: 'Total',
    vat: 'IVA',
    rate: 'Tipo',
    net: 'Base',
    gross: 'Total',
    payments: 'Pago',
    customer: 'Cliente',
    signature: 'Firma',
    queueRow: 'Fila de cola',
    print: 'Imprimir',
    pdf: 'PDF',
    markReceived: 'Marcar como recibido',
    received: 'Recibido',
  },
  it: {
    receipt: 'Documento commerciale',
    invoice: 'Fattura',
    training: 'PROVA - non fiscale',
    void: 'ANNULLO',
    refund: 'RESO',
    duplicate: 'COPIA',
    date: 'Data',
    receiptNumber: 'Documento n.',
    reference: 'Riferimento',
    cashRegister: 'Cassa',
    terminal: 'Terminale',
    item: 'Articolo',
    quantity: 'Qtà',
    amount: 'Importo',
    total: 'Totale',
    vat: 'IVA',
    rate: 'Aliquota',
    net: 'Imponibile',
    gross: 'Totale',
    payments: 'Pagamento',
    customer: 'Cliente',
    signature: 'Firma',
    queueRow: 'Riga coda',
    print: 'Stampa',
    pdf: 'PDF',
    markReceived: 'Segna come ricevuto',
    received: 'Ricevuto',
  },
  fr: {
    receipt: 'Ticket',
    invoice: 'Facture',
    training: 'FORMATION - sans valeur fiscale',
    void: 'ANNULATION',
    refund: 'REMBOURSEMENT',
    duplicate: 'DUPLICATA',
    date: 'Date',
    receiptNumber: 'Ticket n°',
    reference: 'Référence',
    cashRegister: 'Caisse',
    terminal: 'Terminal',
    item: 'Article',
    quantity: 'Qté',
    amount: 'Montant',
    total: 'Total',
    vat: 'TVA',
    rate: 'Taux',
    net: 'HT',
    gross: 'TTC',
    payments: 'Paiement',
    customer: 'Client',
    signature: 'Signature',
    queueRow: 'Ligne de file',
    print: 'Imprimer',
    pdf: 'PDF',
    markReceived: 'Marquer comme reçu',
    received: 'Reçu',
  },
  pt: {
    receipt: 'Talão',
    invoice: 'Fatura',
    training: 'FORMAÇÃO - sem valor fiscal',
    void: 'ANULADO',
    refund: 'DEVOLUÇÃO',
    duplicate: 'SEGUNDA VIA',
    date: 'Data',
    receiptNumber: 'Talão n.º',
    reference: 'Referência',
    cashRegister: 'Caixa',
    terminal: 'Terminal',
    item: 'Artigo',
    quantity: 'Qtd.',
    amount: 'Valor',
    total: 'Total',
    vat: 'IVA',
    rate: 'Taxa',
    net: 'Base',
    gross: 'Total',
    payments: 'Pagamento',
    customer: 'Cliente',
    signature: 'Assinatura',
    queueRow: 'Linha da fila',
    print: 'Imprimir',
    pdf: 'PDF',
    markReceived: 'Marcar como recebido',
    received: 'Recebido',
  },
}

interface Locale {
  language: Language
  timeZone: string
  /** Receipts show local time: the market's legal time zone. */
  dateOrder: 'dmy.' | 'dmy/'
}

const MARKETS: Record<string, Locale> = {
  DE: { language: 'de', timeZone: 'Europe/Berlin', dateOrder: 'dmy.' },
  AT: { language: 'de', timeZone: 'Europe/Vienna', dateOrder: 'dmy.' },
  ES: { language: 'es', timeZone: 'Europe/Madrid', dateOrder: 'dmy/' },
  IT: { language: 'it', timeZone: 'Europe/Rome', dateOrder: 'dmy/' },
  FR: { language: 'fr', timeZone: 'Europe/Paris', dateOrder: 'dmy/' },
  PT: { language: 'pt', timeZone: 'Europe/Lisbon', dateOrder: 'dmy/' },
}

export const localeOf = (country: string): Locale =>
  MARKETS[country] ?? { language: 'en', timeZone: 'UTC', dateOrder: 'dmy/' }

export const labelsOf = (language: Language): Labels => LABELS[language]

/** "21.11.2026 20:59:43" in the market's time zone; "UTC" is named where it is not a local time. */
export function formatMoment(iso: string, locale: Locale): string {
  const parts = Object.fromEntries(
    wallClockFormat(locale.timeZone)
      .formatToParts(new Date(iso))
      .map((p) => [p.type, p.value]),
  )
  const separator = locale.dateOrder === 'dmy.' ? '.' : '/'
  const zone = locale.timeZone === 'UTC' ? ' UTC' : ''
  return `${parts.day}${separator}${parts.month}${separator}${parts.year} ${parts.hour}:${parts.minute}:${parts.second}${zone}`
}

/** Decimal text in the language's notation: "12.50" -> "12,50" except in English. */
export const localDecimal = (text: string, language: Language): string =>
  language === 'en' ? text : text.replace('.', ',')
