import { createHash, randomBytes } from 'node:crypto'
import { NS } from '../verifactu/namespaces.ts'
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
  type XmlElement,
} from '../xml/tree.ts'
import { AMOUNT, checkAlta, checkAnulacion, RecordProblem } from './aeat-checks.ts'

/**
 * The AEAT side of VERI*FACTU, in memory: receives RegFactuSistemaFacturacion envelopes, checks every
 * record (structure, hash, chain, duplicates), registers what it accepts and answers per record like the
 * real service (Correcto / AceptadoConErrores / Incorrecto, TiempoEsperaEnvio); answers
 * ConsultaFactuSistemaFacturacion from what it registered. The hash is recomputed here from the record's
 * own fields (written from the AEAT hash spec, not with fiscalbox's producer code).
 */

export interface AeatOptions {
  /** TiempoEsperaEnvio answered (the AEAT's default is 60 s) */
  waitSeconds: number
  /** refuse, with a SOAP fault, a submission under 1000 records sent before the waiting time is over */
  enforceWait: boolean
  /** fault injection: refuse the record of this invoice number (NumSerieFactura) as wrong in content */
  refuses?: (invoiceNumber: string) => boolean
}

export interface RegisteredInvoice {
  issuerNif: string
  seriesNumber: string
  issueDate: string
  invoiceType: string
  taxTotal: string
  total: string
  huella: string
  state: 'Correcta' | 'AceptadaConErrores' | 'Anulada'
  code?: string
  description?: string
  requestId: string
  presentedAt: string
  modifiedAt: string
  incident: boolean
}

interface Answer {
  status: number
  body: string
}

const invoiceKey = (nif: string, number: string, date: string) => `${nif}|${number}|${date}`

function sha256Upper(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').toUpperCase()
}

export class AeatService {
  readonly invoices = new Map<string, RegisteredInvoice>()
  /** per information system installation: the Huella of the last record registered */
  readonly chainHeads = new Map<string, string>()
  private readonly nextAllowed = new Map<string, number>()
  submissions = 0
  /** ConsultaFactuSistemaFacturacion requests answered */
  consultas = 0
  /**
   * What each processed submission carried, in order: `alta:{number}` / `anulacion:{number}` per record and
   * the codes it got, so that tests see order, batching and chain errors as the service saw them.
   */
  readonly received: Array<{ requestId: string; records: string[]; codes: string[] }> = []
  /** records sent again after they were registered (3000, 3001): what reconciliation must keep at 0 */
  duplicates = 0
  private sequence = 0

  constructor(public options: AeatOptions) {}

  handle(xml: string, now: Date): Answer {
    let path: XmlElement[]
    try {
      const envelope = parseXml(xml)
      const soapBody = childAt(envelope, 'Body')
      if (namespaceOf([envelope]) !== NS.soap || !soapBody)
        return fault('soapenv:Client', 'El mensaje no es un sobre SOAP 1.1')
      const [body] = childElements(soapBody)
      if (!body) return fault('soapenv:Client', 'Cuerpo SOAP vacío')
      path = [envelope, soapBody, body]
    } catch (error) {
      return fault('soapenv:Client', `XML mal formado: ${(error as Error).message}`)
    }
    const body = path[2] as XmlElement
    const name = localName(body.name)
    const namespace = namespaceOf(path)
    if (name === 'RegFactuSistemaFacturacion' && namespace === NS.sfLR) return this.register(body, now)
    if (name === 'ConsultaFactuSistemaFacturacion' && namespace === NS.sfLRC) return this.consult(body, now)
    return fault('soapenv:Client', `Operación desconocida ${name}`)
  }

  private register(body: XmlElement, now: Date): Answer {
    const header = childAt(body, 'Cabecera')
    const taxpayerNif = header ? textAt(header, 'ObligadoEmision', 'NIF') : undefined
    const taxpayerName = header ? textAt(header, 'ObligadoEmision', 'NombreRazon') : undefined
    if (!header || !taxpayerNif || taxpayerNif.length !== 9 || !taxpayerName)
      return fault('soapenv:Client', 'Codigo[4102]. El XML no cumple el esquema: Cabecera/ObligadoEmision')
    const entries = childElements(body, 'RegistroFactura')
    if (entries.length < 1 || entries.length > 1000)
      return fault('soapenv:Client', 'Codigo[4102]. El XML no cumple el esquema: de 1 a 1000 RegistroFactura')
    const nowMs = now.getTime()
    const allowed = this.nextAllowed.get(taxpayerNif) ?? 0
    if (this.options.enforceWait && entries.length < 1000 && nowMs < allowed)
      return fault(
        'soapenv:Client',
        `Codigo[4115]. Envío realizado antes de finalizar el TiempoEsperaEnvio (quedan ${Math.ceil((allowed - nowMs) / 1000)} s)`,
      )
    this.submissions++
    const incident = textAt(header, 'RemisionVoluntaria', 'Incidencia') === 'S'
    const requestId = `SIM${String(++this.sequence).padStart(12, '0')}`
    const presentedAt = now.toISOString().replace(/\.\d{3}Z$/, 'Z')
    const lines = entries.map((entry) =>
      this.registerOne(entry, taxpayerNif, requestId, presentedAt, incident),
    )
    this.received.push({
      requestId,
      records: lines.map((l) => `${l.operation === 'Alta' ? 'alta' : 'anulacion'}:${l.number}`),
      codes: lines.flatMap((l) => (l.code ? [l.code] : [])),
    })
    const correct = lines.filter((l) => l.state === 'Correcto').length
    const wrong = lines.filter((l) => l.state === 'Incorrecto').length
    const status =
      correct === lines.length ? 'Correcto' : wrong === lines.length ? 'Incorrecto' : 'ParcialmenteCorrecto'
    this.nextAllowed.set(taxpayerNif, nowMs + this.options.waitSeconds * 1000)
    const csv = status === 'Incorrecto' ? undefined : randomBytes(8).toString('hex').toUpperCase()
    const r = (n: string) => `tikR:${n}`
    const s = (n: string) => `tik:${n}`
    const answer = el(
      r('RespuestaRegFactuSistemaFacturacion'),
      { 'xmlns:tikR': NS.sfR, 'xmlns:tik': NS.sf },
      leaf(r('CSV'), csv),
      csv !== undefined &&
        el(
          r('DatosPresentacion'),
          null,
          el(s('NIFPresentador'), null, taxpayerNif),
          el(s('TimestampPresentacion'), null, presentedAt),
        ),
      el(
        r('Cabecera'),
        null,
        el(
          s('ObligadoEmision'),
          null,
          el(s('NombreRazon'), null, taxpayerName),
          el(s('NIF'), null, taxpayerNif),
        ),
        incident && el(s('RemisionVoluntaria'), null, el(s('Incidencia'), null, 'S')),
      ),
      el(r('TiempoEsperaEnvio'), null, String(this.options.waitSeconds)),
      el(r('EstadoEnvio'), null, status),
      lines.map((l) =>
        el(
          r('RespuestaLinea'),
          null,
          el(
            r('IDFactura'),
            null,
            el(s('IDEmisorFactura'), null, l.nif),
            el(s('NumSerieFactura'), null, l.number),
            el(s('FechaExpedicionFactura'), null, l.date),
          ),
          el(r('Operacion'), null, el(s('TipoOperacion'), null, l.operation)),
          el(r('EstadoRegistro'), null, l.state),
          leaf(r('CodigoErrorRegistro'), l.code),
          leaf(r('DescripcionErrorRegistro'), l.description),
          l.duplicate &&
            el(
              r('RegistroDuplicado'),
              null,
              el(s('IdPeticionRegistroDuplicado'), null, l.duplicate.requestId),
              el(s('EstadoRegistroDuplicado'), null, l.duplicate.state),
            ),
        ),
      ),
    )
    return { status: 200, body: serializeDocument(envelope(answer)) }
  }

  private registerOne(
    entry: XmlElement,
    taxpayerNif: string,
    requestId: string,
    presentedAt: string,
    incident: boolean,
  ) {
    const [record] = childElements(entry)
    const kind = record ? localName(record.name) : ''
    const operation: 'Alta' | 'Anulacion' = kind === 'RegistroAnulacion' ? 'Anulacion' : 'Alta'
    const suffix = operation === 'Anulacion' ? 'Anulada' : ''
    const nif = (record && textAt(record, 'IDFactura', `IDEmisorFactura${suffix}`)) ?? ''
    const number = (record && textAt(record, 'IDFactura', `NumSerieFactura${suffix}`)) ?? ''
    const date = (record && textAt(record, 'IDFactura', `FechaExpedicionFactura${suffix}`)) ?? ''
    const line = (
      state: 'Correcto' | 'AceptadoConErrores' | 'Incorrecto',
      code?: string,
      description?: string,
      duplicate?: { requestId: string; state: string },
    ) => ({ nif, number, date, operation, state, code, description, duplicate })
    if (!record || (kind !== 'RegistroAlta' && kind !== 'RegistroAnulacion'))
      return line('Incorrecto', '1100', 'RegistroFactura sin RegistroAlta ni RegistroAnulacion')
    const chainKey = [
      nif,
      textAt(record, 'SistemaInformatico', 'NIF') ?? '',
      textAt(record, 'SistemaInformatico', 'IdSistemaInformatico') ?? '',
      textAt(record, 'SistemaInformatico', 'NumeroInstalacion') ?? '',
    ].join('|')
    const huellaSent = textAt(record, 'Huella') ?? ''
    try {
      if (kind === 'RegistroAlta') checkAlta(record)
      else checkAnulacion(record)
      if (nif !== taxpayerNif)
        throw new RecordProblem('1105', 'El NIF del emisor no coincide con el ObligadoEmision de la cabecera')
      if (this.options.refuses?.(number))
        throw new RecordProblem('1100', 'Valor o tipo incorrecto (fallo inyectado en el simulador)')
    } catch (error) {
      if (!(error instanceof RecordProblem)) throw error
      // A refused record is still part of the issuer's chain (it will be corrected, not removed): the
      // records after it link to it.
      if (/^[0-9A-F]{64}$/.test(huellaSent)) this.chainHeads.set(chainKey, huellaSent)
      return line('Incorrecto', error.code, error.message)
    }
    const key = invoiceKey(nif, number, date)
    const existing = this.invoices.get(key)
    const previous = textAt(record, 'Encadenamiento', 'RegistroAnterior', 'Huella') ?? ''
    const generatedAt = textAt(record, 'FechaHoraHusoGenRegistro') ?? ''
    if (operation === 'Alta') {
      if (existing && existing.state !== 'Anulada') {
        this.duplicates++
        return line('Incorrecto', '3000', 'Registro de facturación duplicado.', {
          requestId: existing.requestId,
          state: existing.state,
        })
      }
    } else if (!existing) {
      return line('Incorrecto', '3002', 'No existe el registro de facturación.')
    } else if (existing.state === 'Anulada') {
      this.duplicates++
      return line('Incorrecto', '3001', 'El registro de facturación ya ha sido anulado.', {
        requestId: existing.requestId,
        state: existing.state,
      })
    }
    const errors: Array<[string, string]> = []
    const expected =
      operation === 'Alta'
        ? sha256Upper(
            `IDEmisorFactura=${nif}&NumSerieFactura=${number}&FechaExpedicionFactura=${date}&TipoFactura=${textAt(record, 'TipoFactura')}&CuotaTotal=${textAt(record, 'CuotaTotal')}&ImporteTotal=${textAt(record, 'ImporteTotal')}&Huella=${previous}&FechaHoraHusoGenRegistro=${generatedAt}`,
          )
        : sha256Upper(
            `IDEmisorFacturaAnulada=${nif}&NumSerieFacturaAnulada=${number}&FechaExpedicionFacturaAnulada=${date}&Huella=${previous}&FechaHoraHusoGenRegistro=${generatedAt}`,
          )
    // Like the real service: a wrong hash or a broken link is registered "with errors", not refused.
    if (expected !== huellaSent) errors.push(['2000', 'El cálculo de la huella suministrada es incorrecta.'])
    const head = this.chainHeads.get(chainKey) ?? ''
    if (previous !== head)
      errors.push([
        '2001',
        head === ''
          ? 'El registro cita un registro anterior y es el primero de la cadena del sistema informático.'
          : 'El encadenamiento no corresponde con el último registro del sistema informático.',
      ])
    if (operation === 'Alta') {
      const totalsProblem = checkTotals(record)
      if (totalsProblem) errors.push(totalsProblem)
    }
    const [first] = errors
    const state = first ? 'AceptadoConErrores' : 'Correcto'
    this.chainHeads.set(chainKey, huellaSent)
    if (operation === 'Alta') {
      this.invoices.set(key, {
        issuerNif: nif,
        seriesNumber: number,
        issueDate: date,
        invoiceType: textAt(record, 'TipoFactura') ?? '',
        taxTotal: textAt(record, 'CuotaTotal') ?? '',
        total: textAt(record, 'ImporteTotal') ?? '',
        huella: huellaSent,
        state: first ? 'AceptadaConErrores' : 'Correcta',
        ...(first ? { code: first[0], description: first[1] } : {}),
        requestId,
        presentedAt,
        modifiedAt: presentedAt,
        incident,
      })
    } else if (existing) {
      existing.state = 'Anulada'
      existing.modifiedAt = presentedAt
    }
    return first ? line(state, first[0], first[1]) : line(state)
  }

  private consult(body: XmlElement, _now: Date): Answer {
    this.consultas++
    const nif = textAt(body, 'Cabecera', 'ObligadoEmision', 'NIF')
    const name = textAt(body, 'Cabecera', 'ObligadoEmision', 'NombreRazon') ?? ''
    const year = textAt(body, 'FiltroConsulta', 'PeriodoImputacion', 'Ejercicio')
    const month = textAt(body, 'FiltroConsulta', 'PeriodoImputacion', 'Periodo')
    const number = textAt(body, 'FiltroConsulta', 'NumSerieFactura')
    if (!nif || !year || !month)
      return fault('soapenv:Client', 'Codigo[4102]. Cabecera o PeriodoImputacion incompletos')
    const found = [...this.invoices.values()].filter(
      (i) =>
        i.issuerNif === nif &&
        i.issueDate.endsWith(`${month}-${year}`) &&
        (number === undefined || i.seriesNumber === number),
    )
    const q = (n: string) => `tikLRRC:${n}`
    const s = (n: string) => `tik:${n}`
    const answer = el(
      q('RespuestaConsultaFactuSistemaFacturacion'),
      { 'xmlns:tikLRRC': NS.sfLRRC, 'xmlns:tik': NS.sf },
      el(
        q('Cabecera'),
        null,
        el(s('IDVersion'), null, '1.0'),
        el(s('ObligadoEmision'), null, el(s('NombreRazon'), null, name), el(s('NIF'), null, nif)),
      ),
      el(q('PeriodoImputacion'), null, el(q('Ejercicio'), null, year), el(q('Periodo'), null, month)),
      el(q('IndicadorPaginacion'), null, 'N'),
      el(q('ResultadoConsulta'), null, found.length ? 'ConDatos' : 'SinDatos'),
      found.map((i) =>
        el(
          q('RegistroRespuestaConsultaFactuSistemaFacturacion'),
          null,
          el(
            q('IDFactura'),
            null,
            el(s('IDEmisorFactura'), null, i.issuerNif),
            el(s('NumSerieFactura'), null, i.seriesNumber),
            el(s('FechaExpedicionFactura'), null, i.issueDate),
          ),
          el(
            q('DatosRegistroFacturacion'),
            null,
            el(q('TipoFactura'), null, i.invoiceType),
            el(q('CuotaTotal'), null, i.taxTotal),
            el(q('ImporteTotal'), null, i.total),
            el(q('TipoHuella'), null, '01'),
            el(q('Huella'), null, i.huella),
            i.incident && el(q('Incidencia'), null, 'S'),
          ),
          el(
            q('DatosPresentacion'),
            null,
            el(s('NIFPresentador'), null, i.issuerNif),
            el(s('TimestampPresentacion'), null, i.presentedAt),
            el(s('IdPeticion'), null, i.requestId),
          ),
          el(
            q('EstadoRegistro'),
            null,
            el(q('TimestampUltimaModificacion'), null, i.modifiedAt),
            el(
              q('EstadoRegistro'),
              null,
              i.state === 'Correcta' ? 'Correcto' : i.state === 'Anulada' ? 'Anulado' : 'AceptadoConErrores',
            ),
            leaf(q('CodigoErrorRegistro'), i.code),
            leaf(q('DescripcionErrorRegistro'), i.description),
          ),
        ),
      ),
    )
    return { status: 200, body: serializeDocument(envelope(answer)) }
  }
}

/** ImporteTotal and CuotaTotal must add up from the breakdown (to the cent). */
function checkTotals(record: XmlElement): [string, string] | undefined {
  const cents = (v: string | undefined) => {
    if (v === undefined || !AMOUNT.test(v)) return 0n
    const [whole = '0', fraction = ''] = v.replace(/^[+-]/, '').split('.')
    const c = BigInt(whole) * 100n + BigInt(fraction.padEnd(2, '0') || '0')
    return v.startsWith('-') ? -c : c
  }
  let tax = 0n
  let base = 0n
  for (const line of childElements(childAt(record, 'Desglose') as XmlElement, 'DetalleDesglose')) {
    base += cents(textAt(line, 'BaseImponibleOimporteNoSujeto'))
    tax += cents(textAt(line, 'CuotaRepercutida'))
  }
  if (cents(textAt(record, 'CuotaTotal')) !== tax)
    return ['1237', 'CuotaTotal no coincide con la suma de las cuotas del desglose.']
  if (cents(textAt(record, 'ImporteTotal')) !== base + tax)
    return ['1238', 'ImporteTotal no coincide con bases más cuotas del desglose.']
  return undefined
}

function envelope(body: XmlElement): XmlElement {
  return el('env:Envelope', { 'xmlns:env': NS.soap }, el('env:Body', null, body))
}

export function fault(code: string, message: string): Answer {
  return {
    status: 500,
    body: serializeDocument(
      envelope(
        el(
          'env:Fault',
          null,
          el('faultcode', null, code.replace('soapenv:', 'env:')),
          el('faultstring', null, message),
        ),
      ),
    ),
  }
}
