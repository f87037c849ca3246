import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { decodeCp1252, encodeCp1252 } from '../../src/core/cp1252.ts'
import { includedVat } from '../../src/core/money.ts'
import { buildReceiptDocument } from '../../src/receipts/document.ts'
import { renderEscPos } from '../../src/receipts/escpos.ts'
import { renderText, wrap } from '../../src/receipts/printout.ts'
import { readEscPos } from '../api/issue-support.ts'

const CENT = 10_000n

test('included VAT: whole cents, never more than the gross, the nearest cent to gross x rate / (100 + rate)', () => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }).map((cents) => cents * CENT),
      fc.integer({ min: 0, max: 100_00 }).map((hundredths) => BigInt(hundredths) * 10_000n),
      (gross, rate) => {
        const vat = includedVat(gross, rate)
        assert.equal(vat % CENT, 0n)
        assert.ok((vat < 0n ? -vat : vat) <= (gross < 0n ? -gross : gross))
        // |vat x (100 + rate) - gross x rate| is at most half a cent x (100 + rate): the rounding error.
        const error = vat * (100_000_000n + rate) - gross * rate
        assert.ok(2n * (error < 0n ? -error : error) <= CENT * (100_000_000n + rate))
        assert.equal(includedVat(-gross, rate), -vat, 'symmetric: half away from zero')
      },
    ),
  )
  assert.equal(includedVat(12_500_000n, 20_000_000n), 2_080_000n)
  assert.equal(includedVat(4_200_000n, 10_000_000n), 380_000n)
})

test('wrap keeps every word and never exceeds the width', () => {
  fc.assert(
    fc.property(
      fc.string({ maxLength: 300, unit: 'grapheme-composite' }),
      fc.integer({ min: 1, max: 60 }),
      (text, width) => {
        const lines = wrap(text, width)
        for (const line of lines) assert.ok([...line].length <= width)
        assert.equal(lines.join('').replace(/\s/g, ''), text.replace(/\s/g, ''))
      },
    ),
  )
})

const request = (description: string, amount: string) =>
  JSON.stringify({
    cbReceiptReference: 'R-1',
    cbReceiptMoment: '2026-01-15T10:15:00Z',
    ftReceiptCase: '0x4445200000000001',
    cbChargeItems: [{ Quantity: 1, Description: description, Amount: amount, VATRate: 19 }],
    cbPayItems: [{ Description: 'Bar', Amount: amount }],
  })
const response = JSON.stringify({
  ftQueueID: 'q',
  ftQueueItemID: 'i',
  ftCashBoxIdentification: 'c',
  cbTerminalID: '',
  cbReceiptReference: 'R-1',
  ftReceiptIdentification: 'ft7#',
  ftReceiptMoment: '2026-01-15T10:15:00.123Z',
  ftSignatures: [
    {
      ftSignatureFormat: '0x0000000000000003',
      ftSignatureType: '0x4445200000000001',
      Caption: 'sig',
      Data: 'PAYLOAD_1',
    },
    {
      ftSignatureFormat: '0x0000000000000001',
      ftSignatureType: '0x4445200000200001',
      Caption: 'hidden',
      Data: 'no',
    },
  ],
  ftState: '0x4445200000000000',
})

test('printer output fits its columns for any description and amount, and ESC/POS carries the same text', () => {
  fc.assert(
    fc.property(
      fc.string({ maxLength: 120 }),
      fc.bigInt({ min: -(10n ** 9n), max: 10n ** 9n }),
      fc.constantFrom(42 as const, 48 as const),
      (description, cents, width) => {
        const amount = `${cents < 0n ? '-' : ''}${(cents < 0n ? -cents : cents) / 100n}.${String((cents < 0n ? -cents : cents) % 100n).padStart(2, '0')}`
        const doc = buildReceiptDocument({
          request: request(description, amount),
          response,
          country: 'DE',
          issuer: 'Café Beispiel',
          queueRow: 3,
        })
        const text = renderText(doc, width)
        for (const line of text.split('\n')) assert.ok([...line].length <= width, line)
        const printed = readEscPos(renderEscPos(doc, width))
        assert.deepEqual(printed.qrPayloads, ['PAYLOAD_1'])
        // The same lines, except that the text prints the QR payload and ESC/POS the code itself.
        const expected = decodeCp1252(encodeCp1252(text.replace('PAYLOAD_1\n', '')))
        const lines = (s: string) =>
          s
            .split('\n')
            .map((l) => l.trim())
            .filter(Boolean)
        assert.deepEqual(lines(printed.text), lines(expected))
        assert.ok(!text.includes('hidden'), 'a do-not-print signature is left out')
      },
    ),
    { numRuns: 200 },
  )
})

test('German receipt: decimal comma, local time of Berlin, labels', () => {
  const doc = buildReceiptDocument({
    request: request('Brezel', '2.50'),
    response,
    country: 'DE',
    issuer: 'Bäckerei',
    queueRow: 3,
  })
  assert.equal(doc.language, 'de')
  assert.equal(doc.total, '2,50')
  assert.deepEqual(doc.facts[1], { label: 'Datum', value: '15.01.2026 11:15:00' })
  assert.deepEqual(doc.vat, [{ letter: 'A', rate: '19 %', net: '2,10', vat: '0,40', gross: '2,50' }])
})
