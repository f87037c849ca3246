import { tbaiIdentifier, tbaiQrUrl } from './identifier.ts'
import { buildInvoice, type TicketBaiChainState, type TicketBaiInvoiceInput } from './invoice.ts'
import { TERRITORY_RULES, type Territory } from './territories.ts'
import type { C14nMethod } from '../xml/c14n.ts'
import { type SigningCredentials, signEnveloped } from './xades.ts'

/**
 * One issued TicketBAI invoice, as plain JSON-storable data: the signed XML to submit, what is printed
 * (identifier, QR URL) and what the next invoice chains to.
 */
export interface TicketBaiRecord {
  territory: Territory
  issuerNif: string
  series?: string
  number: string
  /** DD-MM-YYYY */
  issueDate: string
  total: string
  identifier: string
  qrUrl: string
  signatureValue: string
  xml: string
}

export const emptyTicketBaiChain = (): TicketBaiChainState => ({ previous: null })

/** Builds, signs and identifies the next invoice of an issuer's chain. */
export function issueTicketBai(
  state: TicketBaiChainState,
  input: TicketBaiInvoiceInput,
  credentials: SigningCredentials,
  options: { signingTime?: Date; c14n?: C14nMethod } = {},
): { record: TicketBaiRecord; state: TicketBaiChainState } {
  const invoice = buildInvoice(input, state)
  const signed = signEnveloped(invoice.document, credentials, {
    policy: TERRITORY_RULES[input.territory].policy,
    signingTime: options.signingTime ?? input.issuedAt,
    ...(options.c14n ? { c14n: options.c14n } : {}),
  })
  const identifier = tbaiIdentifier(invoice.issuerNif, invoice.issueDate, signed.signatureValue)
  const record: TicketBaiRecord = {
    territory: input.territory,
    issuerNif: invoice.issuerNif,
    ...(invoice.series !== undefined ? { series: invoice.series } : {}),
    number: invoice.number,
    issueDate: invoice.issueDate,
    total: invoice.total,
    identifier,
    qrUrl: tbaiQrUrl(input.territory, {
      identifier,
      ...(invoice.series !== undefined ? { series: invoice.series } : {}),
      number: invoice.number,
      total: invoice.total,
    }),
    signatureValue: signed.signatureValue,
    xml: signed.xml,
  }
  return {
    record,
    state: {
      previous: {
        ...(invoice.series !== undefined ? { series: invoice.series } : {}),
        number: invoice.number,
        issueDate: invoice.issueDate,
        signatureValue: signed.signatureValue.slice(0, 100),
      },
    },
  }
}

export const ticketBaiRecordKey = (
  r: Pick<TicketBaiRecord, 'issuerNif' | 'series' | 'number' | 'issueDate'>,
) => `tbai:${r.issuerNif}:${r.series ?? ''}:${r.number}:${r.issueDate}`
