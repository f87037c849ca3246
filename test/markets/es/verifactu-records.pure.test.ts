import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { altaHashInput, anulacionHashInput, huella } from '../../../src/markets/es/verifactu/huella.ts'
import { verifactuQrUrl } from '../../../src/markets/es/verifactu/qr.ts'
import {
  type AltaInput,
  chainAlta,
  chainAnulacion,
  emptyChain,
  formatInvoiceNumber,
  hashInputOf,
} from '../../../src/markets/es/verifactu/records.ts'
import { submissionBody } from '../../../src/markets/es/verifactu/xml.ts'
import { serializeDocument } from '../../../src/markets/es/xml/serialize.ts'
import { SYSTEM, sampleChain } from './support.ts'
import { VECTORS, xmllint } from './xsd.ts'

const vectors = JSON.parse(readFileSync(join(VECTORS, 'verifactu-vectors.json'), 'utf8')) as {
  official: Array<{ case: string; input: string; expected: string }>
  qr: { examples: Array<{ expected: string }> }
}

const fromPairs = (input: string) => {
  const pairs = new Map(
    input.split('&').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]),
  )
  return (key: string): string => pairs.get(key) ?? assert.fail(`no ${key} in the vector`)
}

describe('VeriFactu Huella: the official AEAT worked examples', () => {
  for (const v of vectors.official) {
    it(`reproduces "${v.case}"`, () => {
      const f = fromPairs(v.input)
      const input = v.input.includes('&TipoFactura=')
        ? altaHashInput({
            issuerNif: f('IDEmisorFactura'),
            seriesNumber: f('NumSerieFactura'),
            issueDate: f('FechaExpedicionFactura'),
            invoiceType: f('TipoFactura'),
            taxTotal: f('CuotaTotal'),
            total: f('ImporteTotal'),
            previousHuella: f('Huella'),
            generatedAt: f('FechaHoraHusoGenRegistro'),
          })
        : anulacionHashInput({
            issuerNif: f('IDEmisorFacturaAnulada'),
            seriesNumber: f('NumSerieFacturaAnulada'),
            issueDate: f('FechaExpedicionFacturaAnulada'),
            previousHuella: f('Huella'),
            generatedAt: f('FechaHoraHusoGenRegistro'),
          })
      assert.equal(input, v.input)
      assert.equal(huella(input), v.expected)
    })
  }

  it('builds the same three-record chain from invoice data (alta, alta, anulacion)', () => {
    const issuer = { nif: '89890001K', name: 'Empresa de prueba SL' }
    const base = (seriesNumber: string, at: string): AltaInput => ({
      issuer,
      seriesNumber,
      issueDate: '2024-01-01',
      invoiceType: 'F1',
      description: 'Venta',
      recipients: [{ nif: '12345678Z', name: 'Cliente SA' }],
      // 111.10 + 12.35 = 123.45: the amounts of the official example
      lines: [{ rateBasisPoints: 1112, baseCents: 11110, taxCents: 1235 }],
      generatedAt: new Date(at),
    })
    const first = chainAlta(emptyChain(), base('12345678/G33', '2024-01-01T18:20:30Z'), SYSTEM)
    const second = chainAlta(first.state, base('12345679/G34', '2024-01-01T18:20:35Z'), SYSTEM)
    const third = chainAnulacion(
      second.state,
      {
        issuerNif: '89890001K',
        seriesNumber: '12345679/G34',
        issueDate: '2024-01-01',
        generatedAt: new Date('2024-01-01T18:20:40Z'),
      },
      SYSTEM,
    )
    const records = [first.record, second.record, third.record]
    assert.deepEqual(
      records.map((r) => hashInputOf(r)),
      vectors.official.map((v) => v.input),
    )
    assert.deepEqual(
      records.map((r) => r.huella),
      vectors.official.map((v) => v.expected),
    )
    assert.equal(third.state.previous?.huella, vectors.official[2]?.expected)
  })
})

describe('VeriFactu QR URL', () => {
  it('reproduces both published examples on the test base', () => {
    const [a, b] = vectors.qr.examples
    assert.equal(
      verifactuQrUrl(
        { issuerNif: '89890001K', seriesNumber: '12345678&G33', issueDate: '01-01-2024', total: '241.4' },
        'test',
      ),
      a?.expected,
    )
    assert.equal(
      verifactuQrUrl(
        { issuerNif: '89890001K', seriesNumber: '12345678-G33', issueDate: '01-09-2024', total: '241.4' },
        'test',
      ),
      b?.expected,
    )
  })

  it('uses the production base in production', () => {
    assert.match(
      verifactuQrUrl(
        { issuerNif: '89890001K', seriesNumber: 'A 1/2', issueDate: '01-01-2024', total: '1.00' },
        'production',
      ),
      /^https:\/\/www2\.agenciatributaria\.gob\.es\/wlpl\/TIKE-CONT\/ValidarQR\?nif=89890001K&numserie=A%201%2F2&fecha=01-01-2024&importe=1\.00$/,
    )
  })
})

describe('VeriFactu invoice numbers and input rules', () => {
  it('formats series and number', () => {
    assert.equal(formatInvoiceNumber('T2025-', 42), 'T2025-000042')
    assert.throws(() => formatInvoiceNumber('T', 0), /positive integer/)
    assert.throws(() => formatInvoiceNumber('x'.repeat(60), 1), /60 printable ASCII/)
  })

  it('refuses a simplified invoice with a recipient and a full invoice without one', () => {
    const input: AltaInput = {
      issuer: { nif: '89890001K', name: 'E' },
      seriesNumber: 'A1',
      issueDate: '2025-02-03',
      invoiceType: 'F2',
      description: 'x',
      lines: [{ rateBasisPoints: 2100, baseCents: 100, taxCents: 21 }],
      generatedAt: new Date(),
      recipients: [{ nif: '12345678Z', name: 'C' }],
    }
    assert.throws(() => chainAlta(emptyChain(), input, SYSTEM), /recipients/)
    assert.throws(
      () => chainAlta(emptyChain(), { ...input, invoiceType: 'F1', recipients: [] }, SYSTEM),
      /recipient/,
    )
  })

  it('refuses impossible dates', () => {
    assert.throws(
      () =>
        chainAlta(
          emptyChain(),
          {
            issuer: { nif: '89890001K', name: 'E' },
            seriesNumber: 'A1',
            issueDate: '2025-02-30',
            invoiceType: 'F2',
            description: 'x',
            lines: [{ rateBasisPoints: 2100, baseCents: 100, taxCents: 21 }],
            generatedAt: new Date(),
          },
          SYSTEM,
        ),
      /calendar date/,
    )
  })
})

describe('VeriFactu submission XML against the AEAT XSD (xmllint)', () => {
  it('a batch of altas (F2, R5 with exempt lines) and anulaciones validates against SuministroLR.xsd', () => {
    const records = sampleChain(40)
    const xml = serializeDocument(
      submissionBody({ taxpayer: { nif: 'B12345678', name: 'Bar Ejemplo & Cía' }, incident: true }, records),
    )
    const result = xmllint(xml, 'SuministroLR.xsd')
    assert.ok(result.ok, result.output)
    assert.match(xml, /<sf:RemisionVoluntaria><sf:Incidencia>S<\/sf:Incidencia><\/sf:RemisionVoluntaria>/)
  })

  it('full invoices with recipients and a rectification by substitution validate', () => {
    const first = chainAlta(
      emptyChain(),
      {
        issuer: { nif: '89890001K', name: 'Empresa' },
        seriesNumber: 'F-1',
        issueDate: '2025-01-10',
        invoiceType: 'F1',
        description: 'Servicios',
        recipients: [{ nif: '12345678Z', name: 'Cliente' }],
        lines: [
          { rateBasisPoints: 2100, baseCents: 10000, taxCents: 2100 },
          { rateBasisPoints: 1000, baseCents: 500, taxCents: 50 },
        ],
        generatedAt: new Date('2025-01-10T10:00:00Z'),
        externalRef: 'order-77',
      },
      SYSTEM,
    )
    const second = chainAlta(
      first.state,
      {
        issuer: { nif: '89890001K', name: 'Empresa' },
        seriesNumber: 'FR-1',
        issueDate: '2025-01-11',
        invoiceType: 'R1',
        description: 'Rectificación',
        recipients: [{ nif: '12345678Z', name: 'Cliente' }],
        lines: [{ rateBasisPoints: 2100, baseCents: 9000, taxCents: 1890 }],
        rectifies: {
          type: 'S',
          invoices: [{ issuerNif: '89890001K', seriesNumber: 'F-1', issueDate: '2025-01-10' }],
          replacedBaseCents: 10500,
          replacedTaxCents: 2150,
        },
        generatedAt: new Date('2025-01-11T10:00:00Z'),
      },
      SYSTEM,
    )
    const xml = serializeDocument(
      submissionBody({ taxpayer: { nif: '89890001K', name: 'Empresa' } }, [first.record, second.record]),
    )
    const result = xmllint(xml, 'SuministroLR.xsd')
    assert.ok(result.ok, result.output)
    assert.equal(first.record.total, '126.50')
    assert.equal(first.record.taxTotal, '21.50')
    assert.equal(first.record.generatedAt, '2025-01-10T11:00:00+01:00')
    assert.equal(second.record.previous?.huella, first.record.huella)
  })

  it('refuses more than 1000 records in one submission and records of another taxpayer', () => {
    const records = sampleChain(2)
    assert.throws(
      () => submissionBody({ taxpayer: { nif: 'B12345678', name: 'x' } }, Array(1001).fill(records[0])),
      /1 to 1000/,
    )
    assert.throws(() => submissionBody({ taxpayer: { nif: 'A00000000', name: 'x' } }, records), /taxpayer/)
  })

  it('property: any chain of records hashes to its own hash input and links to its predecessor', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), (n) => {
        const records = sampleChain(n)
        records.forEach((r, i) => {
          assert.equal(r.huella, huella(hashInputOf(r)))
          assert.equal(r.previous?.huella ?? null, i === 0 ? null : records[i - 1]?.huella)
        })
      }),
      { numRuns: 20 },
    )
  })
})

describe('the XSD check itself', () => {
  it('fails a record without its Huella and one with a malformed amount', () => {
    const xml = serializeDocument(
      submissionBody({ taxpayer: { nif: 'B12345678', name: 'Bar' } }, sampleChain(1)),
    )
    assert.equal(xmllint(xml.replace(/<sf:TipoHuella>.*<\/sf:Huella>/, ''), 'SuministroLR.xsd').ok, false)
    assert.equal(
      xmllint(xml.replace(/<sf:ImporteTotal>[^<]*</, '<sf:ImporteTotal>1,5<'), 'SuministroLR.xsd').ok,
      false,
    )
  })
})
