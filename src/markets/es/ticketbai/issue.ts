import { invalid } from '../../../core/errors.ts'
import { nif, text } from '../format.ts'
import type { C14nMethod } from '../xml/c14n.ts'
import { el, leaf } from '../xml/tree.ts'
import { tbaiIdentifier, tbaiQrUrl } from './identifier.ts'
import {
  buildInvoice,
  invoiceIdFields,
  softwareElement,
  type TicketBaiChainState,
  type TicketBaiInvoiceInput,
  type TicketBaiSoftware,
} from './invoice.ts'
import { TBAI_CANCEL_NAMESPACE, TERRITORY_RULES, type Territory } from './territories.ts'
import { type SigningCredentials, signEnveloped } from './xades.ts'

/**
 * One issued TicketBAI document, as plain JSON-storable data: the signed XML to submit, what is printed
 * (identifier, QR URL) and what the next invoice chains to. A cancellation (`anulacion`, an
 * AnulaTicketBai document) carries the identifier of the invoice it cancels and no QR code.
 */
export interface TicketBaiRecord {
  kind: 'alta' | 'anulacion'
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
    kind: 'alta',
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
  r: Pick<TicketBaiRecord, 'kind' | 'issuerNif' | 'series' | 'number' | 'issueDate'>,
) => `tbai-${r.kind}:${r.issuerNif}:${r.series ?? ''}:${r.number}:${r.issueDate}`

export interface CancellationInput {
  issuerName: string
  software: TicketBaiSoftware
  deviceSerial?: string
  /** when the cancellation is made (the signing time) */
  at: Date
}

/**
 * Cancels an issued invoice with a signed AnulaTicketBai document (namespace urn:ticketbai:anulacion).
 * Cancellations are not part of the invoice chain: the chain state does not change.
 */
export function cancelTicketBai(
  invoice: TicketBaiRecord,
  input: CancellationInput,
  credentials: SigningCredentials,
  options: { c14n?: C14nMethod } = {},
): TicketBaiRecord {
  if (invoice.kind !== 'alta') throw invalid('invoice', 'only an invoice can be cancelled')
  const document = el(
    'T:AnulaTicketBai',
    { 'xmlns:T': TBAI_CANCEL_NAMESPACE },
    el('Cabecera', null, el('IDVersionTBAI', null, '1.2')),
    el(
      'IDFactura',
      null,
      el(
        'Emisor',
        null,
        el('NIF', null, nif(invoice.issuerNif, 'invoice.issuerNif')),
        el('ApellidosNombreRazonSocial', null, text(input.issuerName, 120, 'issuerName')),
      ),
      el('CabeceraFactura', null, invoiceIdFields(invoice.series, invoice.number, invoice.issueDate)),
    ),
    el('HuellaTBAI', null, softwareElement(input.software), leaf('NumSerieDispositivo', input.deviceSerial)),
  )
  const signed = signEnveloped(document, credentials, {
    policy: TERRITORY_RULES[invoice.territory].policy,
    signingTime: input.at,
    ...(options.c14n ? { c14n: options.c14n } : {}),
  })
  return {
    kind: 'anulacion',
    territory: invoice.territory,
    issuerNif: invoice.issuerNif,
    ...(invoice.series !== undefined ? { series: invoice.series } : {}),
    number: invoice.number,
    issueDate: invoice.issueDate,
    total: invoice.total,
    identifier: invoice.identifier,
    qrUrl: '',
    signatureValue: signed.signatureValue,
    xml: signed.xml,
  }
}
