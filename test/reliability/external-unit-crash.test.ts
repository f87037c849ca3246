import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { startServer } from '../../bench/processes.ts'
import type { CreatedCashbox } from '../../src/core/cashboxes.ts'
import { openRuntime } from '../../src/runtime.ts'
import { engines } from '../helpers/engines.ts'
import { startExternalUnitDouble } from '../helpers/external-unit.ts'
import { runtimeConfig } from './support/fiscalbox.ts'
import { killedServerEnv, runKillCycles } from './support/kill-cycles.ts'
import { seededRandom, runSeed } from './support/random.ts'

/**
 * A signing unit outside the process, and a process killed with SIGKILL while it waits for the unit: the
 * real server (test/helpers/external-unit-server.ts, `fiscalbox serve` plus an external unit double on
 * country XT) signs receipts of several cash boxes through the double (300 ms a document), and is killed
 * at random moments while documents are being issued. After each restart the reservations left behind
 * are recovered by asking the unit, and the unanswered operations are retried with their ids and bodies.
 * At the end: every document the unit issued is on exactly one receipt, no receipt has two, every answer
 * the POS got is the stored one, and the journals verify.
 */

const CYCLES = Number(process.env.EXTERNAL_UNIT_CRASH_CYCLES ?? 3)
const CASHBOXES = 3
const RECEIPTS_PER_CYCLE = 4
/** The kill comes this long after the unit issued the cycle's first document. */
const KILL_AFTER_MS = { min: 0, max: 400 }

const sale = (reference: string) =>
  JSON.stringify({
    cbReceiptReference: reference,
    cbReceiptMoment: new Date().toISOString(),
    ftReceiptCase: '0x5854200000000001',
    cbChargeItems: [{ Quantity: 1, Description: 'Coffee', Amount: 3.5, VATRate: 20 }],
    cbPayItems: [{ Description: 'Cash', Amount: 3.5 }],
  })

for (const engine of await engines()) {
  describe(`external unit, kill -9 between reservation and commit (${engine}), ${CYCLES} cycles`, () => {
    it('issues every document once, loses none the unit acknowledged, and answers every retry the same', async (t) => {
      const random = seededRandom(runSeed())
      const serverEnv = await killedServerEnv(t, engine, 'fiscalbox-unit-crash')
      const unit = await startExternalUnitDouble({ latencyMs: 300 })
      t.after(() => unit.close())
      const env = {
        ...serverEnv,
        EXTERNAL_UNIT_URL: unit.url,
        EXTERNAL_UNIT_COUNTRY: 'XT',
        // Far above the unit's latency: a receipt fails only if the unit really does not answer.
        EXTERNAL_UNIT_TIMEOUT_MS: '20000',
      }
      const runtime = await openRuntime(runtimeConfig(env))
      const cashboxes: CreatedCashbox[] = []
      try {
        for (let i = 0; i < CASHBOXES; i++) cashboxes.push(await runtime.cashboxes.create('XT', `till ${i}`))
      } finally {
        await runtime.close()
      }
      const { operations, kills } = await runKillCycles({
        cashboxes,
        start: () =>
          startServer(
            'fiscalbox (external unit)',
            ['--import', 'tsx', 'test/helpers/external-unit-server.ts'],
            env,
            180_000,
          ),
        startBody: (i) =>
          JSON.stringify({
            cbReceiptReference: `start-${i}`,
            cbReceiptMoment: new Date().toISOString(),
            ftReceiptCase: '0x5854200000004001',
            cbChargeItems: [],
            cbPayItems: [],
          }),
        saleBody: (cycle, i, n) => sale(`c${cycle}-${i}-${n}`),
        issued: () => unit.issued.length,
        cycles: CYCLES,
        receiptsPerCycle: RECEIPTS_PER_CYCLE,
        killAfterMs: KILL_AFTER_MS,
        random,
      })

      const receipts = operations.map((op) => JSON.parse(op.answer as string))
      const failed = receipts.filter((r) => (BigInt(r.ftState) & 0x2n) !== 0n)
      assert.deepEqual(failed, [], 'no receipt completed as failed: the unit always answered')
      const documents = receipts.map((r) =>
        r.ftSignatures.find((s: any) => /^unit document /.test(s.Caption)),
      )
      assert.ok(documents.every(Boolean), 'every receipt carries its unit document')
      const signatures = documents.map((d) => d.Data as string)
      assert.equal(new Set(signatures).size, signatures.length, 'no document on two receipts')
      assert.equal(
        unit.issued.length,
        operations.length,
        'the unit issued one document per receipt, none twice',
      )
      assert.deepEqual(
        new Set(unit.issued.map((d) => d.signature)),
        new Set(signatures),
        'every document the unit issued is on a receipt',
      )
      for (let i = 0; i < CASHBOXES; i++) {
        const rows = receipts
          .filter((_r, k) => operations[k]?.cashbox === i)
          .map((r) => r.ftQueueRow as number)
        assert.deepEqual(
          [...rows].sort((a, b) => a - b),
          rows.map((_r, k) => k + 1),
          `cash box ${i}: rows 1..n in the order its till sent them`,
        )
      }
      t.diagnostic(`${kills} kills, ${operations.length} receipts, ${unit.calls.recover} recover calls`)
    })
  })
}
