import { caseOf, hasFlag, parseCaseCode, ReceiptFlag, receiptType } from '../core/case-codes.ts'
import { formatDecimal, includedVat, type Micros, parseDecimal } from '../core/money.ts'
import { formatMoment, type Labels, labelsOf, type Language, localDecimal, localeOf } from './language.ts'

/**
 * Everything a receipt shows, in one model that the HTML, PDF, text and ESC/POS renderers all draw from,
 * so the four cannot disagree. It is built only from what the journal stores for the receipt (the
 * signed request and response), never from what a POS sends later, so a receipt re-renders identically.
 */
export interface ReceiptDocument {
  language: Language
  labels: Labels
  country: string
  issuer: string
  title: string
  /** TRAINING, VOID, REFUND, DUPLICATE banners. */
  marks: string[]
  facts: Array<{ label: string; value: string }>
  lines: Array<{ description: string; quantity: string; amount: string; vatLetter: string }>
  total: string
  currency: string
  vat: Array<{ letter: string; rate: string; net: string; vat: string; gross: string }>
  payments: Array<{ description: string; amount: string; detail?: string }>
  customer: string[]
  /** The market's QR codes (ftSignatureFormat 0x3), payload exactly as signed. */
  qrCodes: Array<{ caption: string; payload: string }>
  /** Other signature items to print as text. */
  texts: Array<{ caption: string; data: string }>
  footer: string[]
}

/** What the journal holds for an issued receipt. */
export interface JournaledReceipt {
  /** The stored request text (canonical JSON) and response text of the queue item. */
  request: string
  response: string
  country: string
  issuer: string
  queueRow: number
}

type Json = Record<string, unknown>

const text = (value: unknown): string => (typeof value === 'string' ? value : '')

function quantityText(value: unknown, language: Language): string {
  const micros = value === undefined ? 1_000_000n : parseDecimal(value, 'Quantity')
  const decimal = formatDecimal(micros).replace(/\.?0+$/, '')
  return localDecimal(decimal, language)
}

const SIGNATURE_FORMAT_QR = 0x3
/** Receipt case 0x3010 of the POS System API v2: a copy of a receipt printed before (a duplicate). */
const COPY_RECEIPT = 0x3010
/** ftSignatureType flag: "do not print". */
const DO_NOT_PRINT = 0x20_0000n

export function buildReceiptDocument(source: JournaledReceipt): ReceiptDocument {
  const request = JSON.parse(source.request) as Json
  const response = JSON.parse(source.response) as Json
  const locale = localeOf(source.country)
  const { language } = locale
  const labels = labelsOf(language)
  const money = (micros: Micros) => localDecimal(formatDecimal(micros), language)
  const receiptCase =
    request.ftReceiptCase === undefined ? 0n : parseCaseCode(request.ftReceiptCase, 'ftReceiptCase')
  const currency = text(request.Currency) || 'EUR'

  const letters = new Map<string, { letter: string; rate: Micros; gross: Micros; vat: Micros }>()
  const charges = (request.cbChargeItems as Json[] | undefined) ?? []
  const lines = charges.map((item) => {
    const amount = parseDecimal(item.Amount, 'Amount')
    const rate = parseDecimal(item.VATRate, 'VATRate')
    const vat =
      item.VATAmount === undefined ? includedVat(amount, rate) : parseDecimal(item.VATAmount, 'VATAmount')
    const key = rate.toString()
    let group = letters.get(key)
    if (!group) {
      group = { letter: String.fromCharCode(65 + letters.size), rate, gross: 0n, vat: 0n }
      letters.set(key, group)
    }
    group.gross += amount
    group.vat += vat
    return {
      description: text(item.Description),
      quantity: quantityText(item.Quantity, language),
      amount: money(amount),
      vatLetter: group.letter,
    }
  })
  const total = charges.reduce((sum, item) => sum + parseDecimal(item.Amount, 'Amount'), 0n)
  const payments = ((request.cbPayItems as Json[] | undefined) ?? []).map((item) => {
    const detail = paymentDetail(item)
    return {
      description: text(item.Description),
      amount: money(parseDecimal(item.Amount, 'Amount')),
      ...(detail ? { detail } : {}),
    }
  })

  const signatures = (response.ftSignatures as Json[] | undefined) ?? []
  const qrCodes: ReceiptDocument['qrCodes'] = []
  const texts: ReceiptDocument['texts'] = []
  for (const signature of signatures) {
    const format = Number(BigInt(text(signature.ftSignatureFormat) || '0') & 0xffffn)
    const type = BigInt(text(signature.ftSignatureType) || '0')
    if (hasFlag(type, DO_NOT_PRINT)) continue
    if (format === SIGNATURE_FORMAT_QR)
      qrCodes.push({ caption: text(signature.Caption), payload: text(signature.Data) })
    else texts.push({ caption: text(signature.Caption), data: text(signature.Data) })
  }

  const marks: string[] = []
  if (hasFlag(receiptCase, ReceiptFlag.Training)) marks.push(labels.training)
  if (hasFlag(receiptCase, ReceiptFlag.Void)) marks.push(labels.void)
  if (hasFlag(receiptCase, ReceiptFlag.Refund)) marks.push(labels.refund)
  if (caseOf(receiptCase) === COPY_RECEIPT) marks.push(labels.duplicate)

  const type = receiptType(receiptCase)
  const title =
    type === 1
      ? labels.invoice
      : type === 0
        ? labels.receipt
        : `${labels.receipt} 0x${caseOf(receiptCase).toString(16).padStart(4, '0')}`
  const terminal = text(response.cbTerminalID)
  const facts = [
    { label: labels.receiptNumber, value: text(response.ftReceiptIdentification) },
    { label: labels.date, value: formatMoment(text(response.ftReceiptMoment), locale) },
    { label: labels.reference, value: text(response.cbReceiptReference) },
    { label: labels.cashRegister, value: text(response.ftCashBoxIdentification) },
    ...(terminal ? [{ label: labels.terminal, value: terminal }] : []),
  ]
  const customer =
    typeof request.cbCustomer === 'object' && request.cbCustomer !== null
      ? Object.values(request.cbCustomer as Json).filter(
          (v): v is string => typeof v === 'string' && v !== '',
        )
      : []

  return {
    language,
    labels,
    country: source.country,
    issuer: source.issuer,
    title,
    marks,
    facts,
    lines,
    total: money(total),
    currency,
    vat: [...letters.values()].map((g) => ({
      letter: g.letter,
      rate: `${localDecimal(formatDecimal(g.rate).replace(/\.?0+$/, ''), language)} %`,
      net: money(g.gross - g.vat),
      vat: money(g.vat),
      gross: money(g.gross),
    })),
    payments,
    customer,
    qrCodes,
    texts,
    footer: [`${labels.queueRow} ${source.queueRow}`, `fiscalbox · ${text(response.ftQueueItemID)}`],
  }
}

/** Card details a payment provider returned (ftPayItemCaseData.Provider.ProtocolResponse), for the customer. */
function paymentDetail(item: Json): string | undefined {
  const data = item.ftPayItemCaseData as Json | undefined
  const provider = data?.Provider as Json | undefined
  const response = provider?.ProtocolResponse as Json | undefined
  if (!response) return undefined
  const parts = [
    response.CardBrand,
    response.MaskedPan,
    response.ApprovalCode && `#${String(response.ApprovalCode)}`,
  ]
  const detail = parts.filter((p): p is string => typeof p === 'string' && p !== '').join(' ')
  return detail || undefined
}
