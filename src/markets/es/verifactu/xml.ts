import { invalid } from '../../../core/errors.ts'
import { el, leaf, type XmlElement } from '../xml/tree.ts'
import { MAX_RECORDS_PER_SUBMISSION, NS } from './namespaces.ts'
import type {
  AltaRecord,
  AnulacionRecord,
  ChainLink,
  InvoiceKey,
  Party,
  SoftwareSystem,
  VerifactuRecord,
} from './records.ts'

/**
 * The SOAP request of the AEAT service RegFactuSistemaFacturacion: a Cabecera naming the taxpayer, then
 * 1..1000 RegistroFactura, each an alta or an anulacion, element order exactly as SuministroLR.xsd and
 * SuministroInformacion.xsd define it. The body element declares its own namespaces, so it validates
 * against the XSD on its own (tests run xmllint --schema on it).
 */

export interface SubmissionHeader {
  /** ObligadoEmision: the taxpayer issuing the invoices */
  taxpayer: Party
  /** Representante, when a third party submits on the taxpayer's behalf */
  representative?: Party
  /** Incidencia=S: the records are sent late because of an incident (outage, no connection) */
  incident?: boolean
}

const sf = (name: string) => `sf:${name}`
const yn = (value: boolean) => (value ? 'S' : 'N')

function invoiceId(key: InvoiceKey): XmlElement {
  return el(
    sf('IDFactura'),
    null,
    el(sf('IDEmisorFactura'), null, key.issuerNif),
    el(sf('NumSerieFactura'), null, key.seriesNumber),
    el(sf('FechaExpedicionFactura'), null, key.issueDate),
  )
}

function party(name: string, p: Party): XmlElement {
  return el(name, null, el(sf('NombreRazon'), null, p.name), el(sf('NIF'), null, p.nif))
}

function chaining(previous: ChainLink | null): XmlElement {
  return el(
    sf('Encadenamiento'),
    null,
    previous === null
      ? el(sf('PrimerRegistro'), null, 'S')
      : el(
          sf('RegistroAnterior'),
          null,
          el(sf('IDEmisorFactura'), null, previous.issuerNif),
          el(sf('NumSerieFactura'), null, previous.seriesNumber),
          el(sf('FechaExpedicionFactura'), null, previous.issueDate),
          el(sf('Huella'), null, previous.huella),
        ),
  )
}

function softwareSystem(s: SoftwareSystem): XmlElement {
  return el(
    sf('SistemaInformatico'),
    null,
    el(sf('NombreRazon'), null, s.producerName),
    el(sf('NIF'), null, s.producerNif),
    el(sf('NombreSistemaInformatico'), null, s.name),
    el(sf('IdSistemaInformatico'), null, s.id),
    el(sf('Version'), null, s.version),
    el(sf('NumeroInstalacion'), null, s.installationNumber),
    el(sf('TipoUsoPosibleSoloVerifactu'), null, yn(s.onlyVerifactu)),
    el(sf('TipoUsoPosibleMultiOT'), null, yn(s.multipleTaxpayers)),
    el(sf('IndicadorMultiplesOT'), null, yn(s.hasMultipleTaxpayers)),
  )
}

export function altaElement(r: AltaRecord): XmlElement {
  return el(
    sf('RegistroAlta'),
    null,
    el(sf('IDVersion'), null, '1.0'),
    invoiceId(r),
    leaf(sf('RefExterna'), r.externalRef),
    el(sf('NombreRazonEmisor'), null, r.issuerName),
    el(sf('TipoFactura'), null, r.invoiceType),
    leaf(sf('TipoRectificativa'), r.rectificationType),
    r.rectified !== undefined &&
      r.rectified.length > 0 &&
      el(
        sf('FacturasRectificadas'),
        null,
        r.rectified.map((k) =>
          el(
            sf('IDFacturaRectificada'),
            null,
            el(sf('IDEmisorFactura'), null, k.issuerNif),
            el(sf('NumSerieFactura'), null, k.seriesNumber),
            el(sf('FechaExpedicionFactura'), null, k.issueDate),
          ),
        ),
      ),
    r.rectificationAmounts &&
      el(
        sf('ImporteRectificacion'),
        null,
        el(sf('BaseRectificada'), null, r.rectificationAmounts.base),
        el(sf('CuotaRectificada'), null, r.rectificationAmounts.tax),
      ),
    el(sf('DescripcionOperacion'), null, r.description),
    r.recipients !== undefined &&
      r.recipients.length > 0 &&
      el(
        sf('Destinatarios'),
        null,
        r.recipients.map((p) => party(sf('IDDestinatario'), p)),
      ),
    el(
      sf('Desglose'),
      null,
      r.breakdown.map((line) =>
        el(
          sf('DetalleDesglose'),
          null,
          el(sf('Impuesto'), null, line.tax),
          el(sf('ClaveRegimen'), null, line.regime),
          line.qualification.startsWith('E')
            ? el(sf('OperacionExenta'), null, line.qualification)
            : el(sf('CalificacionOperacion'), null, line.qualification),
          leaf(sf('TipoImpositivo'), line.rate),
          el(sf('BaseImponibleOimporteNoSujeto'), null, line.base),
          leaf(sf('CuotaRepercutida'), line.taxAmount),
        ),
      ),
    ),
    el(sf('CuotaTotal'), null, r.taxTotal),
    el(sf('ImporteTotal'), null, r.total),
    chaining(r.previous),
    softwareSystem(r.system),
    el(sf('FechaHoraHusoGenRegistro'), null, r.generatedAt),
    el(sf('TipoHuella'), null, '01'),
    el(sf('Huella'), null, r.huella),
  )
}

export function anulacionElement(r: AnulacionRecord): XmlElement {
  return el(
    sf('RegistroAnulacion'),
    null,
    el(sf('IDVersion'), null, '1.0'),
    el(
      sf('IDFactura'),
      null,
      el(sf('IDEmisorFacturaAnulada'), null, r.issuerNif),
      el(sf('NumSerieFacturaAnulada'), null, r.seriesNumber),
      el(sf('FechaExpedicionFacturaAnulada'), null, r.issueDate),
    ),
    leaf(sf('RefExterna'), r.externalRef),
    chaining(r.previous),
    softwareSystem(r.system),
    el(sf('FechaHoraHusoGenRegistro'), null, r.generatedAt),
    el(sf('TipoHuella'), null, '01'),
    el(sf('Huella'), null, r.huella),
  )
}

export const recordElement = (r: VerifactuRecord) =>
  r.kind === 'alta' ? altaElement(r) : anulacionElement(r)

/** The RegFactuSistemaFacturacion body element (validates against SuministroLR.xsd). */
export function submissionBody(header: SubmissionHeader, records: readonly VerifactuRecord[]): XmlElement {
  if (records.length < 1 || records.length > MAX_RECORDS_PER_SUBMISSION)
    throw invalid('records', `a submission carries 1 to ${MAX_RECORDS_PER_SUBMISSION} records`)
  for (const [i, r] of records.entries())
    if (r.issuerNif !== header.taxpayer.nif)
      throw invalid(`records[${i}].issuerNif`, 'must be the taxpayer of the submission (ObligadoEmision)')
  return el(
    'sfLR:RegFactuSistemaFacturacion',
    { 'xmlns:sfLR': NS.sfLR, 'xmlns:sf': NS.sf },
    el(
      'sfLR:Cabecera',
      null,
      party(sf('ObligadoEmision'), header.taxpayer),
      header.representative && party(sf('Representante'), header.representative),
      header.incident && el(sf('RemisionVoluntaria'), null, el(sf('Incidencia'), null, 'S')),
    ),
    records.map((r) => el('sfLR:RegistroFactura', null, recordElement(r))),
  )
}

/** Wraps a body element in a SOAP 1.1 envelope. */
export function soapEnvelope(body: XmlElement): XmlElement {
  return el(
    'soapenv:Envelope',
    { 'xmlns:soapenv': NS.soap },
    el('soapenv:Header', null),
    el('soapenv:Body', null, body),
  )
}
