import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import {
  amountText,
  caseHex,
  FLAG,
  micros,
  newPos,
  type PayLine,
  type Pos,
  parseQr,
  qrSignatureOf,
  qrSignatureValid,
  RECEIPT_CASE,
  receipt,
  specialReceipt,
  startedPos,
  stateHex,
  type ChargeLine,
} from './support.ts'

const OUT_OF_OPERATION = 0x1n
const ERROR = 0xeeee_eeeen

/** Totals a closing must report, kept by the test from what it sent. */
class ExpectedTotals {
  receipts = 0
  gross = 0n
  byVatRate = new Map<string, bigint>()
  byPayment = new Map<string, bigint>()

  add(charges: ChargeLine[], pays: PayLine[]): void {
    this.receipts += 1
    for (const c of charges) {
      const amount = micros(c.amount)
      this.gross += amount
      const rate = amountText(micros(c.vat ?? 20))
      this.byVatRate.set(rate, (this.byVatRate.get(rate) ?? 0n) + amount)
    }
    for (const p of pays) {
      const kind = `0x${(BigInt(p.caseCode ?? 0) & 0xffffn).toString(16).padStart(4, '0')}`
      this.byPayment.set(kind, (this.byPayment.get(kind) ?? 0n) + micros(p.amount))
    }
  }

  toJSON() {
    const texts = (m: Map<string, bigint>) =>
      Object.fromEntries([...m].map(([k, v]) => [k, amountText(v)] as const))
    return {
      receipts: this.receipts,
      gross: amountText(this.gross),
      byVatRate: texts(this.byVatRate),
      byPayment: texts(this.byPayment),
    }
  }
}

/** One receipt counted by every open period. */
class Ledger {
  daily = new ExpectedTotals()
  monthly = new ExpectedTotals()
  yearly = new ExpectedTotals()
  add(charges: ChargeLine[], pays: PayLine[]) {
    for (const t of [this.daily, this.monthly, this.yearly]) t.add(charges, pays)
  }
}

async function sale(
  pos: Pos,
  ledger: Ledger | undefined,
  charges: ChargeLine[],
  pays: PayLine[],
  extra = {},
) {
  const result = await pos.signOk(receipt({ charges, pays, ...extra }))
  assert.equal(result.response.ftState, stateHex('EU', 0n))
  ledger?.add(charges, pays)
  return result
}

async function closing(pos: Pos, low: bigint) {
  const result = await pos.signOk(specialReceipt(low))
  assert.equal(result.response.ftState, stateHex('EU', 0n))
  assert.match(result.response.ftReceiptIdentification, /^ft[0-9A-F]+#$/, 'a closing is a numbered receipt')
  return result.response
}

function assertTotals(stateData: any, expected: ExpectedTotals, closingNumber: number, label: string) {
  assert.ok(stateData, `${label}: ftStateData is missing`)
  assert.equal(stateData.closingNumber, closingNumber, `${label}: closing number`)
  assert.deepEqual(
    {
      receipts: stateData.receipts,
      gross: stateData.gross,
      byVatRate: stateData.byVatRate,
      byPayment: stateData.byPayment,
    },
    expected.toJSON(),
    `${label}: totals`,
  )
}

const pay = (amount: string | number, kind: bigint) => ({ amount, caseCode: caseHex('EU', kind) })

for (const engine of await engines()) {
  describe(`queue lifecycle and closings (${engine})`, () => {
    let harness: Harness
    before(async () => {
      harness = await startHarness(engine)
    })
    after(async () => {
      await harness?.close()
    })

    test('a receipt before the start receipt is answered out of operation, without a number', async () => {
      const pos = await newPos(harness)
      const body = receipt()
      const { response } = await pos.signOk(body)
      assert.equal(response.ftState, '0x4555200000000001')
      assert.equal(response.ftState, stateHex('EU', OUT_OF_OPERATION))
      assert.equal(response.ftReceiptIdentification, '')
      assert.equal(response.ftQueueRow, 1)
      assert.ok(
        response.ftSignatures.every((s: any) => BigInt(s.ftSignatureFormat) !== 0x3n),
        'no receipt signature',
      )
      const items = await pos.journal('QueueItem')
      assert.equal(items.length, 1, 'the request is kept as a queue item')
      assert.equal(items[0].ftQueueItemId, response.ftQueueItemID)
      assert.equal(items[0].ftState, '0x4555200000000001')
      assert.equal(items[0].cbReceiptReference, body.cbReceiptReference)
      assert.deepEqual(await pos.journal('ReceiptJournal'), [], 'no receipt journal entry')

      // The queue starts with number 1 all the same.
      const start = await pos.signOk(specialReceipt(RECEIPT_CASE.start))
      assert.equal(start.response.ftReceiptIdentification, 'ft1#')
      assert.equal(start.response.ftQueueRow, 2)
    })

    // A country served by the generic market (AT, DE, ES, IT and FR have markets of their own, tested in test/markets).
    test('the rules hold for other countries with their own country bits', async () => {
      const pos = await newPos(harness, 'NL')
      const early = await pos.signOk(receipt({ country: 'NL' }))
      assert.equal(early.response.ftState, '0x4E4C200000000001')
      await pos.signOk(specialReceipt(RECEIPT_CASE.start, 'NL'))
      const ok = await pos.signOk(receipt({ country: 'NL' }))
      assert.equal(ok.response.ftState, '0x4E4C200000000000')
      assert.equal(ok.response.ftReceiptIdentification, 'ft2#')
    })

    test('a second start receipt is an error: queue item, no number, no journal entry', async () => {
      const pos = await startedPos(harness)
      const receiptsBefore = await pos.journal('ReceiptJournal')
      const { response } = await pos.signOk(specialReceipt(RECEIPT_CASE.start))
      assert.equal(response.ftState, '0x45552000EEEEEEEE')
      assert.equal(response.ftState, stateHex('EU', ERROR))
      assert.equal(response.ftReceiptIdentification, '')
      assert.deepEqual(await pos.journal('ReceiptJournal'), receiptsBefore)
      const items = await pos.journal('QueueItem')
      assert.equal(items.at(-1).ftQueueItemId, response.ftQueueItemID)
      assert.equal(items.at(-1).ftState, '0x45552000EEEEEEEE')
      // The queue keeps working after the rejected start.
      const next = await pos.signOk(receipt())
      assert.equal(next.response.ftReceiptIdentification, 'ft2#')
      assert.equal(next.response.ftState, stateHex('EU', 0n))
    })

    test('after the stop receipt every receipt is out of operation, for good', async () => {
      const pos = await startedPos(harness)
      await pos.signOk(receipt())
      const stop = await pos.signOk(specialReceipt(RECEIPT_CASE.stop))
      assert.equal(stop.response.ftState, stateHex('EU', 0n))
      assert.equal(stop.response.ftReceiptIdentification, 'ft3#', 'the stop receipt itself is signed')
      const journalAfterStop = await pos.journal('ReceiptJournal')
      assert.equal(journalAfterStop.length, 3)

      for (const low of [
        RECEIPT_CASE.pos,
        RECEIPT_CASE.start,
        RECEIPT_CASE.stop,
        RECEIPT_CASE.zero,
        RECEIPT_CASE.daily,
        FLAG.training | RECEIPT_CASE.pos,
      ]) {
        const body = low === RECEIPT_CASE.pos ? receipt() : specialReceipt(low)
        const { response } = await pos.signOk(body)
        assert.equal(response.ftState, stateHex('EU', OUT_OF_OPERATION), `case ${low.toString(16)}`)
        assert.equal(response.ftReceiptIdentification, '')
      }
      assert.deepEqual(await pos.journal('ReceiptJournal'), journalAfterStop)
      assert.equal((await pos.journal('QueueItem')).length, 3 + 6)
      const config = await pos.post('/v2/journal', { ftJournalType: 255 })
      assert.ok(config.json().ftQueues[0].StopMoment)
    })

    test('a zero receipt is signed and changes no totals', async () => {
      const pos = await startedPos(harness)
      const { response } = await pos.signOk(specialReceipt(RECEIPT_CASE.zero))
      assert.equal(response.ftState, stateHex('EU', 0n))
      assert.equal(response.ftReceiptIdentification, 'ft2#')
      const qr = parseQr(qrSignatureOf(response).Data)
      assert.equal(qr.total, '0.00')
      assert.ok(qrSignatureValid(pos.box.publicKey, qr.signed, qr.signature))
      const actions = await pos.journal('ActionJournal')
      assert.ok(actions.some((a) => a.Type === 'zero-receipt' && a.ftQueueItemId === response.ftQueueItemID))
      const daily = await closing(pos, RECEIPT_CASE.daily)
      assertTotals(daily.ftStateData, new ExpectedTotals(), 1, 'daily after zero receipt')
    })

    test('daily, monthly and yearly closings report the totals since the previous closing of their period', async () => {
      const pos = await newPos(harness)
      const ledger = new Ledger()
      // Not counted: before the start, rejected, training, zero receipt.
      await pos.signOk(receipt({ charges: [{ amount: 99, vat: 20 }] }))
      await pos.signOk(specialReceipt(RECEIPT_CASE.start))
      await sale(
        pos,
        ledger,
        [
          { amount: '12.50', vat: 20 },
          { amount: 3.1, vat: 7 },
        ],
        [pay(10, 0x1n), pay('5.60', 0x5n)],
      )
      await sale(
        pos,
        ledger,
        [
          { amount: 0.1, vat: 20 },
          { amount: 0.2, vat: 20 },
        ],
        [pay(0.3, 0x1n)],
      )
      const rejected = await pos.sign(receipt({ charges: [{ amount: 5 }], pays: [{ amount: 4 }] }))
      assert.equal(rejected.status, 400)
      const training = await pos.signOk(
        receipt({ low: FLAG.training | RECEIPT_CASE.pos, charges: [{ amount: 100, vat: 20 }] }),
      )
      assert.equal(training.response.ftState, stateHex('EU', 0n))
      assert.match(
        training.response.ftReceiptIdentification,
        /^ft[0-9A-F]+#$/,
        'training receipts are signed',
      )
      const trainingQr = parseQr(qrSignatureOf(training.response).Data)
      assert.ok(qrSignatureValid(pos.box.publicKey, trainingQr.signed, trainingQr.signature))
      assert.ok(
        training.response.ftSignatures.some((s: any) => (BigInt(s.ftSignatureType) & 0xf000n) === 0x1000n),
        'training receipts carry an info signature',
      )
      await pos.signOk(specialReceipt(RECEIPT_CASE.zero))

      const daily1 = await closing(pos, RECEIPT_CASE.daily)
      assertTotals(daily1.ftStateData, ledger.daily, 1, 'daily 1')
      assert.equal(daily1.ftStateData.gross, '15.90')
      ledger.daily = new ExpectedTotals()

      await sale(pos, ledger, [{ amount: '7.5', vat: 0 }], [pay('7.50', 0x6n)])
      const sold = receipt({ charges: [{ amount: 1, vat: '5.5' }], pays: [pay(1, 0x1n)] })
      await pos.signOk(sold)
      ledger.add([{ amount: 1, vat: '5.5' }], [pay(1, 0x1n)])
      await sale(pos, ledger, [{ amount: -1, vat: '5.5', quantity: -1 }], [pay(-1, 0x1n)], {
        low: FLAG.refund | RECEIPT_CASE.pos,
        extra: { cbPreviousReceiptReference: sold.cbReceiptReference },
      })

      const daily2 = await closing(pos, RECEIPT_CASE.daily)
      assertTotals(daily2.ftStateData, ledger.daily, 2, 'daily 2')
      assert.equal(
        daily2.ftStateData.since,
        daily1.ftReceiptMoment,
        'a period starts at the previous closing',
      )
      assert.equal(daily2.ftStateData.byVatRate['5.50'], '0.00', 'sale and refund cancel out')
      ledger.daily = new ExpectedTotals()

      const monthly1 = await closing(pos, RECEIPT_CASE.monthly)
      assertTotals(monthly1.ftStateData, ledger.monthly, 1, 'monthly 1')
      ledger.monthly = new ExpectedTotals()

      await sale(pos, ledger, [{ amount: 1, vat: 20 }], [pay(1, 0x2n)])
      const yearly1 = await closing(pos, RECEIPT_CASE.yearly)
      assertTotals(yearly1.ftStateData, ledger.yearly, 1, 'yearly 1')
      assert.equal(yearly1.ftStateData.receipts, 6)
      ledger.yearly = new ExpectedTotals()

      const monthly2 = await closing(pos, RECEIPT_CASE.monthly)
      assertTotals(monthly2.ftStateData, ledger.monthly, 2, 'monthly 2')
      const daily3 = await closing(pos, RECEIPT_CASE.daily)
      assertTotals(daily3.ftStateData, ledger.daily, 3, 'daily 3')
      const daily4 = await closing(pos, RECEIPT_CASE.daily)
      assertTotals(daily4.ftStateData, new ExpectedTotals(), 4, 'daily 4 (empty)')
      assert.equal(daily4.ftStateData.gross, '0.00')

      // Closings are journaled as actions with the same totals.
      const actions = await pos.journal('ActionJournal')
      const dailyActions = actions.filter((a) => a.Type === 'daily-closing')
      assert.deepEqual(
        dailyActions.map((a) => a.Data.closingNumber),
        [1, 2, 3, 4],
      )
      assert.equal(dailyActions[0].Data.gross, '15.90')
    })

    test('a void receipt needs the reference of the receipt it voids', async () => {
      const pos = await startedPos(harness)
      const before = await pos.snapshot()
      const reply = await pos.sign(receipt({ low: FLAG.void | RECEIPT_CASE.pos }))
      assert.equal(reply.status, 400)
      assert.equal(reply.json().details.field, 'cbPreviousReceiptReference')
      const refund = await pos.sign(receipt({ low: FLAG.refund | RECEIPT_CASE.pos }))
      assert.equal(refund.json().details.field, 'cbPreviousReceiptReference')
      assert.deepEqual((await pos.snapshot()).counts, before.counts)
    })
  })
}
