import { el, childElements, textAt } from '../xml/tree.ts'
import { soapBody, AeatResponseError } from './response.ts'
import { NS } from './namespaces.ts'
import type { InvoiceKey, Party } from './records.ts'

/**
 * ConsultaFactuSistemaFacturacion: asks the AEAT which records it holds for one invoice number of the
 * taxpayer in the invoice's month. The outbox worker uses it to reconcile an unknown outcome.
 */
export function consultaBody(taxpayer: Party, invoice: InvoiceKey) {
  const [, month, year] = invoice.issueDate.split('-') as [string, string, string]
  return el(
    'sfLRC:ConsultaFactuSistemaFacturacion',
    { 'xmlns:sfLRC': NS.sfLRC, 'xmlns:sf': NS.sf },
    el(
      'sfLRC:Cabecera',
      null,
      el('sf:IDVersion', null, '1.0'),
      el(
        'sf:ObligadoEmision',
        null,
        el('sf:NombreRazon', null, taxpayer.name),
        el('sf:NIF', null, taxpayer.nif),
      ),
    ),
    el(
      'sfLRC:FiltroConsulta',
      null,
      el('sfLRC:PeriodoImputacion', null, el('sf:Ejercicio', null, year), el('sf:Periodo', null, month)),
      el('sfLRC:NumSerieFactura', null, invoice.seriesNumber),
    ),
  )
}

export interface RegisteredRecord extends InvoiceKey {
  huella?: string
  /** Correcto, AceptadoConErrores or Anulado */
  state: string
}

export function parseConsultaResponse(
  xml: string,
): { kind: 'fault'; message: string } | { kind: 'records'; records: RegisteredRecord[] } {
  const { body, fault } = soapBody(xml)
  if (fault) return { kind: 'fault', message: fault.message }
  if (!body?.name.endsWith('RespuestaConsultaFactuSistemaFacturacion'))
    throw new AeatResponseError(`unexpected answer element ${body?.name}`)
  return {
    kind: 'records',
    records: childElements(body, 'RegistroRespuestaConsultaFactuSistemaFacturacion').map((r) => {
      const huella = textAt(r, 'DatosRegistroFacturacion', 'Huella')
      return {
        issuerNif: textAt(r, 'IDFactura', 'IDEmisorFactura') ?? '',
        seriesNumber: textAt(r, 'IDFactura', 'NumSerieFactura') ?? '',
        issueDate: textAt(r, 'IDFactura', 'FechaExpedicionFactura') ?? '',
        ...(huella ? { huella } : {}),
        state: textAt(r, 'EstadoRegistro', 'EstadoRegistro') ?? '',
      }
    }),
  }
}
