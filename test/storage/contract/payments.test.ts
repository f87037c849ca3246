import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { it } from 'node:test'
import type { PaymentRecord, PaymentStore, ReversalRule } from '../../../src/core/payments/ports.ts'
import type { Storage } from '../../../src/storage/database.ts'
import { paymentRepository } from '../../../src/storage/repositories/payments.ts'
import { addCashbox, momentOf } from './fixtures.ts'
import { runContract } from './runner.ts'

/** /v2/pay's store (core/payments/ports.ts). */
const build = (storage: Storage): PaymentStore => paymentRepository(storage)

const payment = (
  box: { id: string; queueId: string },
  extra: Partial<PaymentRecord> = {},
): PaymentRecord => ({
  id: randomUUID(),
  cashboxId: box.id,
  operationId: randomUUID(),
  queueId: box.queueId,
  action: 'payment',
  protocol: 'simulator',
  terminalId: 'terminal-1',
  amount: '15.00',
  currency: 'EUR',
  payItemCase: '0x4555000000000005',
  request: '{"amount":"15.00"}',
  requestHash: 'c'.repeat(64),
  state: 'requested',
  originalId: null,
  transactionId: null,
  reversed: '0',
  answer: null,
  lastError: null,
  createdAt: momentOf(1),
  updatedAt: momentOf(1),
  ...extra,
})

/** Takes `amount` back from the original, refusing to take back more than it was: the refund rule's shape. */
const refundOf =
  (amount: number): ReversalRule =>
  (original) => {
    const reversed = Number(original.reversed) + amount
    if (reversed > Number(original.amount)) throw new Error('refund exceeds the payment')
    return {
      reversed: String(reversed),
      state: reversed === Number(original.amount) ? 'refunded' : 'succeeded',
    }
  }

await runContract('PaymentStore', { build }, (t) => {
  const settled = async (box: { id: string; queueId: string }) => {
    const original = await t.store.create(payment(box))
    return t.store.settle(original.id, {
      state: 'succeeded',
      transactionId: `tx-${original.id}`,
      answer: '{"ok":true}',
      at: momentOf(2),
    })
  }

  it('create stores every field; find, byId and findByTransaction read it back', async () => {
    const box = await addCashbox(t.storage)
    const record = payment(box, { transactionId: 'tx-1', lastError: 'none yet' })
    assert.deepEqual(await t.store.create(record), record)
    assert.deepEqual(await t.store.find(box.id, record.operationId), record)
    assert.deepEqual(await t.store.byId(record.id), record)
    assert.deepEqual(await t.store.findByTransaction(box.id, 'tx-1'), record)
    assert.equal(await t.store.find(box.id, randomUUID()), undefined)
    assert.equal(await t.store.findByTransaction(randomUUID(), 'tx-1'), undefined)
  })

  it('create is idempotent per (cash box, operation id): the stored record wins, its reversal runs once', async () => {
    const box = await addCashbox(t.storage)
    const original = await settled(box)
    const refund = payment(box, { action: 'refund', originalId: original.id, amount: '5.00' })
    const reversal = { originalId: original.id, rule: refundOf(5) }
    assert.equal((await t.store.create(refund, reversal)).id, refund.id)
    const again = await t.store.create({ ...refund, id: randomUUID(), amount: '7.00' }, reversal)
    assert.deepEqual(again, refund)
    assert.equal((await t.store.byId(original.id))?.reversed, '5', 'the duplicate did not reverse again')
    // The same operation id on another cash box is another operation.
    const other = await addCashbox(t.storage)
    const elsewhere = payment(other, { operationId: refund.operationId })
    assert.deepEqual(await t.store.create(elsewhere), elsewhere)
  })

  it('a reversal rule that refuses rolls back the new record with it', async () => {
    const box = await addCashbox(t.storage)
    const original = await settled(box)
    const refund = payment(box, { action: 'refund', originalId: original.id })
    await assert.rejects(
      t.store.create(refund, { originalId: original.id, rule: refundOf(16) }),
      /refund exceeds the payment/,
    )
    assert.equal(await t.store.byId(refund.id), undefined)
    assert.equal((await t.store.byId(original.id))?.reversed, '0')
  })

  it('concurrent refunds never take back more than was paid', async () => {
    const box = await addCashbox(t.storage)
    const original = await settled(box)
    const stores = [t.store, t.build()]
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, (_, i) =>
        (stores[i % 2] as PaymentStore).create(payment(box, { action: 'refund', originalId: original.id }), {
          originalId: original.id,
          rule: refundOf(5),
        }),
      ),
    )
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3)
    const after = await t.store.byId(original.id)
    assert.deepEqual([after?.reversed, after?.state], ['15', 'refunded'])
  })

  it('markInProgress moves only a requested payment', async () => {
    const box = await addCashbox(t.storage)
    const record = await t.store.create(payment(box))
    await t.store.markInProgress(record.id, momentOf(3))
    assert.deepEqual(
      [(await t.store.byId(record.id))?.state, (await t.store.byId(record.id))?.updatedAt],
      ['in_progress', momentOf(3)],
    )
    const done = await settled(box)
    await t.store.markInProgress(done.id, momentOf(4))
    assert.equal((await t.store.byId(done.id))?.state, 'succeeded')
  })

  it('noteError keeps the first 1000 characters', async () => {
    const box = await addCashbox(t.storage)
    const record = await t.store.create(payment(box))
    await t.store.noteError(record.id, 'x'.repeat(1500), momentOf(5))
    const stored = await t.store.byId(record.id)
    assert.equal(stored?.lastError, 'x'.repeat(1000))
    assert.equal(stored?.updatedAt, momentOf(5))
  })

  it('settle settles once: a second settle, also a concurrent one, gets the first outcome', async () => {
    const box = await addCashbox(t.storage)
    const record = await t.store.create(payment(box))
    const outcome = (state: 'succeeded' | 'declined') => ({
      state,
      transactionId: state === 'succeeded' ? 'tx-ok' : null,
      answer: `{"state":"${state}"}`,
      at: momentOf(6),
    })
    const [a, b] = await Promise.all([
      t.store.settle(record.id, outcome('succeeded')),
      t.build().settle(record.id, outcome('declined')),
    ])
    assert.deepEqual(a, b)
    assert.deepEqual(await t.store.settle(record.id, outcome('declined')), a)
    assert.ok(a.answer === '{"state":"succeeded"}' || a.answer === '{"state":"declined"}')
  })

  it('settle applies its reversal only when it settles', async () => {
    const box = await addCashbox(t.storage)
    const original = await settled(box)
    const cancel = await t.store.create(payment(box, { action: 'cancel', originalId: original.id }))
    const reversal = { originalId: original.id, rule: refundOf(15) }
    const update = { state: 'succeeded' as const, transactionId: null, answer: '{}', at: momentOf(7) }
    await t.store.settle(cancel.id, update, reversal)
    assert.equal((await t.store.byId(original.id))?.reversed, '15')
    // Settled already: the rule would refuse (15 + 15 > 15) if it ran again.
    assert.equal((await t.store.settle(cancel.id, update, reversal)).state, 'succeeded')
  })
})
