import { childAt, childElements, localName, textAt, textOf, type XmlElement } from '../xml/tree.ts'

/**
 * The simulator's own structural checks of a VERI*FACTU record, written from SuministroInformacion.xsd:
 * element order, required elements, enumerations and patterns. It answers with the first problem found,
 * as the AEAT does with its error code and description.
 */

const ALTA_ORDER = [
  'IDVersion',
  'IDFactura',
  'RefExterna',
  'NombreRazonEmisor',
  'Subsanacion',
  'RechazoPrevio',
  'TipoFactura',
  'TipoRectificativa',
  'FacturasRectificadas',
  'FacturasSustituidas',
  'ImporteRectificacion',
  'FechaOperacion',
  'DescripcionOperacion',
  'FacturaSimplificadaArt7273',
  'FacturaSinIdentifDestinatarioArt61d',
  'Macrodato',
  'EmitidaPorTerceroODestinatario',
  'Tercero',
  'Destinatarios',
  'Cupon',
  'Desglose',
  'CuotaTotal',
  'ImporteTotal',
  'Encadenamiento',
  'SistemaInformatico',
  'FechaHoraHusoGenRegistro',
  'NumRegistroAcuerdoFacturacion',
  'IdAcuerdoSistemaInformatico',
  'TipoHuella',
  'Huella',
  'Signature',
]
const ALTA_REQUIRED = [
  'IDVersion',
  'IDFactura',
  'NombreRazonEmisor',
  'TipoFactura',
  'DescripcionOperacion',
  'Desglose',
  'CuotaTotal',
  'ImporteTotal',
  'Encadenamiento',
  'SistemaInformatico',
  'FechaHoraHusoGenRegistro',
  'TipoHuella',
  'Huella',
]
const ANULACION_ORDER = [
  'IDVersion',
  'IDFactura',
  'RefExterna',
  'SinRegistroPrevio',
  'RechazoPrevio',
  'GeneradoPor',
  'Generador',
  'Encadenamiento',
  'SistemaInformatico',
  'FechaHoraHusoGenRegistro',
  'TipoHuella',
  'Huella',
  'Signature',
]
const ANULACION_REQUIRED = [
  'IDVersion',
  'IDFactura',
  'Encadenamiento',
  'SistemaInformatico',
  'FechaHoraHusoGenRegistro',
  'TipoHuella',
  'Huella',
]
const SYSTEM_ORDER = [
  'NombreRazon',
  'NIF',
  'NombreSistemaInformatico',
  'IdSistemaInformatico',
  'Version',
  'NumeroInstalacion',
  'TipoUsoPosibleSoloVerifactu',
  'TipoUsoPosibleMultiOT',
  'IndicadorMultiplesOT',
]

export const AMOUNT = /^(\+|-)?\d{1,12}(\.\d{0,2})?$/
const FECHA = /^\d{2}-\d{2}-\d{4}$/
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/
const HASH = /^[0-9A-F]{64}$/
const INVOICE_TYPES = new Set(['F1', 'F2', 'F3', 'R1', 'R2', 'R3', 'R4', 'R5'])

export class RecordProblem extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

const problem = (field: string, rule: string) =>
  new RecordProblem('1100', `Valor o tipo incorrecto del campo: ${field} (${rule})`)

function order(element: XmlElement, expected: string[], required: string[], where: string): void {
  let position = 0
  for (const c of childElements(element)) {
    const name = localName(c.name)
    const at = expected.indexOf(name, position)
    if (at < 0)
      throw problem(
        `${where}/${name}`,
        expected.includes(name) ? 'fuera de orden o repetido' : 'elemento no permitido',
      )
    position = at + 1
  }
  for (const name of required) if (!childAt(element, name)) throw problem(`${where}/${name}`, 'obligatorio')
}

function value(
  element: XmlElement,
  path: string[],
  test: RegExp | ((v: string) => boolean),
  rule: string,
): string {
  const v = textAt(element, ...path)
  if (v === undefined) throw problem(path.join('/'), 'obligatorio')
  const ok = typeof test === 'function' ? test(v) : test.test(v)
  if (!ok) throw problem(path.join('/'), rule)
  return v
}

const maxLength = (n: number) => (v: string) => v.length > 0 && v.length <= n
const nifShape = (v: string) => v.length === 9

function chaining(record: XmlElement): void {
  const chain = childAt(record, 'Encadenamiento')
  const [only, ...rest] = chain ? childElements(chain) : []
  if (!only || rest.length) throw problem('Encadenamiento', 'PrimerRegistro o RegistroAnterior')
  if (localName(only.name) === 'PrimerRegistro') {
    if (textOf(only) !== 'S') throw problem('Encadenamiento/PrimerRegistro', 'S')
    return
  }
  if (localName(only.name) !== 'RegistroAnterior')
    throw problem('Encadenamiento', 'PrimerRegistro o RegistroAnterior')
  value(only, ['IDEmisorFactura'], nifShape, 'NIF de 9 caracteres')
  value(only, ['NumSerieFactura'], maxLength(60), '1 a 60 caracteres')
  value(only, ['FechaExpedicionFactura'], FECHA, 'dd-mm-aaaa')
  value(only, ['Huella'], HASH, '64 hexadecimales')
}

function system(record: XmlElement): void {
  const s = childAt(record, 'SistemaInformatico') as XmlElement
  order(s, SYSTEM_ORDER, SYSTEM_ORDER, 'SistemaInformatico')
  value(s, ['IdSistemaInformatico'], (v) => v.length <= 2, 'máximo 2 caracteres')
  value(s, ['NombreSistemaInformatico'], maxLength(30), 'máximo 30 caracteres')
  for (const yn of ['TipoUsoPosibleSoloVerifactu', 'TipoUsoPosibleMultiOT', 'IndicadorMultiplesOT'])
    value(s, [yn], /^[SN]$/, 'S o N')
}

export function checkAlta(record: XmlElement): void {
  order(record, ALTA_ORDER, ALTA_REQUIRED, 'RegistroAlta')
  value(record, ['IDVersion'], /^1\.0$/, '1.0')
  value(record, ['IDFactura', 'IDEmisorFactura'], nifShape, 'NIF de 9 caracteres')
  value(record, ['IDFactura', 'NumSerieFactura'], maxLength(60), '1 a 60 caracteres')
  value(record, ['IDFactura', 'FechaExpedicionFactura'], FECHA, 'dd-mm-aaaa')
  value(record, ['NombreRazonEmisor'], maxLength(120), 'máximo 120 caracteres')
  const type = value(record, ['TipoFactura'], (v) => INVOICE_TYPES.has(v), 'F1, F2, F3, R1..R5')
  if (type.startsWith('R') !== Boolean(childAt(record, 'TipoRectificativa')))
    throw new RecordProblem('1118', 'TipoRectificativa solo y siempre en facturas rectificativas')
  value(record, ['DescripcionOperacion'], maxLength(500), 'máximo 500 caracteres')
  const lines = childElements(childAt(record, 'Desglose') as XmlElement, 'DetalleDesglose')
  if (lines.length < 1 || lines.length > 12) throw problem('Desglose/DetalleDesglose', '1 a 12 líneas')
  for (const line of lines) {
    value(line, ['BaseImponibleOimporteNoSujeto'], AMOUNT, 'importe')
    if (!childAt(line, 'CalificacionOperacion') && !childAt(line, 'OperacionExenta'))
      throw problem('DetalleDesglose/CalificacionOperacion', 'obligatorio si no es exenta')
    const quota = textAt(line, 'CuotaRepercutida')
    if (quota !== undefined && !AMOUNT.test(quota))
      throw problem('DetalleDesglose/CuotaRepercutida', 'importe')
  }
  value(record, ['CuotaTotal'], AMOUNT, 'importe')
  value(record, ['ImporteTotal'], AMOUNT, 'importe')
  chaining(record)
  system(record)
  value(record, ['FechaHoraHusoGenRegistro'], DATETIME, 'fecha y hora con huso horario')
  value(record, ['TipoHuella'], /^01$/, '01')
  value(record, ['Huella'], HASH, '64 hexadecimales en mayúsculas')
}

export function checkAnulacion(record: XmlElement): void {
  order(record, ANULACION_ORDER, ANULACION_REQUIRED, 'RegistroAnulacion')
  value(record, ['IDVersion'], /^1\.0$/, '1.0')
  value(record, ['IDFactura', 'IDEmisorFacturaAnulada'], nifShape, 'NIF de 9 caracteres')
  value(record, ['IDFactura', 'NumSerieFacturaAnulada'], maxLength(60), '1 a 60 caracteres')
  value(record, ['IDFactura', 'FechaExpedicionFacturaAnulada'], FECHA, 'dd-mm-aaaa')
  chaining(record)
  system(record)
  value(record, ['FechaHoraHusoGenRegistro'], DATETIME, 'fecha y hora con huso horario')
  value(record, ['TipoHuella'], /^01$/, '01')
  value(record, ['Huella'], HASH, '64 hexadecimales en mayúsculas')
}
