import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import {
  breakdownByRate,
  issueCancellation,
  issueSale,
  newSpainState,
  type Sale,
  type SpainDocument,
  type SpainIssuerConfig,
  type SpainState,
} from '../../../src/markets/es/documents.ts'
import { spanishAuthorityFor } from '../../../src/markets/es/index.ts'
import { startSimulator } from '../../../src/markets/es/simulator/app.ts'
import { tbaiIdentifierValid } from '../../../src/markets/es/ticketbai/identifier.ts'
import type { TicketBaiRecord } from '../../../src/markets/es/ticketbai/issue.ts'
import type { VerifactuRecord } from '../../../src/markets/es/verifactu/records.ts'
import { submissionBody } from '../../../src/markets/es/verifactu/xml.ts'
import { serializeDocument } from '../../../src/markets/es/xml/serialize.ts'
import { VerifactuVerifier } from '../../../src/verify/verifactu-verifier.ts'
import { testPki } from './certificates.ts'
import { SYSTEM, sampleInvoice, xmlsecVerify } from './support.ts'
import { xmllint } from './xsd.ts'

const RATES = [0, 400, 1000, 2100]

describe('breakdownByRate: items and declared totals', () => {
  it('property: the lines always add up to the declared totals when the POS rounded per item', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            quantity: fc.oneof(
              fc.integer({ min: 1, max: 20 }).map(String),
              fc.integer({ min: 1, max: 5000 }).map((g) => (g / 1000).toFixed(3)),
            ),
            unitPriceCents: fc.integer({ min: 1, max: 500_000 }),
            taxRateBasisPoints: fc.constantFrom(...RATES),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        (raw) => {
          const items = raw.map((r) => ({ ...r, description: 'x' }))
          // A POS that rounds the tax of every item on its own:
          let pretax = 0
          let tax = 0
          for (const item of items) {
            const base = Math.round(Number(item.quantity) * item.unitPriceCents)
            pretax += base
            tax += Math.round((base * item.taxRateBasisPoints) / 10_000)
          }
          const lines = breakdownByRate(items, pretax, tax)
          assert.equal(
            lines.reduce((s, l) => s + l.baseCents, 0),
            pretax,
          )
          assert.equal(
            lines.reduce((s, l) => s + l.taxCents, 0),
            tax,
          )
          assert.deepEqual(
            lines.map((l) => l.rateBasisPoints),
            [...new Set(items.map((i) => i.taxRateBasisPoints))].sort((a, b) => b - a),
          )
          for (const line of lines) {
            const exact = (line.baseCents * line.rateBasisPoints) / 10_000
            assert.ok(Math.abs(line.taxCents - exact) <= items.length + 1)
            if (line.rateBasisPoints === 0) assert.equal(line.taxCents, 0)
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it('refuses totals that are more than rounding away from the items', () => {
    const items = [{ description: 'Café', quantity: '2', unitPriceCents: 150, taxRateBasisPoints: 1000 }]
    assert.deepEqual(breakdownByRate(items, 300, 30), [
      { rateBasisPoints: 1000, baseCents: 300, taxCents: 30 },
    ])
    assert.deepEqual(breakdownByRate(items, 301, 29), [
      { rateBasisPoints: 1000, baseCents: 301, taxCents: 29 },
    ])
    assert.throws(() => breakdownByRate(items, 310, 30), /pretax_amount is 310/)
    assert.throws(() => breakdownByRate([], 0, 0), /non-empty/)
    assert.throws(() => breakdownByRate([{ ...items[0], quantity: '-1' } as never], 0, 0), /quantity/)
    assert.throws(
      () => breakdownByRate([{ ...items[0], taxRateBasisPoints: 0 } as never], 300, 1),
      /must be 0/,
    )
  })
})

const sale = (over: Partial<Sale> = {}): Sale => ({
  issuedAt: new Date('2025-12-01T10:00:00Z'),
  items: [
    { description: 'Menú del día', quantity: '2', unitPriceCents: 1250, taxRateBasisPoints: 1000 },
    { description: 'Libro', quantity: '1', unitPriceCents: 2000, taxRateBasisPoints: 400 },
  ],
  pretaxCents: 4500,
  taxCents: 330,
  ...over,
})

describe('issueSale and issueCancellation end to end with the simulator', () => {
  let sim: Awaited<ReturnType<typeof startSimulator>>
  before(async () => {
    sim = await startSimulator({})
  })
  after(() => sim.close())

  it('VERI*FACTU: F2, F1 with a customer, then a cancellation; numbered, chained, valid, registered', async () => {
    const config: SpainIssuerConfig = {
      system: 'verifactu',
      issuer: { nif: 'B99999999', name: 'Restaurante SL' },
      environment: 'test',
      series: 'M2025-',
      verifactuSystem: SYSTEM,
    }
    let state: SpainState = newSpainState()
    const documents: SpainDocument[] = []
    for (const s of [sale(), sale({ customer: { nif: '12345678Z', name: 'Cliente SA' } })]) {
      const made = issueSale(config, state, s)
      documents.push(made.document)
      state = made.state
    }
    const cancelled = issueCancellation(
      config,
      state,
      documents[0] as SpainDocument,
      new Date('2025-12-01T12:00:00Z'),
    )
    documents.push(cancelled.document)
    state = cancelled.state
    assert.equal(state.nextNumber, 3)
    assert.deepEqual(
      documents.map((d) => d.fiscalId),
      ['M2025-000001', 'M2025-000002', 'M2025-000001'],
    )
    const records = documents.map((d) => d.record.value as VerifactuRecord)
    assert.deepEqual(
      records.map((r) => (r.kind === 'alta' ? r.invoiceType : 'anulacion')),
      ['F2', 'F1', 'anulacion'],
    )
    assert.equal((records[0] as VerifactuRecord & { kind: 'alta' }).total, '48.30')
    assert.equal(
      documents[0]?.qrUrl,
      'https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR?nif=B99999999&numserie=M2025-000001&fecha=01-12-2025&importe=48.30',
    )
    const xml = serializeDocument(submissionBody({ taxpayer: config.issuer }, records))
    assert.ok(xmllint(xml, 'SuministroLR.xsd').ok)
    const verifier = new VerifactuVerifier()
    verifier.document(xml, 'documents')
    assert.deepEqual(verifier.finish().problems, [])
    const { authority } = spanishAuthorityFor(
      { system: 'verifactu', taxpayer: config.issuer, environment: 'test' },
      { simulatorUrl: sim.url },
    )
    const result = await (
      authority as { submit(r: VerifactuRecord[]): ReturnType<typeof authority.submit> }
    ).submit(records)
    assert.ok(
      result.kind === 'answered' && result.outcomes.every((o) => o.status === 'accepted'),
      JSON.stringify(result),
    )
    assert.equal(sim.aeat.invoices.get('B99999999|M2025-000001|01-12-2025')?.state, 'Anulada')
  })

  it('TicketBAI (Gipuzkoa): signed, identified, chained, cancelled; the simulator takes all of it', async () => {
    const pki = await testPki()
    const config: SpainIssuerConfig = {
      system: 'ticketbai',
      territory: 'gipuzkoa',
      issuer: { nif: 'B88888888', name: 'Taberna SL' },
      environment: 'test',
      series: 'TB',
      ticketbaiSoftware: sampleInvoice().software,
      deviceSerial: 'POS-7',
      credentials: { key: pki.taxpayer.key, certificate: pki.taxpayer.cert },
    }
    const first = issueSale(config, newSpainState(), sale())
    const second = issueSale(config, first.state, sale({ issuedAt: new Date('2025-12-01T10:05:00Z') }))
    const cancelled = issueCancellation(
      config,
      second.state,
      first.document,
      new Date('2025-12-01T11:00:00Z'),
    )
    assert.equal(cancelled.state, second.state)
    for (const d of [first.document, second.document]) {
      assert.ok(tbaiIdentifierValid(d.fiscalId))
      assert.ok(
        d.qrUrl.startsWith(
          `https://tbai.egoitza.gipuzkoa.eus/qr/?id=${encodeURIComponent(d.fiscalId)}&s=TB&nf=`,
        ),
      )
    }
    const secondRecord = second.document.record.value as TicketBaiRecord
    assert.ok(
      secondRecord.xml.includes(
        `<SignatureValueFirmaFacturaAnterior>${(first.document.record.value as TicketBaiRecord).signatureValue.slice(0, 100)}<`,
      ),
    )
    for (const d of [first.document, second.document, cancelled.document])
      assert.ok(xmlsecVerify((d.record.value as TicketBaiRecord).xml, pki.ca.cert).ok)
    const { authority } = spanishAuthorityFor(
      { system: 'ticketbai', territory: 'gipuzkoa', taxpayer: config.issuer, environment: 'test' },
      { simulatorUrl: sim.url },
    )
    const submit = (
      authority as { submit(r: TicketBaiRecord[]): ReturnType<typeof authority.submit> }
    ).submit.bind(authority)
    for (const d of [first.document, second.document, cancelled.document]) {
      const result = await submit([d.record.value as TicketBaiRecord])
      assert.ok(
        result.kind === 'answered' && result.outcomes[0]?.status === 'accepted',
        JSON.stringify(result),
      )
    }
  })

  it('says what is missing from a location configuration', () => {
    assert.throws(
      () =>
        issueSale(
          { system: 'verifactu', issuer: { nif: 'B99999999', name: 'x' }, environment: 'test', series: 'A' },
          newSpainState(),
          sale(),
        ),
      /verifactuSystem/,
    )
    assert.throws(
      () =>
        issueSale(
          { system: 'ticketbai', issuer: { nif: 'B99999999', name: 'x' }, environment: 'test', series: 'A' },
          newSpainState(),
          sale(),
        ),
      /territory/,
    )
  })
})
