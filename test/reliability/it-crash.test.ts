import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { startServer } from '../../bench/processes.ts'
import type { CreatedCashbox } from '../../src/core/cashboxes.ts'
import { itServicesOf } from '../../src/markets/it/services.ts'
import { openRuntime } from '../../src/runtime.ts'
import { engines } from '../helpers/engines.ts'
import { IT_CASE, type ItSim, itReceipt, startSim } from '../markets/it/pos-support.ts'
import { runtimeConfig } from './support/fiscalbox.ts'
import { killedServerEnv, runKillCycles } from './support/kill-cycles.ts'
import { runSeed, seededRandom } from './support/random.ts'

/**
 * Italian cash boxes, each on its own RT device simulator (300 ms a document), signing through the real
 * `fiscalbox serve`, which is killed with SIGKILL at random moments while documents are being printed.
 * After each restart the reservations left behind are settled by reading each device's last document,
 * and the unanswered operations are retried with their ids and bodies. At the end: every document the
 * devices printed is on exactly one receipt, every sale has one, nothing was printed twice, and every
 * retry gets the stored answer.
 */
const CYCLES = Number(process.env.IT_CRASH_CYCLES ?? 3)
const CASHBOXES = 3
const RECEIPTS_PER_CYCLE = 3
const KILL_AFTER_MS = { min: 0, max: 400 }

for (const engine of await engines()) {
  describe(`IT RT devices, kill -9 while documents are printed (${engine}), ${CYCLES} cycles`, () => {
    it('prints every document once and puts each on exactly one receipt', async (t) => {
      const random = seededRandom(runSeed())
      const env = await killedServerEnv(t, engine, 'fiscalbox-it-crash')
      const sims: ItSim[] = []
      for (let i = 0; i < CASHBOXES; i++) sims.push(await startSim({ latencyMs: 300 }))
      t.after(() => Promise.all(sims.map((sim) => sim.close())))
      const runtime = await openRuntime(runtimeConfig(env))
      const cashboxes: CreatedCashbox[] = []
      try {
        for (let i = 0; i < CASHBOXES; i++) {
          const box = await runtime.cashboxes.create('IT', `cassa ${i}`)
          // Far above the device's pace: a receipt fails only if the device really does not answer.
          await itServicesOf(runtime.marketFor).configure(box, {
            device: 'epson-rt',
            url: (sims[i] as ItSim).url,
            timeoutMs: 10_000,
          })
          cashboxes.push(box)
        }
      } finally {
        await runtime.close()
      }
      const { operations, kills } = await runKillCycles({
        cashboxes,
        start: () => startServer('fiscalbox', ['--import', 'tsx', 'src/cli/main.ts', 'serve'], env, 180_000),
        startBody: () => JSON.stringify(itReceipt(IT_CASE.start, [])),
        saleBody: (cycle, i, n) =>
          JSON.stringify(itReceipt(IT_CASE.pos, [{ amount: `${cycle + 1}.${i}${n}`, vat: 22 }])),
        issued: () => sims.reduce((sum, sim) => sum + sim.documents().length, 0),
        cycles: CYCLES,
        receiptsPerCycle: RECEIPTS_PER_CYCLE,
        killAfterMs: KILL_AFTER_MS,
        random,
      })

      for (let i = 0; i < CASHBOXES; i++) {
        const sales = operations
          .filter((op) => op.cashbox === i)
          .map((op) => JSON.parse(op.answer as string))
          .filter((r) => r.ftReceiptIdentification.includes('-'))
        const documents = (sims[i] as ItSim).documents()
        assert.equal(sales.length, CYCLES * RECEIPTS_PER_CYCLE, `cash box ${i}: every sale has its document`)
        assert.deepEqual(
          sales.map((r) => r.ftReceiptIdentification.split('#')[1]),
          documents.map(
            (d) => `${String(d.zNumber).padStart(4, '0')}-${String(d.documentNumber).padStart(4, '0')}`,
          ),
          `cash box ${i}: the device printed each sale once, in the till's order`,
        )
        assert.deepEqual(
          sales.map((r) => BigInt(r.ftState) & 0xffff_ffffn),
          sales.map(() => 0n),
          'no receipt answered as failed: the devices always printed',
        )
      }
      t.diagnostic(`${kills} kills, ${operations.length} receipts`)
    })
  })
}
