import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { buildApp } from '../../../src/api/app.ts'
import { openRuntime } from '../../../src/runtime.ts'
import { engines } from '../../helpers/engines.ts'
import { startHarness } from '../../helpers/harness.ts'
import { ContractPos } from '../contract.ts'
import { IT_CASE, type ItSim, itPos, itReceipt, OK, signature, startSim } from './pos-support.ts'

/**
 * Failed mode (docs/country-it.md#failed-mode): a cash box configured for it holds its documents while the
 * RT device cannot be reached (ftState 0x2), and the next zero receipt that reaches the device sends them in
 * their order, each printed once.
 */
const HELD = '0x4954200000000002'
/** IT local flag 0x001 (device not reachable) with 0x2 (receipts held). */
const UNREACHABLE_HELD = '0x4954200100000002'
const sale = (amount: string) => itReceipt(IT_CASE.pos, [{ amount, vat: 22 }])
const amounts = (sim: ItSim) => sim.documents().map((d) => d.amount)

async function held(pos: ContractPos, body: Record<string, unknown>) {
  const answer = await pos.signOk(body)
  assert.equal(answer.ftState, HELD, JSON.stringify(answer))
  assert.match(answer.ftReceiptIdentification, /^ft[0-9A-F]+#$/, 'numbered by fiscalbox, no device numbers')
  assert.match(signature(answer, 0x2010n)?.Caption ?? '', /receipt held/)
  return answer
}

async function heldReceipts(pos: ContractPos) {
  const reply = await pos.request('GET', '/it/v1/held-receipts')
  assert.equal(reply.status, 200, reply.payload)
  return reply.json().receipts as any[]
}

for (const engine of await engines()) {
  describe(`IT failed mode on /v2/sign (${engine})`, () => {
    test('held in order while the device is offline, sent once by the zero receipt that finds it back', async () => {
      const h = await startHarness(engine)
      const sim = await startSim()
      try {
        const pos = await itPos(h.app, await h.runtime.cashboxes.create('IT'), sim, { failedMode: true })
        const config = await pos.request('GET', '/it/v1/cashbox')
        assert.equal(config.json().failedMode, true)
        const first = sale('1.00')
        await pos.signOk(first)
        await sim.setFaults({ offline: true })
        const bodies = [sale('2.00'), sale('3.00'), itReceipt(IT_CASE.pos, [{ amount: '4.00', vat: 10 }])]
        const answers = []
        for (const body of bodies) answers.push(await held(pos, body))
        assert.deepEqual(
          answers.map((a) => a.ftReceiptIdentification),
          ['ft3#', 'ft4#', 'ft5#'],
        )

        const journaled = (await pos.receiptJournal()).length
        const closing = await pos.sign(itReceipt(IT_CASE.daily, []))
        assert.equal(closing.status, 409, closing.payload)
        assert.match(closing.json().message, /3 receipt\(s\) .* held .* zero receipt/)
        assert.equal(closing.json().details.field, 'ftReceiptCase')
        const nonFiscal = await pos.sign(itReceipt(IT_CASE.nonFiscal, [{ amount: '0.00', vat: 22 }]))
        assert.equal(nonFiscal.status, 409, nonFiscal.payload)
        assert.match(nonFiscal.json().details.reason, /no non-fiscal print while receipts are held/)
        assert.equal(
          (await pos.receiptJournal()).length,
          journaled,
          'the refused closing and print wrote nothing',
        )

        const stillOffline = await pos.signOk(itReceipt(IT_CASE.zero, []))
        assert.equal(stillOffline.ftState, UNREACHABLE_HELD, JSON.stringify(stillOffline))
        assert.deepEqual(amounts(sim), [100], 'nothing printed while offline')

        await sim.setFaults({ offline: false })
        const zero = await pos.signOk(itReceipt(IT_CASE.zero, []))
        assert.equal(zero.ftState, OK, JSON.stringify(zero))
        const report = zero.ftStateData.HeldReceipts
        assert.deepEqual(
          report.printed.map((p: any) => [p.receiptReference, p.receiptNumber, p.zNumber, p.documentNumber]),
          bodies.map((body, i) => [body.cbReceiptReference, 3 + i, 1, 2 + i]),
        )
        assert.deepEqual(report.refused, [])
        assert.equal(report.waiting, 0)
        assert.deepEqual(amounts(sim), [100, 200, 300, 400], 'each held receipt printed once, in order')

        const listed = await heldReceipts(pos)
        assert.deepEqual(
          listed.map((r) => [r.receiptNumber, r.state, `${r.document.zNumber}-${r.document.documentNumber}`]),
          [
            [3, 'printed', '1-2'],
            [4, 'printed', '1-3'],
            [5, 'printed', '1-4'],
          ],
        )

        // Back to normal: nothing is sent again, a held sale can be refunded, and the day closes.
        const again = await pos.signOk(itReceipt(IT_CASE.zero, []))
        assert.equal(again.ftState, OK)
        assert.equal(again.ftStateData.HeldReceipts, undefined)
        const refund = await pos.signOk(
          itReceipt(IT_CASE.refund, [{ amount: '-2.00', vat: 22, quantity: -1 }], {
            cbPreviousReceiptReference: bodies[0]?.cbReceiptReference,
          }),
        )
        assert.equal(refund.ftState, OK, JSON.stringify(refund))
        assert.equal(signature(refund, 0x21n)?.Data, '0002', 'the refund names the held sale as printed')
        assert.equal((await pos.signOk(itReceipt(IT_CASE.daily, []))).ftState, OK)
        assert.deepEqual(amounts(sim), [100, 200, 300, 400, 200])
      } finally {
        await h.close()
        await sim.close()
      }
    })

    test('a device refusal during the resend settles that receipt as refused and stops there', async () => {
      const h = await startHarness(engine)
      const sim = await startSim()
      try {
        const pos = await itPos(h.app, await h.runtime.cashboxes.create('IT'), sim, { failedMode: true })
        const original = sale('9.00')
        await pos.signOk(original)
        await sim.setFaults({ offline: true })
        const voidOf = () =>
          itReceipt(IT_CASE.void, [{ amount: '-9.00', vat: 22, quantity: -1 }], {
            cbPreviousReceiptReference: original.cbReceiptReference,
          })
        const first = voidOf()
        const second = voidOf()
        const later = sale('5.00')
        for (const body of [first, second, later]) await held(pos, body)
        await sim.setFaults({ offline: false })

        const zero = await pos.signOk(itReceipt(IT_CASE.zero, []))
        assert.equal(zero.ftState, HELD, 'a receipt is still held')
        const report = zero.ftStateData.HeldReceipts
        assert.deepEqual(
          report.printed.map((p: any) => p.receiptReference),
          [first.cbReceiptReference],
        )
        assert.deepEqual(
          report.refused.map((r: any) => r.receiptReference),
          [second.cbReceiptReference],
        )
        assert.match(report.refused[0].error, /39/, 'the device refuses a second void of one sale')
        assert.equal(report.waiting, 1)
        assert.deepEqual(
          sim.documents().map((d) => d.type),
          ['SALE', 'VOID'],
        )

        const next = await pos.signOk(itReceipt(IT_CASE.zero, []))
        assert.equal(next.ftState, OK)
        assert.deepEqual(
          next.ftStateData.HeldReceipts.printed.map((p: any) => p.receiptReference),
          [later.cbReceiptReference],
        )
        assert.deepEqual(
          (await heldReceipts(pos)).map((r) => r.state),
          ['printed', 'refused', 'printed'],
        )
        assert.deepEqual(amounts(sim), [900, 900, 500])
      } finally {
        await h.close()
        await sim.close()
      }
    })

    test('without the setting an offline device answers as before: device_not_reachable, nothing held', async () => {
      const h = await startHarness(engine)
      const sim = await startSim()
      try {
        const pos = await itPos(h.app, await h.runtime.cashboxes.create('IT'), sim)
        await sim.setFaults({ offline: true })
        const reply = await pos.sign(sale('1.00'))
        assert.equal(reply.status, 502, reply.payload)
        assert.equal(reply.json().error, 'device_not_reachable')
        assert.deepEqual(await heldReceipts(pos), [])
        const anonymous = await h.app.inject({ method: 'GET', url: '/it/v1/held-receipts' })
        assert.equal(anonymous.statusCode, 401, 'only the cash box itself lists its held receipts')
      } finally {
        await h.close()
        await sim.close()
      }
    })
  })
}

describe('IT failed mode across a restart of fiscalbox (sqlite)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fiscalbox-it-failed-'))
  after(() => rmSync(dataDir, { recursive: true, force: true }))
  const config = {
    DATABASE_URL: `sqlite:${join(dataDir, 'fiscalbox.db')}`,
    FISCALBOX_DATA_DIR: dataDir,
    PG_POOL_SIZE: 2,
  }
  const open = async () => {
    const runtime = await openRuntime(config)
    return { runtime, app: await buildApp(runtime, { bodyLimit: 1 << 20, logger: false }) }
  }

  test('held receipts survive a restart, and the zero receipt after it sends them once', async () => {
    const sim = await startSim()
    try {
      let { runtime, app } = await open()
      const box = await runtime.cashboxes.create('IT')
      const pos = await itPos(app, box, sim, { failedMode: true })
      await sim.setFaults({ offline: true })
      for (const amount of ['1.10', '2.20']) await held(pos, sale(amount))
      await app.close()
      await runtime.close()

      await sim.setFaults({ offline: false })
      ;({ runtime, app } = await open())
      const again = new ContractPos(app, box)
      await held(again, sale('3.30'))
      const zero = await again.signOk(itReceipt(IT_CASE.zero, []))
      assert.equal(zero.ftState, OK, JSON.stringify(zero))
      assert.equal(zero.ftStateData.HeldReceipts.printed.length, 3)
      assert.deepEqual(amounts(sim), [110, 220, 330])
      await app.close()
      await runtime.close()
    } finally {
      await sim.close()
    }
  })
})
