import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import type { Storage } from '../../src/storage/database.ts'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { assertNothingWritten, assertProblem, receipt, startedPos } from './support.ts'

/** Reverses the key order of every object, deeply: same JSON value, different text. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .reverse()
      .map(([k, v]) => [k, reversedKeys(v)]),
  )
}

/**
 * Holds every unit of work of the storage until released, so that an operation can be kept "running"
 * without any timing: the sign service calls storage.transact for each receipt, and reads stay free.
 */
function holdTransactions(storage: Storage) {
  const original = storage.transact
  let release!: () => void
  const released = new Promise<void>((resolve) => {
    release = resolve
  })
  let reached!: () => void
  const entered = new Promise<void>((resolve) => {
    reached = resolve
  })
  storage.transact = (async (work) => {
    reached()
    await released
    return original.call(storage, work)
  }) as Storage['transact']
  return {
    entered,
    release() {
      storage.transact = original
      release()
    },
  }
}

for (const engine of await engines()) {
  describe(`idempotency by x-operation-id (${engine})`, () => {
    let harness: Harness
    before(async () => {
      harness = await startHarness(engine)
    })
    after(async () => {
      await harness?.close()
    })

    test('the same id and body answer the stored bytes and write no new queue row', async () => {
      const pos = await startedPos(harness)
      const operationId = randomUUID()
      const body = receipt()
      const first = await pos.signOk(body, { operationId })
      const before = await pos.snapshot()
      for (let i = 0; i < 3; i++) {
        const again = await pos.sign(body, { operationId })
        assert.equal(again.status, 200)
        assert.equal(again.payload, first.payload, 'a replay is byte for byte the first answer')
      }
      assertNothingWritten(before, await pos.snapshot())
      const items = await pos.journal('QueueItem')
      assert.equal(items.filter((i) => i.operationId === operationId).length, 1)
    })

    test('the operation id is matched case-insensitively', async () => {
      const pos = await startedPos(harness)
      const operationId = randomUUID()
      const body = receipt()
      const first = await pos.signOk(body, { operationId })
      const again = await pos.sign(body, { operationId: operationId.toUpperCase() })
      assert.equal(again.status, 200)
      assert.equal(again.payload, first.payload)
    })

    test('the same body with its keys in another order and other white space is the same operation', async () => {
      const pos = await startedPos(harness)
      const operationId = randomUUID()
      const body = receipt({ extra: { cbCustomer: { Name: 'A', VATId: 'X1' } } })
      const first = await pos.signOk(body, { operationId })
      const before = await pos.snapshot()
      const reordered = JSON.stringify(reversedKeys(body), null, 2)
      assert.notEqual(reordered, JSON.stringify(body))
      const again = await pos.sign(undefined, { operationId, raw: reordered })
      assert.equal(again.status, 200, again.payload)
      assert.equal(again.payload, first.payload)
      assertNothingWritten(before, await pos.snapshot())
    })

    test('the same id with a different body is a 409 problem and writes nothing', async () => {
      const pos = await startedPos(harness)
      const operationId = randomUUID()
      const body = receipt({ charges: [{ amount: 10, vat: 20 }] })
      const first = await pos.signOk(body, { operationId })
      const before = await pos.snapshot()
      const changed = { ...body, cbChargeItems: [{ ...(body.cbChargeItems as object[])[0], Amount: 11 }] }
      ;(changed as Record<string, unknown>).cbPayItems = [{ Description: 'cash', Amount: 11 }]
      const conflict = await pos.sign(changed, { operationId })
      const problem = assertProblem(conflict, 409)
      assert.equal(problem.error, 'operation_conflict')
      const otherReference = await pos.sign({ ...body, cbReceiptReference: 'other' }, { operationId })
      assertProblem(otherReference, 409)
      assertNothingWritten(before, await pos.snapshot())
      // The original operation is still answered as before.
      const again = await pos.sign(body, { operationId })
      assert.equal(again.payload, first.payload)
    })

    test('operation ids are scoped to the cash box', async () => {
      const a = await startedPos(harness)
      const b = await startedPos(harness)
      const operationId = randomUUID()
      const first = await a.signOk(receipt(), { operationId })
      const other = await b.signOk(receipt(), { operationId })
      assert.equal(other.response.ftQueueID, b.queueId)
      assert.notEqual(other.payload, first.payload)
    })

    test('20 concurrent identical requests make exactly one queue item and the same answer', async () => {
      const pos = await startedPos(harness)
      const operationId = randomUUID()
      const body = receipt()
      const before = (await pos.journal('QueueItem')).length
      const replies = await Promise.all(Array.from({ length: 20 }, () => pos.sign(body, { operationId })))
      for (const reply of replies) assert.equal(reply.status, 200, reply.payload)
      const payloads = new Set(replies.map((r) => r.payload))
      assert.equal(payloads.size, 1, 'all answers are the same bytes')
      const items = await pos.journal('QueueItem')
      assert.equal(items.length, before + 1)
      assert.equal(items.filter((i) => i.operationId === operationId).length, 1)
      const receipts = await pos.journal('ReceiptJournal')
      assert.equal(receipts.filter((r) => r.ftQueueItemId === replies[0]!.json().ftQueueItemID).length, 1)
    })

    test('20 concurrent requests mixing two bodies under one id: one item, the rest replays or 409', async () => {
      const pos = await startedPos(harness)
      const operationId = randomUUID()
      const a = receipt()
      const b = receipt()
      const before = (await pos.journal('QueueItem')).length
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) => pos.sign(i % 2 ? b : a, { operationId })),
      )
      const ok = replies.filter((r) => r.status === 200)
      const conflicts = replies.filter((r) => r.status !== 200)
      for (const reply of conflicts) assertProblem(reply, 409)
      assert.equal(ok.length, 10, 'exactly the requests with the winning body succeed')
      assert.equal(new Set(ok.map((r) => r.payload)).size, 1)
      const items = await pos.journal('QueueItem')
      assert.equal(items.length, before + 1)
    })

    // The timeout only guards against a server that would let a duplicate wait for ever: no assertion
    // depends on how long anything takes.
    test('a duplicate of an operation still running: 422 after x-operation-lifetime, 409 for another body, then the stored answer', {
      timeout: 20_000,
    }, async () => {
      const pos = await startedPos(harness)
      const operationId = randomUUID()
      const body = receipt()
      const before = (await pos.journal('QueueItem')).length
      const hold = holdTransactions(harness.runtime.storage)
      let first: Promise<Awaited<ReturnType<typeof pos.sign>>>
      let waiting: Promise<Awaited<ReturnType<typeof pos.sign>>>
      try {
        first = pos.sign(body, { operationId })
        await hold.entered // the first call is inside its unit of work and cannot finish

        const expired = await pos.sign(body, { operationId, headers: { 'x-operation-lifetime': '1' } })
        const problem = assertProblem(expired, 422)
        assert.equal(problem.error, 'operation_in_progress')

        const conflict = await pos.sign(receipt(), { operationId, headers: { 'x-operation-lifetime': '1' } })
        assertProblem(conflict, 409)

        // Nothing is committed while the first call is held.
        assert.equal((await pos.journal('QueueItem')).length, before)
        waiting = pos.sign(body, { operationId })
      } finally {
        hold.release()
      }
      const done = await first
      assert.equal(done.status, 200, done.payload)
      const duplicate = await waiting
      assert.equal(duplicate.status, 200)
      assert.equal(duplicate.payload, done.payload)
      const retried = await pos.sign(body, { operationId, headers: { 'x-operation-lifetime': '1' } })
      assert.equal(retried.status, 200)
      assert.equal(retried.payload, done.payload)
      assert.equal((await pos.journal('QueueItem')).length, before + 1)
    })

    test('x-operation-lifetime must be a number of milliseconds', async () => {
      const pos = await startedPos(harness)
      const before = await pos.snapshot()
      for (const lifetime of ['abc', '-1', '1.5', '12345678']) {
        const reply = await pos.sign(receipt(), { headers: { 'x-operation-lifetime': lifetime } })
        assertProblem(reply, 400, 'headers.x-operation-lifetime')
      }
      assertNothingWritten(before, await pos.snapshot())
    })
  })
}
