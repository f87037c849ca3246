import { invalid } from '../../../core/errors.ts'
import { amountText, localDateAndTime, nif, rateText, text } from '../format.ts'
import { type Child, el, leaf, type XmlElement } from '../xml/tree.ts'
import { TBAI_NAMESPACE, type Territory } from './territories.ts'

/**
 * A TicketBAI 1.2 invoice document (T:TicketBai, namespace urn:ticketbai:emision, unqualified children),
 * before its signature. Amounts are integer cents; the XML carries them with two decimals.
 */

export interface TicketBaiSoftware {
  /** LicenciaTBAI given by the territory to the software */
  license: string
  developerNif: string
  name: string
  version: string
}

/** The previous invoice of the same issuer and device, as the next one cites it. */
export interface TicketBaiChainLink {
  series?: string
  number: string
  /** DD-MM-YYYY */
  issueDate: string
  /** the first 100 characters of the previous invoice's ds:SignatureValue */
  signatureValue: string
}

export interface TicketBaiChainState {
  previous: TicketBaiChainLink | null
}

export interface TicketBaiInvoiceInput {
  territory: Territory
  issuer: { nif: string; name: string }
  recipient?: { nif: string; name: string; postalCode?: string; address?: string }
  series?: string
  number: string
  issuedAt: Date
  timeZone?: string
  simplified: boolean
  description: string
  lines?: Array<{
    description: string
    quantity: string
    unitPriceCents: number
    discountCents?: number
    totalCents: number
  }>
  /** taxed breakdown (S1) */
  vat?: Array<{ rateBasisPoints: number; baseCents: number; taxCents: number }>
  /** exempt breakdown, cause E1..E6 */
  exempt?: Array<{ cause: string; baseCents: number }>
  /** ClaveRegimenIvaOpTrascendencia, 01 by default */
  regime?: string
  rectification?: {
    code: 'R1' | 'R2' | 'R3' | 'R4' | 'R5'
    type: 'S' | 'I'
    invoices: Array<{ series?: string; number: string; issueDate: string }>
    /** By substitution (S): base and tax of the invoices replaced (ImporteRectificacionSustitutiva) */
    replacedBaseCents?: number
    replacedTaxCents?: number
  }
  software: TicketBaiSoftware
  deviceSerial?: string
}

export interface TicketBaiInvoice {
  document: XmlElement
  issuerNif: string
  series?: string
  number: string
  /** DD-MM-YYYY */
  issueDate: string
  total: string
}

const SERIES = /^[\x20-\x7e]{1,20}$/
const NUMBER = /^[\x20-\x7e]{1,20}$/

export function buildInvoice(input: TicketBaiInvoiceInput, chain: TicketBaiChainState): TicketBaiInvoice {
  const issuerNif = nif(input.issuer.nif, 'issuer.nif')
  if (input.series !== undefined && !SERIES.test(input.series))
    throw invalid('series', 'must be 1 to 20 printable ASCII characters')
  if (!NUMBER.test(input.number)) throw invalid('number', 'must be 1 to 20 printable ASCII characters')
  const vat = input.vat ?? []
  const exempt = input.exempt ?? []
  if (vat.length + exempt.length === 0)
    throw invalid('vat', 'an invoice needs at least one taxed or exempt line')
  if (!input.simplified && !input.recipient) throw invalid('recipient', 'a full invoice needs a recipient')
  if (vat.length > 6) throw invalid('vat', 'at most 6 taxed lines (DetalleIVA)')
  if (exempt.length > 7) throw invalid('exempt', 'at most 7 exempt lines (DetalleExenta)')
  // Araba and Gipuzkoa require the invoice lines, and the recipient's postal code and address.
  const strict = input.territory !== 'bizkaia'
  if (strict && !input.lines?.length) throw invalid('lines', `${input.territory} requires the invoice lines`)
  if (strict && input.recipient && (!input.recipient.postalCode || !input.recipient.address))
    throw invalid('recipient', `${input.territory} requires the recipient's postalCode and address`)
  if (
    input.rectification?.type === 'S' &&
    (input.rectification.replacedBaseCents === undefined ||
      input.rectification.replacedTaxCents === undefined)
  )
    throw invalid(
      'rectification',
      'a rectification by substitution (S) needs replacedBaseCents and replacedTaxCents',
    )
  let totalCents = 0
  for (const v of vat) totalCents += v.baseCents + v.taxCents
  for (const e of exempt) totalCents += e.baseCents
  const total = amountText(totalCents, 'total')
  const { date, time } = localDateAndTime(input.issuedAt, input.timeZone)
  const rect = input.rectification
  const previous = chain.previous
  const document = el(
    'T:TicketBai',
    { 'xmlns:T': TBAI_NAMESPACE },
    el('Cabecera', null, el('IDVersionTBAI', null, '1.2')),
    el(
      'Sujetos',
      null,
      el(
        'Emisor',
        null,
        el('NIF', null, issuerNif),
        el('ApellidosNombreRazonSocial', null, text(input.issuer.name, 120, 'issuer.name')),
      ),
      input.recipient &&
        el(
          'Destinatarios',
          null,
          el(
            'IDDestinatario',
            null,
            el('NIF', null, nif(input.recipient.nif, 'recipient.nif')),
            el('ApellidosNombreRazonSocial', null, text(input.recipient.name, 120, 'recipient.name')),
            leaf('CodigoPostal', input.recipient.postalCode),
            leaf('Direccion', input.recipient.address),
          ),
        ),
    ),
    el(
      'Factura',
      null,
      el(
        'CabeceraFactura',
        null,
        invoiceIdFields(input.series, input.number, date),
        el('HoraExpedicionFactura', null, time),
        input.simplified && el('FacturaSimplificada', null, 'S'),
        rect &&
          el(
            'FacturaRectificativa',
            null,
            el('Codigo', null, rect.code),
            el('Tipo', null, rect.type),
            rect.type === 'S' &&
              el(
                'ImporteRectificacionSustitutiva',
                null,
                el(
                  'BaseRectificada',
                  null,
                  amountText(rect.replacedBaseCents ?? 0, 'rectification.replacedBaseCents'),
                ),
                el(
                  'CuotaRectificada',
                  null,
                  amountText(rect.replacedTaxCents ?? 0, 'rectification.replacedTaxCents'),
                ),
              ),
          ),
        rect &&
          el(
            'FacturasRectificadasSustituidas',
            null,
            rect.invoices.map((r) =>
              el('IDFacturaRectificadaSustituida', null, invoiceIdFields(r.series, r.number, r.issueDate)),
            ),
          ),
      ),
      el(
        'DatosFactura',
        null,
        el('DescripcionFactura', null, text(input.description, 250, 'description')),
        input.lines?.length
          ? el(
              'DetallesFactura',
              null,
              input.lines.map((l, i) =>
                el(
                  'IDDetalleFactura',
                  null,
                  el('DescripcionDetalle', null, text(l.description, 250, `lines[${i}].description`)),
                  el('Cantidad', null, quantity(l.quantity, `lines[${i}].quantity`)),
                  el('ImporteUnitario', null, amountText(l.unitPriceCents, `lines[${i}].unitPriceCents`)),
                  el('Descuento', null, amountText(l.discountCents ?? 0, `lines[${i}].discountCents`)),
                  el('ImporteTotal', null, amountText(l.totalCents, `lines[${i}].totalCents`)),
                ),
              ),
            )
          : null,
        el('ImporteTotalFactura', null, total),
        el(
          'Claves',
          null,
          el('IDClave', null, el('ClaveRegimenIvaOpTrascendencia', null, input.regime ?? '01')),
        ),
      ),
      el(
        'TipoDesglose',
        null,
        el(
          'DesgloseFactura',
          null,
          el(
            'Sujeta',
            null,
            exempt.length > 0 &&
              el(
                'Exenta',
                null,
                exempt.map((e, i) => {
                  if (!/^E[1-6]$/.test(e.cause)) throw invalid(`exempt[${i}].cause`, 'must be E1..E6')
                  return el(
                    'DetalleExenta',
                    null,
                    el('CausaExencion', null, e.cause),
                    el('BaseImponible', null, amountText(e.baseCents, `exempt[${i}].baseCents`)),
                  )
                }),
              ),
            vat.length > 0 &&
              el(
                'NoExenta',
                null,
                el(
                  'DetalleNoExenta',
                  null,
                  el('TipoNoExenta', null, 'S1'),
                  el(
                    'DesgloseIVA',
                    null,
                    vat.map((v, i) =>
                      el(
                        'DetalleIVA',
                        null,
                        el('BaseImponible', null, amountText(v.baseCents, `vat[${i}].baseCents`)),
                        el('TipoImpositivo', null, rateText(v.rateBasisPoints, `vat[${i}].rateBasisPoints`)),
                        el('CuotaImpuesto', null, amountText(v.taxCents, `vat[${i}].taxCents`)),
                      ),
                    ),
                  ),
                ),
              ),
          ),
        ),
      ),
    ),
    el(
      'HuellaTBAI',
      null,
      previous &&
        el(
          'EncadenamientoFacturaAnterior',
          null,
          leaf('SerieFacturaAnterior', previous.series),
          el('NumFacturaAnterior', null, previous.number),
          el('FechaExpedicionFacturaAnterior', null, previous.issueDate),
          el('SignatureValueFirmaFacturaAnterior', null, previous.signatureValue.slice(0, 100)),
        ),
      softwareElement(input.software),
      leaf('NumSerieDispositivo', input.deviceSerial),
    ),
  )
  return {
    document,
    issuerNif,
    ...(input.series !== undefined ? { series: input.series } : {}),
    number: input.number,
    issueDate: date,
    total,
  }
}

/** The Software element of HuellaTBAI: the same in an invoice (TicketBai) and a cancellation (AnulaTicketBai). */
export function softwareElement(software: TicketBaiSoftware): XmlElement {
  return el(
    'Software',
    null,
    el('LicenciaTBAI', null, text(software.license, 20, 'software.license')),
    el('EntidadDesarrolladora', null, el('NIF', null, nif(software.developerNif, 'software.developerNif'))),
    el('Nombre', null, text(software.name, 120, 'software.name')),
    el('Version', null, text(software.version, 20, 'software.version')),
  )
}

/** Series, number and date that identify an invoice, as CabeceraFactura and IDFacturaRectificadaSustituida name them. */
export function invoiceIdFields(series: string | undefined, number: string, issueDate: string): Child[] {
  return [
    leaf('SerieFactura', series),
    el('NumFactura', null, number),
    el('FechaExpedicionFactura', null, issueDate),
  ]
}

function quantity(value: string, field: string): string {
  if (!/^-?\d{1,12}(\.\d{1,2})?$/.test(value))
    throw invalid(field, 'must be a decimal with at most 2 decimals')
  return value
}
