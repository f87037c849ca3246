import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { atServicesOf } from '../../../src/markets/at/index.ts'
import type { AtTables } from '../../../src/markets/at/store.ts'
import { moduleDatabase } from '../../../src/storage/module-database.ts'
import { engines } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import { AtPos } from './support.ts'

const provisioning = (kassenId: string) => ({
  kassenId,
  aesKey: 'WQRtiiya3hYh/Uz44Bv3x8ETl1nrH6nCdErn69g5/lU=',
  companyId: 'U:ATU12345678',
  devices: [{ number: 0 }],
})

/**
 * Issue 15, item 9: a Kassen-ID is registered once with FinanzOnline and names one cash register, so two
 * cash boxes of one account must not share it (the A-SIT verifier also refuses a DEP with two Kassen-IDs,
 * and a shared one would mix two registers' chains under one name).
 */
for (const engine of await engines()) {
  describe(`Austrian Kassen-IDs on ${engine}`, () => {
    let h: Harness
    before(async () => {
      h = await startHarness(engine)
    })
    after(() => h.close())

    test('a Kassen-ID used by another cash box of the account is refused with 409 naming kassenId, and nothing is written', async () => {
      const first = new AtPos(h.app, await h.runtime.cashboxes.create('AT'))
      await first.provision(provisioning('KASSE-SHARED'))
      const second = new AtPos(h.app, await h.runtime.cashboxes.create('AT'))
      const reply = await second.request('PUT', '/at/v1/cashbox', provisioning('KASSE-SHARED'))
      assert.equal(reply.status, 409, reply.payload)
      assert.equal(reply.json().error, 'conflict')
      assert.equal(reply.json().details.field, 'kassenId')
      assert.match(reply.json().message, /KASSE-SHARED.*another cash box/)
      const { db } = moduleDatabase<AtTables>(h.runtime.storage)
      const rows = await db
        .selectFrom('at_cashboxes')
        .select('queue_id')
        .where('kassen_id', '=', 'KASSE-SHARED')
        .execute()
      assert.deepEqual(
        rows.map((r) => r.queue_id),
        [first.box.queueId],
      )
      const devices = await db
        .selectFrom('at_signature_devices')
        .select('queue_id')
        .where('queue_id', '=', second.box.queueId)
        .execute()
      assert.deepEqual(devices, [])
      // The cash box is still free to take a Kassen-ID of its own; its own second PUT stays already_configured.
      await second.provision(provisioning('KASSE-OWN'))
      const again = await second.request('PUT', '/at/v1/cashbox', provisioning('KASSE-OWN'))
      assert.equal(again.status, 409)
      assert.equal(again.json().error, 'already_configured')
    })

    test('the UNIQUE constraint holds under concurrent provisioning, and another account may use the same Kassen-ID', async () => {
      const boxes = await Promise.all([1, 2, 3, 4].map(() => h.runtime.cashboxes.create('AT')))
      const replies = await Promise.all(
        boxes.map((box) =>
          new AtPos(h.app, box).request('PUT', '/at/v1/cashbox', provisioning('KASSE-RACE')),
        ),
      )
      assert.deepEqual(replies.map((r) => r.status).sort(), [200, 409, 409, 409])
      const other = await h.runtime.cashboxes.ensure({
        id: randomUUID(),
        queueId: randomUUID(),
        accountId: `acct-${randomUUID()}`,
        country: 'AT',
        label: 'other tenant',
      })
      const summary = await atServicesOf(h.runtime.marketFor).provisioning.provision(
        other.queueId,
        provisioning('KASSE-RACE'),
      )
      assert.equal(summary.kassenId, 'KASSE-RACE')
    })
  })
}
