import { TERRITORY_RULES, type Territory } from '../markets/es/ticketbai/territories.ts'
import { verifyEnvelopedSignature } from '../markets/es/ticketbai/verify-signature.ts'
import { localName, textAt } from '../markets/es/xml/tree.ts'

/**
 * Checks signed TicketBAI invoices given in chain order: the XAdES signature (every reference and the
 * signature value), the territory whose policy it names, the chaining to the file before, and the
 * TBAI identifier (recomputed here with its own CRC-8, from the identifier specification).
 */
export interface TicketBaiReport {
  invoices: Array<{ file: string; territory?: Territory; identifier?: string; cancels?: string }>
  problems: string[]
}

function crc8(text: string): string {
  let crc = 0
  for (const byte of Buffer.from(text, 'ascii')) {
    crc ^= byte
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff
  }
  return String(crc).padStart(3, '0')
}

export class TicketBaiVerifier {
  private previous?: { series: string; number: string; date: string; signature: string; nif: string }
  private readonly report: TicketBaiReport = { invoices: [], problems: [] }

  document(xml: string, file: string): void {
    const check = verifyEnvelopedSignature(xml)
    for (const problem of check.problems) this.report.problems.push(`${file}: ${problem}`)
    const root = check.document
    if (!root || !check.signatureValue) {
      this.report.invoices.push({ file })
      return
    }
    const territory = (Object.keys(TERRITORY_RULES) as Territory[]).find(
      (t) =>
        TERRITORY_RULES[t].policy.identifier === check.policy?.identifier &&
        TERRITORY_RULES[t].policy.digestSha256 === check.policy?.digest,
    )
    if (!territory)
      this.report.problems.push(`${file}: the signature policy is none of Araba, Bizkaia, Gipuzkoa`)
    if (localName(root.name) === 'AnulaTicketBai') {
      // A cancellation names an invoice and is not part of the chain.
      const header = ['IDFactura', 'CabeceraFactura']
      const cancels = `${textAt(root, ...header, 'SerieFactura') ?? ''}${textAt(root, ...header, 'NumFactura') ?? ''} ${textAt(root, ...header, 'FechaExpedicionFactura') ?? ''}`
      this.report.invoices.push({ file, ...(territory ? { territory } : {}), cancels })
      return
    }
    const nif = textAt(root, 'Sujetos', 'Emisor', 'NIF') ?? ''
    const series = textAt(root, 'Factura', 'CabeceraFactura', 'SerieFactura') ?? ''
    const number = textAt(root, 'Factura', 'CabeceraFactura', 'NumFactura') ?? ''
    const date = textAt(root, 'Factura', 'CabeceraFactura', 'FechaExpedicionFactura') ?? ''
    const cited = {
      series: textAt(root, 'HuellaTBAI', 'EncadenamientoFacturaAnterior', 'SerieFacturaAnterior') ?? '',
      number: textAt(root, 'HuellaTBAI', 'EncadenamientoFacturaAnterior', 'NumFacturaAnterior'),
      date: textAt(root, 'HuellaTBAI', 'EncadenamientoFacturaAnterior', 'FechaExpedicionFacturaAnterior'),
      signature: textAt(
        root,
        'HuellaTBAI',
        'EncadenamientoFacturaAnterior',
        'SignatureValueFirmaFacturaAnterior',
      ),
    }
    const p = this.previous
    if (p && p.nif === nif) {
      if (cited.number === undefined)
        this.report.problems.push(`${file}: no EncadenamientoFacturaAnterior after ${p.number}`)
      else if (
        cited.series !== p.series ||
        cited.number !== p.number ||
        cited.date !== p.date ||
        cited.signature !== p.signature.slice(0, 100)
      )
        this.report.problems.push(
          `${file}: EncadenamientoFacturaAnterior does not name the previous invoice ${p.series}${p.number}`,
        )
    }
    const match = /^(\d{2})-(\d{2})-\d{2}(\d{2})$/.exec(date)
    let identifier: string | undefined
    if (!match) this.report.problems.push(`${file}: FechaExpedicionFactura ${date} is not DD-MM-YYYY`)
    else {
      const body = `TBAI-${nif}-${match[1]}${match[2]}${match[3]}-${check.signatureValue.slice(0, 13)}-`
      identifier = `${body}${crc8(body)}`
    }
    this.previous = { series, number, date, signature: check.signatureValue, nif }
    this.report.invoices.push({
      file,
      ...(territory ? { territory } : {}),
      ...(identifier ? { identifier } : {}),
    })
  }

  finish(): TicketBaiReport {
    return this.report
  }
}
