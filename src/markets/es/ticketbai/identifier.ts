import { invalid } from '../../../core/errors.ts'
import { crc8Text } from './crc8.ts'
import { TERRITORY_RULES, type Territory } from './territories.ts'

/**
 * The TicketBAI identifier printed on the invoice:
 * TBAI-{NIF}-{DDMMYY of the issue date}-{first 13 characters of ds:SignatureValue}-{CRC-8}.
 */
export function tbaiIdentifier(issuerNif: string, issueDate: string, signatureValue: string): string {
  if (issuerNif.length !== 9) throw invalid('issuerNif', 'must be 9 characters')
  const match = /^(\d{2})-(\d{2})-\d{2}(\d{2})$/.exec(issueDate)
  if (!match) throw invalid('issueDate', 'must be DD-MM-YYYY')
  if (signatureValue.length < 13) throw invalid('signatureValue', 'must have at least 13 characters')
  const body = `TBAI-${issuerNif}-${match[1]}${match[2]}${match[3]}-${signatureValue.slice(0, 13)}-`
  return `${body}${crc8Text(body)}`
}

/** Checks the CRC of an identifier (what a reader of the printed code does). */
export function tbaiIdentifierValid(identifier: string): boolean {
  const match = /^(TBAI-[0-9A-Z]{9}-\d{6}-.{13}-)(\d{3})$/.exec(identifier)
  return match !== null && crc8Text(match[1] as string) === match[2]
}

export interface TbaiQrFields {
  identifier: string
  series?: string
  number: string
  /** ImporteTotalFactura exactly as in the XML */
  total: string
}

/** The QR code URL: base?id=&s=&nf=&i=&cr=, cr = CRC-8 of everything before '&cr='. */
export function tbaiQrUrl(territory: Territory, fields: TbaiQrFields): string {
  const params = [
    ['id', fields.identifier],
    ...(fields.series ? [['s', fields.series]] : []),
    ['nf', fields.number],
    ['i', fields.total],
  ]
  const url = `${TERRITORY_RULES[territory].qrBase}?${params.map(([k, v]) => `${k}=${encodeURIComponent(v as string)}`).join('&')}`
  return `${url}&cr=${crc8Text(url)}`
}
