import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import type { WebhookEndpointRecord, WebhookEvent } from '../../../src/core/v1/model.ts'
import type { AccountStore, NewApiKey, NewLocation, WebhookStore } from '../../../src/core/v1/ports.ts'
import type { Storage } from '../../../src/storage/database.ts'
import { accountStore, webhookStore } from '../../../src/storage/repositories/v1-accounts.ts'
import { transactionStore } from '../../../src/storage/repositories/v1-transactions.ts'
import { account, addAccount, apiKey, location, momentOf } from './fixtures.ts'
import { runContract } from './runner.ts'

/** The transactions API v1's accounts, keys and locations, and its webhook endpoints (core/v1/ports.ts). */
const buildAccounts = (storage: Storage): AccountStore => accountStore(storage)
const buildWebhooks = (storage: Storage): WebhookStore => webhookStore(storage)

await runContract('AccountStore', { build: buildAccounts }, (t) => {
  describe('accounts and keys', () => {
    it('createAccount stores the account and its first key', async () => {
      const record = account()
      const key = apiKey(record.id)
      assert.deepEqual(await t.store.createAccount(record, key), record)
      assert.deepEqual(await t.store.findAccount(record.id), record)
      const stored: Partial<NewApiKey> = { ...key }
      delete stored.keyHash
      assert.deepEqual(await t.store.findKeyByHash(key.keyHash), stored)
      assert.equal(await t.store.findAccount(randomUUID()), undefined)
      assert.equal(await t.store.findKeyByHash('unknown'), undefined)
    })

    it('a billing e-mail is taken once, also by two at once; the loser stores no key', async () => {
      const email = `${randomUUID()}@example.test`
      const [a, b] = [account({ billingEmail: email }), account({ billingEmail: email })]
      const [keyA, keyB] = [apiKey(a.id), apiKey(b.id)]
      const results = await Promise.all([t.store.createAccount(a, keyA), t.build().createAccount(b, keyB)])
      const won = results.filter((r) => r !== undefined)
      assert.equal(won.length, 1)
      const loserKey = won[0]?.id === a.id ? keyB : keyA
      assert.equal(await t.store.findKeyByHash(loserKey.keyHash), undefined)
      // Accounts without a billing e-mail do not clash.
      for (let i = 0; i < 2; i++) {
        const anonymous = account({ billingEmail: null })
        assert.ok(await t.store.createAccount(anonymous, apiKey(anonymous.id)))
      }
    })

    it('keys list newest first; a key hash is unique', async () => {
      const record = await addAccount(t.storage)
      const later = apiKey(record.id, { createdAt: momentOf(5), name: 'later' })
      await t.store.insertKey(later)
      await assert.rejects(t.store.insertKey(apiKey(record.id, { keyHash: later.keyHash })))
      const keys = await t.store.listKeys(record.id)
      assert.deepEqual(
        keys.map((k) => k.name),
        ['later', 'default'],
      )
    })

    it('revokeKey revokes an active key of the account once', async () => {
      const record = await addAccount(t.storage)
      const key = apiKey(record.id)
      await t.store.insertKey(key)
      assert.equal(await t.store.revokeKey(randomUUID(), key.id, momentOf(1)), false)
      assert.equal(await t.store.revokeKey(record.id, key.id, momentOf(1)), true)
      assert.equal(await t.store.revokeKey(record.id, key.id, momentOf(2)), false)
      assert.equal((await t.store.findKeyByHash(key.keyHash))?.revokedAt, momentOf(1))
    })

    it('rotateKey swaps keys in one commit: a failed insert keeps the old key active', async () => {
      const record = await addAccount(t.storage)
      const old = apiKey(record.id)
      await t.store.insertKey(old)
      const clash = apiKey(record.id, { keyHash: old.keyHash, createdAt: momentOf(3) })
      await assert.rejects(t.store.rotateKey(record.id, old.id, clash))
      assert.equal((await t.store.findKeyByHash(old.keyHash))?.revokedAt, null)
      const replacement = apiKey(record.id, { createdAt: momentOf(3) })
      assert.equal(await t.store.rotateKey(record.id, old.id, replacement), true)
      assert.equal((await t.store.findKeyByHash(old.keyHash))?.revokedAt, momentOf(3))
      assert.equal((await t.store.findKeyByHash(replacement.keyHash))?.revokedAt, null)
      assert.equal(await t.store.rotateKey(record.id, old.id, apiKey(record.id)), false)
    })
  })

  describe('locations', () => {
    it('insertLocation stores the location and its chains; reads are scoped to the account', async () => {
      const record = await addAccount(t.storage)
      const loc = location(record.id)
      await t.store.insertLocation(loc)
      const { privateKeyEncrypted, ...public_ } = loc
      assert.deepEqual(await t.store.findLocation(record.id, loc.id), public_)
      assert.equal(await t.store.findLocation(randomUUID(), loc.id), undefined)
      assert.deepEqual(await t.store.locationKey(loc.id), { publicKey: loc.publicKey, privateKeyEncrypted })
      assert.equal(await t.store.locationKey(randomUUID()), undefined)
      const chains = await transactionStore(t.storage).unit(async (unit) => [
        await unit.lockChain(loc.id, 'test'),
        await unit.lockChain(loc.id, 'live'),
      ])
      assert.deepEqual(
        chains.map((c) => c.lastSequence),
        [0, 0],
      )
    })

    it('listLocations pages newest first with the total, ties broken by id', async () => {
      const record = await addAccount(t.storage)
      const locations = [1, 2, 2, 3].map((minute) => location(record.id, { createdAt: momentOf(minute) }))
      for (const loc of locations) await t.store.insertLocation(loc)
      const [first, twinA, twinB, last] = locations as [NewLocation, NewLocation, NewLocation, NewLocation]
      const twins = [twinA.id, twinB.id].sort().reverse()
      const page = await t.store.listLocations(record.id, 3, 0)
      assert.deepEqual([page.data.map((l) => l.id), page.total], [[last.id, ...twins], 4])
      const next = await t.store.listLocations(record.id, 3, 3)
      assert.deepEqual([next.data.map((l) => l.id), next.total], [[first.id], 4])
    })

    it('deactivateLocation deactivates once and answers the location as stored', async () => {
      const record = await addAccount(t.storage)
      const loc = location(record.id)
      await t.store.insertLocation(loc)
      const off = await t.store.deactivateLocation(record.id, loc.id, momentOf(4))
      assert.deepEqual([off?.active, off?.deactivatedAt], [false, momentOf(4)])
      const again = await t.store.deactivateLocation(record.id, loc.id, momentOf(5))
      assert.equal(again?.deactivatedAt, momentOf(4))
      assert.equal(await t.store.deactivateLocation(randomUUID(), loc.id, momentOf(5)), undefined)
    })
  })
})

await runContract('WebhookStore', { build: buildWebhooks }, (t) => {
  const endpoint = (accountId: string, events: WebhookEvent[], minute = 0): WebhookEndpointRecord => ({
    id: randomUUID(),
    accountId,
    url: `https://example.test/${randomUUID()}`,
    events,
    active: true,
    createdAt: momentOf(minute),
  })
  const enqueue = (accountId: string, event: WebhookEvent, minute: number) =>
    transactionStore(t.storage).unit((unit) =>
      unit.enqueueWebhooks({
        accountId,
        event,
        eventId: `event-${minute}`,
        body: `{"minute":${minute}}`,
        createdAt: momentOf(minute),
        maxAttempts: 3,
        runAt: 1,
      }),
    )

  it('endpoints: stored with their secret, listed newest first while active, deactivated once', async () => {
    const record = await addAccount(t.storage)
    const [older, newer] = [
      endpoint(record.id, ['fiscalization.completed'], 1),
      endpoint(record.id, ['transaction.cancelled'], 2),
    ]
    await t.store.insertEndpoint(older, 'sealed-1')
    await t.store.insertEndpoint(newer, 'sealed-2')
    assert.deepEqual(await t.store.listEndpoints(record.id), [newer, older])
    assert.deepEqual(await t.store.findEndpoint(record.id, older.id), {
      ...older,
      secretEncrypted: 'sealed-1',
    })
    assert.equal(await t.store.findEndpoint(randomUUID(), older.id), undefined)
    assert.equal(await t.store.deactivateEndpoint(randomUUID(), older.id), false)
    assert.equal(await t.store.deactivateEndpoint(record.id, older.id), true)
    assert.equal(await t.store.deactivateEndpoint(record.id, older.id), false)
    assert.deepEqual(await t.store.listEndpoints(record.id), [newer])
    assert.equal((await t.store.findEndpoint(record.id, older.id))?.active, false)
  })

  it('enqueueWebhooks writes one delivery per active subscribed endpoint; deliveries page newest first', async () => {
    const record = await addAccount(t.storage)
    const [subscribed, other, inactive] = [
      endpoint(record.id, ['fiscalization.completed', 'transaction.cancelled']),
      endpoint(record.id, ['transaction.cancelled']),
      endpoint(record.id, ['fiscalization.completed']),
    ]
    for (const e of [subscribed, other, inactive]) await t.store.insertEndpoint(e, 'sealed')
    await t.store.deactivateEndpoint(record.id, inactive.id)
    for (const minute of [1, 3, 2])
      assert.equal(await enqueue(record.id, 'fiscalization.completed', minute), 1)
    assert.equal(await enqueue(record.id, 'transaction.cancelled', 4), 2)
    const page = await t.store.listDeliveries(record.id, subscribed.id, 2, 0)
    assert.deepEqual([page.data.map((d) => d.eventId), page.total], [['event-4', 'event-3'], 4])
    const rest = await t.store.listDeliveries(record.id, subscribed.id, 2, 2)
    assert.deepEqual(
      rest.data.map((d) => d.eventId),
      ['event-2', 'event-1'],
    )
    assert.equal((await t.store.listDeliveries(record.id, other.id, 10, 0)).total, 1)
    assert.equal((await t.store.listDeliveries(randomUUID(), subscribed.id, 10, 0)).total, 0)
    const delivery = rest.data[1]
    assert.ok(delivery)
    assert.deepEqual(
      [delivery.status, delivery.attempts, delivery.payload, delivery.eventType],
      ['pending', 0, '{"minute":1}', 'fiscalization.completed'],
    )
    await transactionStore(t.storage).unit((unit) =>
      unit.updateDelivery(delivery.id, {
        status: 'delivered',
        attempts: 2,
        lastStatusCode: 204,
        lastError: null,
        deliveredAt: momentOf(9),
      }),
    )
    assert.deepEqual(await t.store.findDelivery(delivery.id), {
      ...delivery,
      status: 'delivered',
      attempts: 2,
      lastStatusCode: 204,
      lastError: null,
      deliveredAt: momentOf(9),
    })
    assert.equal(await t.store.findDelivery(randomUUID()), undefined)
  })
})
