import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import type { UnitOfWork } from '../../../src/core/ports.ts'
import { receipt, signDeClient } from '../../api/sign-de-v2/support.ts'
import { cliEnv, runCli } from '../../cli/cli-process.ts'
import { engines } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import { deServicesOf } from '../../../src/markets/de/services.ts'

/**
 * The TSS service as a market calls it inside a receipt's unit of work (storage.transact here stands in
 * for the queue's unit): its log messages commit, or roll back, with the unit.
 */
for (const engine of await engines()) {
  describe(`TSS operations inside another unit of work (${engine})`, () => {
    let harness: Harness
    const organizationId = randomUUID()
    const caller = { organizationId, env: 'LIVE' }

    before(async () => {
      harness = await startHarness(engine)
      await deServicesOf(harness.runtime.marketFor).tss.certificateAuthorities()
    })
    after(async () => harness.close())

    it('set-up and a start+finish pair commit with the unit and are visible through /api/v2', async () => {
      const service = deServicesOf(harness.runtime.marketFor).tss
      const tssId = randomUUID()
      const clientId = randomUUID()
      const txId = randomUUID()
      const finished = await harness.runtime.storage.transact(async (trx) => {
        const tss = service.within(trx as unknown as UnitOfWork)
        await tss.createTss(caller, tssId)
        await tss.updateTss(caller, tssId, { state: 'UNINITIALIZED' })
        await tss.updateTss(caller, tssId, { state: 'INITIALIZED' })
        await tss.registerClient(caller, tssId, clientId, 'KASSE-1')
        await tss.upsertTransaction(caller, tssId, txId, 1, { state: 'ACTIVE', clientId })
        return tss.upsertTransaction(caller, tssId, txId, 2, {
          state: 'FINISHED',
          clientId,
          schema: receipt('9.99') as never,
        })
      })
      assert.equal(finished.view.signature.counter, 5)
      const created = await runCli(
        ['sign-de', 'credentials', 'create', '--json', '--organization', organizationId],
        cliEnv({ DATABASE_URL: harness.databaseUrl, FISCALBOX_DATA_DIR: harness.dataDir }),
      )
      assert.equal(created.code, 0, created.stderr)
      const api = await signDeClient(harness.app, JSON.parse(created.stdout))
      const tx = await api.call('GET', `/tss/${tssId}/tx/${txId}`)
      assert.equal(tx.status, 200)
      assert.equal(tx.body.qr_code_data, finished.view.qrCodeData)
      assert.equal((await api.call('GET', `/tss/${tssId}`)).body.signature_counter, '5')
    })

    it('a unit that fails leaves no log message, number or counter behind', async () => {
      const service = deServicesOf(harness.runtime.marketFor).tss
      const tssId = randomUUID()
      const clientId = randomUUID()
      await harness.runtime.storage.transact(async (trx) => {
        const tss = service.within(trx as unknown as UnitOfWork)
        await tss.createTss(caller, tssId)
        await tss.updateTss(caller, tssId, { state: 'UNINITIALIZED' })
        await tss.updateTss(caller, tssId, { state: 'INITIALIZED' })
        await tss.registerClient(caller, tssId, clientId, 'KASSE-1')
      })
      await assert.rejects(
        harness.runtime.storage.transact(async (trx) => {
          const tss = service.within(trx as unknown as UnitOfWork)
          await tss.upsertTransaction(caller, tssId, randomUUID(), 1, { state: 'ACTIVE', clientId })
          throw new Error('the receipt failed after the TSS signed')
        }),
        /the receipt failed/,
      )
      const after = await service.getTss(caller, tssId)
      assert.equal(after.signatureCounter, 3)
      assert.equal(after.transactionCounter, 0)
      assert.equal(after.numberActiveTransactions, 0)
    })
  })
}
