import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runTool } from '../../helpers/system-tools.ts'
import type { TicketBaiInvoiceInput } from '../../../src/markets/es/ticketbai/invoice.ts'
import {
  chainAlta,
  chainAnulacion,
  emptyChain,
  formatInvoiceNumber,
  type SoftwareSystem,
  type VerifactuRecord,
} from '../../../src/markets/es/verifactu/records.ts'

/** Sample data and the xmlsec1 check shared by the Spanish tests. Not a test file itself. */

export const SYSTEM: SoftwareSystem = {
  producerName: 'fiscalbox contributors',
  producerNif: 'B00000034',
  name: 'fiscalbox',
  id: 'FB',
  version: '0.1.0',
  installationNumber: 'location-0001',
  onlyVerifactu: true,
  multipleTaxpayers: true,
  hasMultipleTaxpayers: false,
}

/**
 * A chain of simplified invoices (some with an exempt line), rectifications (R5, every 5th) and
 * cancellations of the latest simplified invoice (every 7th) from one issuer, issued on the start's date.
 */
export function sampleChain(count: number, start = new Date('2025-03-30T00:30:00Z')): VerifactuRecord[] {
  const issueDate = start.toISOString().slice(0, 10)
  let state = emptyChain()
  let lastSimplified: string | undefined
  const records: VerifactuRecord[] = []
  for (let i = 1; i <= count; i++) {
    const at = new Date(start.getTime() + i * 1000)
    if (i % 7 === 0 && lastSimplified) {
      const { record, state: next } = chainAnulacion(
        state,
        { issuerNif: 'B12345678', seriesNumber: lastSimplified, issueDate, generatedAt: at },
        SYSTEM,
      )
      records.push(record)
      state = next
      lastSimplified = undefined
      continue
    }
    const rectifying = i % 5 === 0
    const seriesNumber = formatInvoiceNumber(rectifying ? 'R-' : 'T-', i)
    const { record, state: next } = chainAlta(
      state,
      {
        issuer: { nif: 'B12345678', name: 'Bar Ejemplo & Cía' },
        seriesNumber,
        issueDate,
        invoiceType: rectifying ? 'R5' : 'F2',
        description: 'Ticket <café>',
        lines: [
          {
            rateBasisPoints: 1000,
            baseCents: (rectifying ? -1 : 1) * (100 + i),
            taxCents: (rectifying ? -1 : 1) * (10 + (i % 10)),
          },
          ...(i % 3 === 0 ? [{ baseCents: 250, qualification: 'E1' }] : []),
        ],
        ...(rectifying
          ? {
              rectifies: {
                type: 'I' as const,
                invoices: [
                  { issuerNif: 'B12345678', seriesNumber: formatInvoiceNumber('T-', i - 1), issueDate },
                ],
              },
            }
          : {}),
        generatedAt: at,
      },
      SYSTEM,
    )
    records.push(record)
    state = next
    if (!rectifying) lastSimplified = seriesNumber
  }
  return records
}

export function sampleInvoice(over: Partial<TicketBaiInvoiceInput> = {}): TicketBaiInvoiceInput {
  return {
    territory: 'gipuzkoa',
    issuer: { nif: 'B12345678', name: 'Empresa de Prueba, SL' },
    series: 'T',
    number: '27174',
    issuedAt: new Date('2025-10-19T08:15:00Z'),
    simplified: true,
    description: 'Ticket <bar> & "café"',
    lines: [{ description: 'Café con leche', quantity: '2', unitPriceCents: 160, totalCents: 320 }],
    vat: [{ rateBasisPoints: 1000, baseCents: 291, taxCents: 29 }],
    exempt: [{ cause: 'E1', baseCents: 150 }],
    software: {
      license: 'TBAIGIPRE00000000001',
      developerNif: 'B00000034',
      name: 'fiscalbox',
      version: '0.1.0',
    },
    deviceSerial: 'POS-01',
    ...over,
  }
}

export function xmlsecVerify(xml: string, trustedPem: string): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tbai-'))
  writeFileSync(join(dir, 'doc.xml'), xml)
  writeFileSync(join(dir, 'ca.pem'), trustedPem)
  const { ok, output } = runTool('xmlsec1', [
    '--verify',
    '--trusted-pem',
    join(dir, 'ca.pem'),
    join(dir, 'doc.xml'),
  ])
  return { ok, output }
}
