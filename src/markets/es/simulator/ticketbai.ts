import { randomBytes, X509Certificate } from 'node:crypto'
import { tbaiIdentifier } from '../ticketbai/identifier.ts'
import { LROE_ANSWER_NAMESPACE, LROE_NAMESPACE, TBAI_CODES, TBAI_PATHS } from '../ticketbai/protocol.ts'
import {
  TBAI_CANCEL_NAMESPACE,
  TBAI_NAMESPACE,
  TERRITORY_RULES,
  type Territory,
} from '../ticketbai/territories.ts'
import { verifyEnvelopedSignature } from '../ticketbai/verify-signature.ts'
import { parseXml } from '../xml/parse.ts'
import { serializeDocument } from '../xml/serialize.ts'
import {
  childAt,
  childElements,
  el,
  leaf,
  localName,
  namespaceOf,
  textAt,
  textOf,
  type XmlElement,
} from '../xml/tree.ts'

export { TBAI_PATHS }

/**
 * The Basque services' side of TicketBAI, in memory: checks each received invoice (structure, XAdES
 * signature, the territory's policy, optionally the signer's issuer), refuses duplicates, notes chain
 * breaks, registers the rest and answers per invoice.
 */
export interface TicketBaiSimOptions {
  /** PEM of the CA the signing certificates must be issued by; any signer is accepted when absent */
  trustedCa?: string
  /** fault injection: refuse the invoice of this number (series and number) as wrong in content */
  refuses?: (invoiceNumber: string) => boolean
}

export interface ReceivedInvoice {
  territory: Territory
  issuerNif: string
  series: string
  number: string
  issueDate: string
  identifier: string
  signatureValue: string
  csv: string
  receivedAt: string
  warnings: string[]
  cancelled: boolean
  xml: string
}

interface InvoiceAnswer {
  accepted: boolean
  identifier?: string
  series: string
  number: string
  issueDate: string
  code?: string
  description?: string
  csv?: string
}

export class TicketBaiService {
  readonly invoices = new Map<string, ReceivedInvoice>()
  private readonly byIdentifier = new Map<string, ReceivedInvoice>()
  /** per territory, issuer and issuing device: the first 100 characters of the last received signature */
  private readonly chainHeads = new Map<string, string>()
  uploads = 0
  /** invoices or cancellations sent again after they were received: what reconciliation must keep at 0 */
  duplicates = 0
  private readonly ca?: X509Certificate

  constructor(private readonly options: TicketBaiSimOptions) {
    if (options.trustedCa) this.ca = new X509Certificate(options.trustedCa)
  }

  upload(territory: Territory, xml: string, now: Date): { status: number; body: string } {
    this.uploads++
    return this.answer(this.receive(territory, xml, now), now)
  }

  cancel(territory: Territory, xml: string, now: Date): { status: number; body: string } {
    this.uploads++
    return this.answer(this.receiveCancellation(territory, xml), now)
  }

  private answer(a: InvoiceAnswer, now: Date): { status: number; body: string } {
    const answer = el(
      'T:TicketBaiResponse',
      { 'xmlns:T': TBAI_NAMESPACE },
      el(
        'Salida',
        null,
        leaf('IdentificadorTBAI', a.identifier),
        el('FechaRecepcion', null, spanishTimestamp(now)),
        el('Estado', null, a.accepted ? '00' : '01'),
        el('Descripcion', null, a.accepted ? 'Recibido' : 'Rechazado'),
        leaf('CSV', a.csv),
        a.code &&
          el(
            'ResultadosValidacion',
            null,
            el('Codigo', null, a.code),
            el('Descripcion', null, a.description ?? ''),
          ),
      ),
    )
    return { status: 200, body: serializeDocument(answer) }
  }

  lroeBatch(xml: string, now: Date): { status: number; body: string } {
    let request: XmlElement
    try {
      request = parseXml(xml)
    } catch (error) {
      return { status: 400, body: `mal formado: ${(error as Error).message}` }
    }
    if (
      namespaceOf([request]) !== LROE_NAMESPACE ||
      localName(request.name) !== 'LROEPJ240FacturasEmitidasConSGAltaPeticion'
    )
      return { status: 400, body: 'se esperaba LROEPJ240FacturasEmitidasConSGAltaPeticion' }
    const operation = textAt(request, 'Cabecera', 'Operacion')
    if (operation !== 'A00' && operation !== 'AN0')
      return { status: 400, body: 'Operacion debe ser A00 o AN0' }
    const entries = childElements(childAt(request, 'FacturasEmitidas') ?? request, 'FacturaEmitida')
    if (entries.length < 1 || entries.length > 1000)
      return { status: 400, body: 'de 1 a 1000 FacturaEmitida' }
    this.uploads++
    const decode = (entry: XmlElement, name: string) =>
      Buffer.from(textAt(entry, name) ?? '', 'base64').toString('utf8')
    const answers = entries.map((entry) =>
      operation === 'A00'
        ? this.receive('bizkaia', decode(entry, 'TicketBai'), now)
        : this.receiveCancellation('bizkaia', decode(entry, 'AnulacionTicketBai')),
    )
    const answer = el(
      'lrpjfecsgar:LROEPJ240FacturasEmitidasConSGAltaRespuesta',
      { 'xmlns:lrpjfecsgar': LROE_ANSWER_NAMESPACE },
      el(
        'Registros',
        null,
        answers.map((a) =>
          el(
            'Registro',
            null,
            el(
              'Identificador',
              null,
              el(
                'IDFactura',
                null,
                leaf('SerieFactura', a.series || null),
                el('NumFactura', null, a.number),
                el('FechaExpedicionFactura', null, a.issueDate),
              ),
              leaf('IdentificadorTBAI', a.identifier),
            ),
            el(
              'SituacionRegistro',
              null,
              el(
                'EstadoRegistro',
                null,
                a.accepted ? (a.code ? 'AceptadoConErrores' : 'Correcto') : 'Incorrecto',
              ),
              leaf('CodigoErrorRegistro', a.code),
              leaf('DescripcionErrorRegistroES', a.description),
            ),
          ),
        ),
      ),
    )
    return { status: 200, body: serializeDocument(answer) }
  }

  query(territory: Territory, identifier: string): { status: number; body: string } {
    const found = this.byIdentifier.get(identifier)
    const registered = found !== undefined && found.territory === territory
    return {
      status: 200,
      body: JSON.stringify(
        registered
          ? {
              registered,
              identifier,
              state: found.cancelled ? 'Anulado' : 'Recibido',
              cancelled: found.cancelled,
              signatureValue: found.signatureValue,
              csv: found.csv,
            }
          : { registered: false, identifier },
      ),
    }
  }

  private receive(territory: Territory, xml: string, now: Date): InvoiceAnswer {
    let root: XmlElement
    try {
      root = parseXml(xml)
    } catch (error) {
      return refused('', '', '', TBAI_CODES.malformed, `XML mal formado: ${(error as Error).message}`)
    }
    const series = textAt(root, 'Factura', 'CabeceraFactura', 'SerieFactura') ?? ''
    const number = textAt(root, 'Factura', 'CabeceraFactura', 'NumFactura') ?? ''
    const issueDate = textAt(root, 'Factura', 'CabeceraFactura', 'FechaExpedicionFactura') ?? ''
    const nif = textAt(root, 'Sujetos', 'Emisor', 'NIF') ?? ''
    const structure = checkStructure(root, territory)
    if (structure) return refused(series, number, issueDate, TBAI_CODES.malformed, structure)
    if (this.options.refuses?.(`${series}${number}`))
      return refused(
        series,
        number,
        issueDate,
        TBAI_CODES.malformed,
        'Rechazada (fallo inyectado en el simulador)',
      )
    const check = verifyEnvelopedSignature(xml)
    if (!check.ok || !check.signatureValue)
      return refused(
        series,
        number,
        issueDate,
        TBAI_CODES.signature,
        `Firma no válida: ${check.problems.join('; ')}`,
      )
    const policy = TERRITORY_RULES[territory].policy
    if (check.policy?.identifier !== policy.identifier || check.policy.digest !== policy.digestSha256)
      return refused(
        series,
        number,
        issueDate,
        TBAI_CODES.policy,
        `Política de firma distinta de la de ${TERRITORY_RULES[territory].name}`,
      )
    if (
      this.ca &&
      check.certificate &&
      !(check.certificate.checkIssued(this.ca) && check.certificate.verify(this.ca.publicKey))
    )
      return refused(
        series,
        number,
        issueDate,
        TBAI_CODES.untrusted,
        'Certificado de firma no emitido por un prestador reconocido',
      )
    const key = `${territory}|${nif}|${series}|${number}|${issueDate}`
    const existing = this.invoices.get(key)
    if (existing && !existing.cancelled) {
      this.duplicates++
      return {
        ...refused(series, number, issueDate, TBAI_CODES.duplicate, 'Factura duplicada'),
        identifier: existing.identifier,
      }
    }
    const identifier = tbaiIdentifier(nif, issueDate, check.signatureValue)
    const warnings: string[] = []
    // One chain per issuing device of an issuer (Gipuzkoa's TicketBAI FAQ "Encadenamiento por series"):
    // the device's serial, or the software licence when an installation sends none.
    const device =
      textAt(root, 'HuellaTBAI', 'NumSerieDispositivo') ??
      `licence ${textAt(root, 'HuellaTBAI', 'Software', 'LicenciaTBAI') ?? ''}`
    const chainKey = `${territory}|${nif}|${device}`
    const cited =
      textAt(root, 'HuellaTBAI', 'EncadenamientoFacturaAnterior', 'SignatureValueFirmaFacturaAnterior') ?? ''
    const head = this.chainHeads.get(chainKey) ?? ''
    if (cited !== head)
      warnings.push('El encadenamiento no corresponde con la última factura recibida del emisor')
    this.chainHeads.set(chainKey, check.signatureValue.slice(0, 100))
    const csv = `tbai-${randomBytes(6).toString('hex')}`
    const received: ReceivedInvoice = {
      territory,
      issuerNif: nif,
      series,
      number,
      issueDate,
      identifier,
      signatureValue: check.signatureValue,
      csv,
      receivedAt: now.toISOString(),
      warnings,
      cancelled: false,
      xml,
    }
    this.invoices.set(key, received)
    this.byIdentifier.set(identifier, received)
    return {
      accepted: true,
      identifier,
      series,
      number,
      issueDate,
      csv,
      ...(warnings.length ? { code: TBAI_CODES.chain, description: warnings.join('; ') } : {}),
    }
  }

  private receiveCancellation(territory: Territory, xml: string): InvoiceAnswer {
    let root: XmlElement
    try {
      root = parseXml(xml)
    } catch (error) {
      return refused('', '', '', TBAI_CODES.malformed, `XML mal formado: ${(error as Error).message}`)
    }
    const series = textAt(root, 'IDFactura', 'CabeceraFactura', 'SerieFactura') ?? ''
    const number = textAt(root, 'IDFactura', 'CabeceraFactura', 'NumFactura') ?? ''
    const issueDate = textAt(root, 'IDFactura', 'CabeceraFactura', 'FechaExpedicionFactura') ?? ''
    const nif = textAt(root, 'IDFactura', 'Emisor', 'NIF') ?? ''
    const fail = (code: string, description: string) => refused(series, number, issueDate, code, description)
    if (localName(root.name) !== 'AnulaTicketBai' || namespaceOf([root]) !== TBAI_CANCEL_NAMESPACE)
      return fail(TBAI_CODES.malformed, 'El elemento raíz debe ser AnulaTicketBai de urn:ticketbai:anulacion')
    if (
      textAt(root, 'Cabecera', 'IDVersionTBAI') !== '1.2' ||
      !/^[0-9A-Z]{9}$/.test(nif) ||
      !number ||
      !/^\d{2}-\d{2}-\d{4}$/.test(issueDate)
    )
      return fail(TBAI_CODES.malformed, 'Estructura de AnulaTicketBai incorrecta')
    const check = verifyEnvelopedSignature(xml)
    if (!check.ok) return fail(TBAI_CODES.signature, `Firma no válida: ${check.problems.join('; ')}`)
    const policy = TERRITORY_RULES[territory].policy
    if (check.policy?.identifier !== policy.identifier || check.policy.digest !== policy.digestSha256)
      return fail(TBAI_CODES.policy, `Política de firma distinta de la de ${TERRITORY_RULES[territory].name}`)
    if (!this.trusted(check.certificate))
      return fail(TBAI_CODES.untrusted, 'Certificado de firma no emitido por un prestador reconocido')
    const invoice = this.invoices.get(`${territory}|${nif}|${series}|${number}|${issueDate}`)
    if (!invoice) return fail(TBAI_CODES.unknownInvoice, 'No existe la factura a anular')
    if (invoice.cancelled) {
      this.duplicates++
      return {
        ...fail(TBAI_CODES.alreadyCancelled, 'La factura ya está anulada'),
        identifier: invoice.identifier,
      }
    }
    invoice.cancelled = true
    const csv = `tbai-${randomBytes(6).toString('hex')}`
    return { accepted: true, identifier: invoice.identifier, series, number, issueDate, csv }
  }

  private trusted(certificate: X509Certificate | undefined): boolean {
    if (!this.ca || !certificate) return true
    return certificate.checkIssued(this.ca) && certificate.verify(this.ca.publicKey)
  }
}

function refused(
  series: string,
  number: string,
  issueDate: string,
  code: string,
  description: string,
): InvoiceAnswer {
  return { accepted: false, series, number, issueDate, code, description }
}

/** The simulator's structural checks of a TicketBAI 1.2 document (first problem found, or undefined). */
function checkStructure(root: XmlElement, territory: Territory): string | undefined {
  if (localName(root.name) !== 'TicketBai' || namespaceOf([root]) !== TBAI_NAMESPACE)
    return 'El elemento raíz debe ser TicketBai de urn:ticketbai:emision'
  if (textAt(root, 'Cabecera', 'IDVersionTBAI') !== '1.2') return 'IDVersionTBAI debe ser 1.2'
  const expected = ['Cabecera', 'Sujetos', 'Factura', 'HuellaTBAI', 'Signature']
  const names = childElements(root).map((c) => localName(c.name))
  if (names.join() !== expected.join()) return `Estructura: se esperaba ${expected.join(', ')}`
  const nif = textAt(root, 'Sujetos', 'Emisor', 'NIF') ?? ''
  if (!/^[0-9A-Z]{9}$/.test(nif)) return 'Sujetos/Emisor/NIF incorrecto'
  if (!textAt(root, 'Sujetos', 'Emisor', 'ApellidosNombreRazonSocial'))
    return 'Falta ApellidosNombreRazonSocial del emisor'
  const header = childAt(root, 'Factura', 'CabeceraFactura')
  if (!header || !textOf(childAt(header, 'NumFactura'))) return 'Falta NumFactura'
  if (!/^\d{2}-\d{2}-\d{4}$/.test(textAt(header, 'FechaExpedicionFactura') ?? ''))
    return 'FechaExpedicionFactura incorrecta'
  if (!/^\d{2}:\d{2}:\d{2}$/.test(textAt(header, 'HoraExpedicionFactura') ?? ''))
    return 'HoraExpedicionFactura incorrecta'
  const data = childAt(root, 'Factura', 'DatosFactura')
  if (!data || !textOf(childAt(data, 'DescripcionFactura'))) return 'Falta DescripcionFactura'
  if (!/^(\+|-)?\d{1,12}(\.\d{0,2})?$/.test(textOf(childAt(data, 'ImporteTotalFactura')) ?? ''))
    return 'ImporteTotalFactura incorrecto'
  if (!childAt(data, 'Claves', 'IDClave', 'ClaveRegimenIvaOpTrascendencia'))
    return 'Falta ClaveRegimenIvaOpTrascendencia'
  if (territory !== 'bizkaia' && !childAt(data, 'DetallesFactura', 'IDDetalleFactura'))
    return `${TERRITORY_RULES[territory].name} exige DetallesFactura`
  if (!childAt(root, 'Factura', 'TipoDesglose')) return 'Falta TipoDesglose'
  if (!textAt(root, 'HuellaTBAI', 'Software', 'LicenciaTBAI')) return 'Falta LicenciaTBAI'
  return undefined
}

function spanishTimestamp(now: Date): string {
  const iso = now.toISOString()
  return `${iso.slice(8, 10)}-${iso.slice(5, 7)}-${iso.slice(0, 4)} ${iso.slice(11, 19)}`
}
