import { parseXml } from '../xml/parse.ts'
import { childAt, childElements, textAt, textOf, type XmlElement } from '../xml/tree.ts'

export type RecordState = 'Correcto' | 'AceptadoConErrores' | 'Incorrecto'

export interface ResponseLine {
  issuerNif: string
  seriesNumber: string
  issueDate: string
  operation: 'Alta' | 'Anulacion'
  state: RecordState
  code?: string
  description?: string
  /** present when the record was refused as a duplicate: what the AEAT holds */
  duplicate?: { requestId: string; state: string }
}

export type SubmissionResponse =
  | {
      kind: 'response'
      csv?: string
      waitSeconds: number
      status: 'Correcto' | 'ParcialmenteCorrecto' | 'Incorrecto'
      lines: ResponseLine[]
    }
  | { kind: 'fault'; code: string; message: string }

export class AeatResponseError extends Error {
  override name = 'AeatResponseError'
}

/** The SOAP Body's single element, or a Fault. */
export function soapBody(xml: string): { body?: XmlElement; fault?: { code: string; message: string } } {
  const envelope = parseXml(xml)
  const body = childAt(envelope, 'Body')
  if (!body) throw new AeatResponseError('no SOAP Body')
  const [first] = childElements(body)
  if (!first) throw new AeatResponseError('empty SOAP Body')
  if (first.name.endsWith('Fault'))
    return { fault: { code: textAt(first, 'faultcode') ?? '', message: textAt(first, 'faultstring') ?? '' } }
  return { body: first }
}

const STATES = new Set(['Correcto', 'AceptadoConErrores', 'Incorrecto'])

/** Reads RespuestaRegFactuSistemaFacturacion (RespuestaSuministro.xsd) into per-record lines. */
export function parseSubmissionResponse(xml: string): SubmissionResponse {
  const { body, fault } = soapBody(xml)
  if (fault) return { kind: 'fault', ...fault }
  if (!body?.name.endsWith('RespuestaRegFactuSistemaFacturacion'))
    throw new AeatResponseError(`unexpected answer element ${body?.name}`)
  const status = textAt(body, 'EstadoEnvio')
  if (status !== 'Correcto' && status !== 'ParcialmenteCorrecto' && status !== 'Incorrecto')
    throw new AeatResponseError(`unknown EstadoEnvio ${status}`)
  const wait = textAt(body, 'TiempoEsperaEnvio') ?? '0'
  if (!/^\d{0,4}$/.test(wait)) throw new AeatResponseError(`bad TiempoEsperaEnvio ${wait}`)
  const lines = childElements(body, 'RespuestaLinea').map((line): ResponseLine => {
    const state = textAt(line, 'EstadoRegistro') ?? ''
    if (!STATES.has(state)) throw new AeatResponseError(`unknown EstadoRegistro ${state}`)
    const operation = textAt(line, 'Operacion', 'TipoOperacion')
    if (operation !== 'Alta' && operation !== 'Anulacion')
      throw new AeatResponseError(`unknown TipoOperacion ${operation}`)
    const duplicate = childAt(line, 'RegistroDuplicado')
    const code = textAt(line, 'CodigoErrorRegistro')
    const description = textAt(line, 'DescripcionErrorRegistro')
    return {
      issuerNif: textAt(line, 'IDFactura', 'IDEmisorFactura') ?? '',
      seriesNumber: textAt(line, 'IDFactura', 'NumSerieFactura') ?? '',
      issueDate: textAt(line, 'IDFactura', 'FechaExpedicionFactura') ?? '',
      operation,
      state: state as RecordState,
      ...(code !== undefined ? { code } : {}),
      ...(description !== undefined ? { description } : {}),
      ...(duplicate
        ? {
            duplicate: {
              requestId: textOf(childAt(duplicate, 'IdPeticionRegistroDuplicado')) ?? '',
              state: textOf(childAt(duplicate, 'EstadoRegistroDuplicado')) ?? '',
            },
          }
        : {}),
    }
  })
  const csv = textAt(body, 'CSV')
  return { kind: 'response', ...(csv ? { csv } : {}), waitSeconds: Number(wait || '0'), status, lines }
}
