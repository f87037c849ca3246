import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { parseReceipt } from '../../src/core/receipt.ts'
import type { FiscalInput } from '../../src/core/v1/fiscalizer.ts'
import { receiptOfTransaction } from '../../src/core/v1/receipt-of-transaction.ts'

/**
 * A v1 transaction as the POS System API v2 receipt its country's market signs (docs/transactions-api-v1.md,
 * "Locations signed by their country's market"), checked with the core's own receipt parser: the rules a
 * /v2/sign request must meet hold for every transaction the v1 API accepts.
 */
const IT = 0x4954

const input = (request: Record<string, unknown>, type: 'sale' | 'cancellation' = 'sale'): FiscalInput =>
  ({
    transactionId: '6f1c7a52-3a8e-4bb0-9a55-1f1e0b8a7c01',
    type,
    environment: 'test',
    location: { id: 'loc' },
    timestamp: '2026-03-09T14:30:00Z',
    amountCents: 800,
    currency: 'EUR',
    request,
  }) as unknown as FiscalInput

const body = (items: unknown[], pretax: number, total: number, payment = 'card') => ({
  items,
  pretax_amount: pretax,
  tax_amount: Math.round((total - pretax) * 100) / 100,
  total_amount: total,
  payment_method: payment,
})

test('prices with VAT stay as they are: 2 x 2.50 + 3.00 is 8.00, paid by card (0x05)', () => {
  const receipt = receiptOfTransaction(
    input(
      body(
        [
          { description: 'Caffè', quantity: 2, unit_price: 2.5, tax_rate: 0.22 },
          { description: 'Cornetto', quantity: 1, unit_price: 3, tax_rate: 0.1 },
        ],
        6.83,
        8,
      ),
    ),
    IT,
  )
  assert.equal(receipt.ftReceiptCase, '0x4954200000000001')
  assert.deepEqual(
    receipt.cbChargeItems.map((i) => [i.Description, i.Quantity, i.Amount, i.VATRate]),
    [
      ['Caffè', '2.00', '5.00', '22.00'],
      ['Cornetto', '1.00', '3.00', '10.00'],
    ],
  )
  assert.deepEqual(receipt.cbPayItems, [
    { Quantity: '1', Description: 'card', Amount: '8.00', ftPayItemCase: '0x4954200000000005' },
  ])
  assert.equal(parseReceipt(receipt).total, 8_000_000n)
})

test('net prices are grossed up per line; the last line takes the rounding so the total is the one paid', () => {
  // 3 x 0.33 net at 22 % is 1.2078 -> 1.21 per line; three lines 3.63 against a total of 3.62.
  const line = { description: 'Biscotto', quantity: 3, unit_price: 0.33, tax_rate: 0.22 }
  const receipt = receiptOfTransaction(input(body([line, line, line], 2.97, 3.62)), IT)
  assert.deepEqual(
    receipt.cbChargeItems.map((i) => i.Amount),
    ['1.21', '1.21', '1.20'],
  )
  assert.equal(parseReceipt(receipt).total, 3_620_000n)
})

test('items that add up to neither total is refused, naming the field', () => {
  const item = { description: 'Pizza', quantity: 1, unit_price: 5, tax_rate: 0.1 }
  assert.throws(
    () => receiptOfTransaction(input(body([item], 90.91, 100)), IT),
    (error: any) => error.details?.field === 'items',
  )
  // Net prices whose rates do not give tax_amount: 10.00 at 10 % is 11.00, not 12.00.
  const net = { description: 'Pizza', quantity: 1, unit_price: 10, tax_rate: 0.1 }
  assert.throws(
    () => receiptOfTransaction(input(body([net], 10, 12)), IT),
    (error: any) => error.details?.field === 'tax_amount',
  )
})

test('a cancellation is the void of the original receipt: lines and payment negated, the original named', () => {
  const sale = receiptOfTransaction(
    input(body([{ description: 'Pizza', quantity: 1, unit_price: 9.5, tax_rate: 0.1 }], 8.64, 9.5, 'cash')),
    IT,
  )
  const cancellation = { ...input({ reason: 'x' }, 'cancellation'), transactionId: 'c-1' }
  const voided = receiptOfTransaction(cancellation, IT, sale)
  assert.equal(voided.ftReceiptCase, '0x4954200000040001')
  assert.equal(voided.cbPreviousReceiptReference, sale.cbReceiptReference)
  assert.equal(voided.cbReceiptReference, 'c-1')
  assert.deepEqual([voided.cbChargeItems[0]?.Amount, voided.cbPayItems[0]?.Amount], ['-9.50', '-9.50'])
  assert.equal(parseReceipt(voided).total, -9_500_000n)
})

test('every accepted sale becomes a receipt the core accepts, totalling total_amount', () => {
  const cents = fc.integer({ min: 1, max: 500_00 })
  const item = fc.record({
    quantity: fc.integer({ min: 1, max: 20 }),
    unitCents: cents,
    rate: fc.constantFrom(0, 0.04, 0.05, 0.1, 0.22),
  })
  fc.assert(
    fc.property(fc.array(item, { minLength: 1, maxLength: 8 }), fc.boolean(), (lines, net) => {
      const items = lines.map((l, i) => ({
        description: `item ${i}`,
        quantity: l.quantity,
        unit_price: l.unitCents / 100,
        tax_rate: l.rate,
      }))
      const netCents = lines.map((l) => l.quantity * l.unitCents)
      const grossCents = lines.map((l, i) => Math.round((netCents[i] as number) * (1 + l.rate)))
      const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)
      // Either convention, as a POS sends it: totals consistent with the items.
      const total = net ? sum(grossCents) : sum(netCents)
      const pretax = net
        ? sum(netCents)
        : Math.round(sum(netCents.map((c, i) => c / (1 + (lines[i]?.rate ?? 0)))))
      const receipt = receiptOfTransaction(input(body(items, pretax / 100, total / 100)), IT)
      assert.equal(parseReceipt(receipt).total, BigInt(total) * 10_000n)
    }),
  )
})
