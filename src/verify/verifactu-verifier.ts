import { createHash } from 'node:crypto'
import { parseXml } from '../markets/es/xml/parse.ts'
import { childAt, childElements, localName, textAt, type XmlElement } from '../markets/es/xml/tree.ts'

/**
 * Checks VERI*FACTU submissions (RegFactuSistemaFacturacion, bare or in a SOAP envelope) from their
 * bytes alone, written from the AEAT hash specification rather than from fiscalbox's record builder:
 * every Huella recomputed from the record's own fields, every chain link (per information system
 * installation, across files given in order), the totals against the breakdown.
 */
export interface VerifactuReport {
  records: number
  chains: number
  /** per installation: the Huella of its last record */
  heads: Record<string, string>
  problems: string[]
}

const sha256Upper = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex').toUpperCase()

function cents(value: string | undefined): bigint | undefined {
  const match = value === undefined ? null : /^([+-])?(\d{1,12})(?:\.(\d{0,2}))?$/.exec(value)
  if (!match) return undefined
  const c = BigInt(match[2] as string) * 100n + BigInt((match[3] ?? '').padEnd(2, '0') || '0')
  return match[1] === '-' ? -c : c
}

interface Link {
  nif: string
  number: string
  date: string
  huella: string
}

export class VerifactuVerifier {
  private readonly heads = new Map<string, Link>()
  private records = 0
  private readonly problems: string[] = []

  /** One document (a file); files of one chain must be given in order. */
  document(xml: string, name: string): void {
    let root: XmlElement
    try {
      root = parseXml(xml)
    } catch (error) {
      this.problems.push(`${name}: not well-formed XML: ${(error as Error).message}`)
      return
    }
    const body = localName(root.name) === 'Envelope' ? childElements(childAt(root, 'Body') ?? root)[0] : root
    if (!body || localName(body.name) !== 'RegFactuSistemaFacturacion') {
      this.problems.push(`${name}: no RegFactuSistemaFacturacion`)
      return
    }
    const entries = childElements(body, 'RegistroFactura')
    if (entries.length > 1000)
      this.problems.push(`${name}: ${entries.length} records, at most 1000 per submission`)
    entries.forEach((entry, i) => {
      const [record] = childElements(entry)
      if (record) this.record(record, `${name} record ${i + 1}`)
      else this.problems.push(`${name} record ${i + 1}: empty RegistroFactura`)
    })
  }

  private record(record: XmlElement, where: string): void {
    this.records++
    const alta = localName(record.name) === 'RegistroAlta'
    const suffix = alta ? '' : 'Anulada'
    const nif = textAt(record, 'IDFactura', `IDEmisorFactura${suffix}`) ?? ''
    const number = textAt(record, 'IDFactura', `NumSerieFactura${suffix}`) ?? ''
    const date = textAt(record, 'IDFactura', `FechaExpedicionFactura${suffix}`) ?? ''
    const huella = textAt(record, 'Huella') ?? ''
    const generated = textAt(record, 'FechaHoraHusoGenRegistro') ?? ''
    const previousHuella = textAt(record, 'Encadenamiento', 'RegistroAnterior', 'Huella') ?? ''
    const id = `${where} (${nif} ${number} ${date})`
    if (textAt(record, 'TipoHuella') !== '01') this.problems.push(`${id}: TipoHuella is not 01`)
    const pairs = alta
      ? [
          ['IDEmisorFactura', nif],
          ['NumSerieFactura', number],
          ['FechaExpedicionFactura', date],
          ['TipoFactura', textAt(record, 'TipoFactura') ?? ''],
          ['CuotaTotal', textAt(record, 'CuotaTotal') ?? ''],
          ['ImporteTotal', textAt(record, 'ImporteTotal') ?? ''],
          ['Huella', previousHuella],
          ['FechaHoraHusoGenRegistro', generated],
        ]
      : [
          ['IDEmisorFacturaAnulada', nif],
          ['NumSerieFacturaAnulada', number],
          ['FechaExpedicionFacturaAnulada', date],
          ['Huella', previousHuella],
          ['FechaHoraHusoGenRegistro', generated],
        ]
    const expected = sha256Upper(pairs.map(([k, v]) => `${k}=${(v as string).trim()}`).join('&'))
    if (expected !== huella) this.problems.push(`${id}: Huella ${huella} should be ${expected}`)

    const installation = ['NIF', 'IdSistemaInformatico', 'NumeroInstalacion']
      .map((field) => textAt(record, 'SistemaInformatico', field) ?? '')
      .join('/')
    const chainKey = `${nif}@${installation}`
    const head = this.heads.get(chainKey)
    const first = textAt(record, 'Encadenamiento', 'PrimerRegistro') === 'S'
    if (!head) {
      if (!first)
        this.problems.push(
          `${id}: the first record of ${chainKey} in these files cites a previous record (give the earlier files first)`,
        )
    } else if (first) {
      this.problems.push(`${id}: PrimerRegistro=S, but ${chainKey} already has records`)
    } else {
      const cited = {
        nif: textAt(record, 'Encadenamiento', 'RegistroAnterior', 'IDEmisorFactura'),
        number: textAt(record, 'Encadenamiento', 'RegistroAnterior', 'NumSerieFactura'),
        date: textAt(record, 'Encadenamiento', 'RegistroAnterior', 'FechaExpedicionFactura'),
        huella: previousHuella,
      }
      if (
        cited.nif !== head.nif ||
        cited.number !== head.number ||
        cited.date !== head.date ||
        cited.huella !== head.huella
      )
        this.problems.push(
          `${id}: RegistroAnterior does not name the previous record (${head.number} ${head.date} ${head.huella})`,
        )
    }
    this.heads.set(chainKey, { nif, number, date, huella })

    if (alta) {
      let base = 0n
      let tax = 0n
      for (const line of childElements(childAt(record, 'Desglose') ?? record, 'DetalleDesglose')) {
        base += cents(textAt(line, 'BaseImponibleOimporteNoSujeto')) ?? 0n
        tax +=
          (cents(textAt(line, 'CuotaRepercutida')) ?? 0n) +
          (cents(textAt(line, 'CuotaRecargoEquivalencia')) ?? 0n)
      }
      if (cents(textAt(record, 'CuotaTotal')) !== tax)
        this.problems.push(`${id}: CuotaTotal is not the sum of the breakdown's taxes`)
      if (cents(textAt(record, 'ImporteTotal')) !== base + tax)
        this.problems.push(`${id}: ImporteTotal is not the sum of the breakdown's bases and taxes`)
    }
  }

  finish(): VerifactuReport {
    return {
      records: this.records,
      chains: this.heads.size,
      heads: Object.fromEntries([...this.heads].map(([key, link]) => [key, link.huella])),
      problems: this.problems,
    }
  }
}
