import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { type Server, startServer } from '../../bench/processes.ts'
import type { CreatedCashbox } from '../../src/core/cashboxes.ts'
import { itServicesOf } from '../../src/markets/it/services.ts'
import { openRuntime } from '../../src/runtime.ts'
import { engines } from '../helpers/engines.ts'
import { IT_CASE, itReceipt, startSim } from '../markets/it/pos-support.ts'
import { runtimeConfig } from './support/fiscalbox.ts'
import { killedServerEnv } from './support/kill-cycles.ts'
import { cashboxHeaders } from './support/surfaces.ts'

/**
 * Italy's failed mode through the real `fiscalbox serve`: receipts held while the RT device is offline, then
 * the zero receipt that sends them is cut short by SIGKILL in the middle of the resend (300 ms a document).
 * After the restart the resend goes on from what was stored: the device's last document is read before the
 * receipt that was on its way is sent again, so every held receipt is printed exactly once, in order.
 */
const HELD = 4
const until = async (done: () => boolean) => {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 5))
}

async function post(
  server: Server,
  box: CreatedCashbox,
  path: string,
  body?: unknown,
  operationId = randomUUID(),
) {
  const reply = await fetch(`${server.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      ...cashboxHeaders(box),
      ...(body === undefined ? {} : { 'content-type': 'application/json', 'x-operation-id': operationId }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: reply.status, json: (await reply.json()) as any }
}

for (const engine of await engines()) {
  describe(`IT failed mode, kill -9 during the resend (${engine})`, () => {
    it('prints every held receipt once, in order, after the restart', async (t) => {
      const env = await killedServerEnv(t, engine, 'fiscalbox-it-failed-crash')
      const sim = await startSim({ latencyMs: 300 })
      t.after(() => sim.close())
      const runtime = await openRuntime(runtimeConfig(env))
      let box: CreatedCashbox
      try {
        box = await runtime.cashboxes.create('IT', 'cassa failed mode')
        await itServicesOf(runtime.marketFor).configure(box, {
          device: 'epson-rt',
          url: sim.url,
          failedMode: true,
        })
      } finally {
        await runtime.close()
      }
      const start = () =>
        startServer('fiscalbox', ['--import', 'tsx', 'src/cli/main.ts', 'serve'], env, 180_000)
      let server = await start()
      try {
        assert.equal((await post(server, box, '/v2/sign', itReceipt(IT_CASE.start, []))).status, 200)
        await sim.setFaults({ offline: true })
        const sales = Array.from({ length: HELD }, (_, i) =>
          itReceipt(IT_CASE.pos, [{ amount: `${i + 1}.25`, vat: 22 }]),
        )
        for (const sale of sales) {
          const held = await post(server, box, '/v2/sign', sale)
          assert.equal(held.json.ftState, '0x4954200000000002', JSON.stringify(held.json))
        }
        await sim.setFaults({ offline: false })

        const zeroId = randomUUID()
        const zero = itReceipt(IT_CASE.zero, [])
        const cut = post(server, box, '/v2/sign', zero, zeroId).catch(() => undefined)
        await until(() => sim.documents().length >= 1)
        process.kill(server.pid, 'SIGKILL')
        await cut
        const printedBeforeKill = sim.documents().length
        assert.ok(printedBeforeKill < HELD, 'killed in the middle of the resend')

        server = await start()
        const replayed = await post(server, box, '/v2/sign', zero, zeroId)
        assert.equal(replayed.status, 200, JSON.stringify(replayed.json))
        assert.equal(replayed.json.ftState, '0x4954200000000000', JSON.stringify(replayed.json))

        assert.deepEqual(
          sim.documents().map((d) => d.amount),
          [125, 225, 325, 425],
          'each held receipt printed once, in order',
        )
        const listed = await post(server, box, '/it/v1/held-receipts')
        assert.deepEqual(
          listed.json.receipts.map((r: any) => [r.receiptReference, r.state, r.document?.documentNumber]),
          sales.map((sale, i) => [sale.cbReceiptReference, 'printed', i + 1]),
        )
      } finally {
        await server.stop()
      }
    })
  })
}
