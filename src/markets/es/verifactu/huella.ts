import { createHash } from 'node:crypto'

/**
 * The VeriFactu record hash (Huella, TipoHuella 01): SHA-256 over the UTF-8 text of `Name=value` pairs
 * joined by `&`, values trimmed and not escaped, as 64 upper-case hex digits (AEAT "huella" spec v0.1.2).
 */
export interface AltaHashFields {
  issuerNif: string
  seriesNumber: string
  /** DD-MM-YYYY */
  issueDate: string
  invoiceType: string
  /** CuotaTotal exactly as written in the XML */
  taxTotal: string
  /** ImporteTotal exactly as written in the XML */
  total: string
  /** Huella of the previous record of the chain, '' for the first record */
  previousHuella: string
  /** FechaHoraHusoGenRegistro as written in the XML */
  generatedAt: string
}

export interface AnulacionHashFields {
  issuerNif: string
  seriesNumber: string
  issueDate: string
  previousHuella: string
  generatedAt: string
}

const pairs = (entries: Array<[string, string]>) => entries.map(([k, v]) => `${k}=${v.trim()}`).join('&')

export function altaHashInput(f: AltaHashFields): string {
  return pairs([
    ['IDEmisorFactura', f.issuerNif],
    ['NumSerieFactura', f.seriesNumber],
    ['FechaExpedicionFactura', f.issueDate],
    ['TipoFactura', f.invoiceType],
    ['CuotaTotal', f.taxTotal],
    ['ImporteTotal', f.total],
    ['Huella', f.previousHuella],
    ['FechaHoraHusoGenRegistro', f.generatedAt],
  ])
}

export function anulacionHashInput(f: AnulacionHashFields): string {
  return pairs([
    ['IDEmisorFacturaAnulada', f.issuerNif],
    ['NumSerieFacturaAnulada', f.seriesNumber],
    ['FechaExpedicionFacturaAnulada', f.issueDate],
    ['Huella', f.previousHuella],
    ['FechaHoraHusoGenRegistro', f.generatedAt],
  ])
}

export function huella(hashInput: string): string {
  return createHash('sha256').update(hashInput, 'utf8').digest('hex').toUpperCase()
}
