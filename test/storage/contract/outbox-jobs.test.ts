import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import type { JobRecord, NewJob } from '../../../src/core/outbox.ts'
import type { JobStore } from '../../../src/core/v1/ports.ts'
import type { Storage } from '../../../src/storage/database.ts'
import { accountStore } from '../../../src/storage/repositories/v1-accounts.ts'
import { jobStore } from '../../../src/storage/repositories/outbox-jobs.ts'
import { transactionStore } from '../../../src/storage/repositories/v1-transactions.ts'
import { addAccount, location, momentOf, transaction } from './fixtures.ts'
import { runContract } from './runner.ts'

/** The outbox's job store (core/v1/ports.ts JobStore). */
const build = (storage: Storage): JobStore => jobStore(storage)

const NOW = 1_000_000
const LEASE = 30_000

await runContract('JobStore', { build, preparedPath: true }, (t) => {
  /**
   * Jobs of a kind of their own: claims are global, so each test claims only its own kind and the jobs the
   * other tests left due stay out of its way.
   */
  const jobsOf = async (runAts: number[], extra: Partial<NewJob> = {}) => {
    const kind = `kind-${randomUUID()}`
    const accountId = extra.accountId ?? randomUUID()
    const jobs = runAts.map(
      (runAt, i): NewJob => ({
        id: randomUUID(),
        accountId,
        kind,
        subjectId: `subject-${i}`,
        groupKey: i % 2 ? 'odd' : 'even',
        maxAttempts: 5,
        runAt,
        createdAt: momentOf(i),
        ...extra,
      }),
    )
    await transactionStore(t.storage).unit(async (unit) => {
      for (const job of jobs) await unit.insertJob(job)
    })
    return { kind, accountId, jobs }
  }
  const finishAs = (job: JobRecord, status: JobRecord['status'], store = t.store) =>
    store.finish(
      job,
      {
        status,
        runAt: job.runAt,
        reconcile: false,
        lastError: status === 'completed' ? null : 'boom',
        completedAt: null,
      },
      async () => {},
    )

  describe('claims', () => {
    it('claimDue takes due jobs oldest-created first up to the limit, and leases them', async () => {
      const { kind, jobs } = await jobsOf([30, 10, NOW + 1, 20, 40])
      const claimed = await t.store.claimDue('worker-a', NOW, LEASE, [{ limit: 3, only: kind }])
      // A chain's records are written in its order: claiming by creation sends a backlog in long runs.
      assert.deepEqual(
        claimed.map((j) => j.runAt),
        [30, 10, 20],
      )
      for (const job of claimed) {
        assert.equal(job.status, 'processing')
        assert.equal(job.lockedBy, 'worker-a')
        assert.equal(job.lockedUntil, NOW + LEASE)
        assert.equal(job.attempts, 1)
        assert.equal(job.reconcile, false)
      }
      const rest = await t.store.claimDue('worker-b', NOW, LEASE, [{ limit: 10, only: kind }])
      assert.deepEqual(
        rest.map((j) => j.id),
        [jobs[4]?.id],
        'a job due later and the leased jobs stay',
      )
    })

    it('claims per kind: only one kind, or every kind but some', async () => {
      const a = await jobsOf([1, 2])
      const b = await jobsOf([3])
      const onlyB = await t.store.claimDue('w', NOW, LEASE, [{ limit: 10, only: b.kind }])
      assert.deepEqual(
        onlyB.map((j) => j.kind),
        [b.kind],
      )
      const c = await jobsOf([4])
      const claimed = await t.store.claimDue('w', NOW, LEASE, [
        { limit: 1, only: a.kind },
        { limit: 1, only: c.kind },
      ])
      assert.deepEqual(
        claimed.map((j) => j.runAt),
        [1, 4],
      )
      const d = await jobsOf([5])
      const except = await t.store.claimDue('w', NOW, LEASE, [{ limit: 100, except: [d.kind] }])
      assert.ok(except.some((j) => j.kind === a.kind))
      assert.ok(!except.some((j) => j.kind === d.kind))
    })

    it('a job whose lease ran out is claimed again and marked for reconciliation', async () => {
      const { kind } = await jobsOf([1])
      const [first] = await t.store.claimDue('dead-worker', NOW, LEASE, [{ limit: 1, only: kind }])
      assert.ok(first)
      assert.deepEqual(await t.store.claimDue('w', NOW + LEASE - 1, LEASE, [{ limit: 1, only: kind }]), [])
      const [again] = await t.store.claimDue('w', NOW + LEASE + 1, LEASE, [{ limit: 1, only: kind }])
      assert.equal(again?.id, first.id)
      assert.equal(again?.reconcile, true)
      assert.equal(again?.attempts, 2)
      assert.equal(again?.lockedBy, 'w')
      // The first worker lost the job: its result is not recorded, its effects do not run.
      let ran = false
      const finished = await t.store.finish(
        first,
        { status: 'completed', runAt: 1, reconcile: false, lastError: null, completedAt: momentOf(1) },
        async () => {
          ran = true
        },
      )
      assert.deepEqual([finished, ran], [false, false])
      assert.equal((await t.store.find({ accountId: first.accountId }, first.id))?.status, 'processing')
    })

    it('concurrent claimers never get the same job', async () => {
      const JOBS = 24
      const { kind } = await jobsOf(Array.from({ length: JOBS }, (_, i) => i + 1))
      const stores = [t.store, t.build()]
      const claims = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          (stores[i % 2] as JobStore).claimDue(`worker-${i}`, NOW, LEASE, [{ limit: 3, only: kind }]),
        ),
      )
      const ids = claims.flat().map((j) => j.id)
      assert.equal(new Set(ids).size, ids.length, 'a job was handed to two claimers')
      assert.ok(ids.length > 0)
      claims.forEach((claimed, i) => {
        for (const job of claimed) {
          assert.equal(job.lockedBy, `worker-${i}`)
          assert.equal(job.attempts, 1)
        }
      })
    })

    it('claimById claims a pending job once, also when two race', async () => {
      const { jobs } = await jobsOf([NOW + 100])
      const id = jobs[0]?.id as string
      const results = await Promise.all([
        t.store.claimById(id, 'a', NOW, LEASE),
        t.build().claimById(id, 'b', NOW, LEASE),
      ])
      const won = results.filter((job) => job !== undefined)
      assert.equal(won.length, 1)
      assert.equal(won[0]?.status, 'processing')
      assert.equal(won[0]?.attempts, 1)
      assert.equal(await t.store.claimById(id, 'c', NOW, LEASE), undefined)
      assert.equal(await t.store.claimById(randomUUID(), 'c', NOW, LEASE), undefined)
    })
  })

  describe('finish', () => {
    it('records the attempt and runs its effects in the same commit', async () => {
      const { kind, accountId } = await jobsOf([1])
      const [job] = await t.store.claimDue('w', NOW, LEASE, [{ limit: 1, only: kind }])
      assert.ok(job)
      const follow = randomUUID()
      assert.equal(
        await t.store.finish(
          job,
          {
            status: 'failed',
            runAt: NOW + 5,
            reconcile: true,
            lastError: 'timeout',
            completedAt: null,
            attempts: 0,
          },
          (unit) =>
            unit.insertJob({
              id: follow,
              accountId,
              kind,
              subjectId: 'follow-up',
              groupKey: 'g',
              maxAttempts: 1,
              runAt: NOW + 10,
              createdAt: momentOf(9),
            }),
        ),
        true,
      )
      const stored = await t.store.find({ accountId }, job.id)
      assert.ok(stored)
      assert.deepEqual(
        [
          stored.status,
          stored.runAt,
          stored.reconcile,
          stored.lastError,
          stored.attempts,
          stored.lockedBy,
          stored.lockedUntil,
        ],
        ['failed', NOW + 5, true, 'timeout', 0, null, null],
      )
      assert.equal((await t.store.find({ accountId }, follow))?.status, 'pending')
      assert.equal(await finishAs(job, 'completed'), false, 'a finished attempt cannot finish twice')
    })

    it('effects that throw roll the finish back: the job stays leased to its worker', async () => {
      const { kind, accountId } = await jobsOf([1])
      const [job] = await t.store.claimDue('w', NOW, LEASE, [{ limit: 1, only: kind }])
      assert.ok(job)
      await assert.rejects(
        t.store.finish(
          job,
          { status: 'completed', runAt: 1, reconcile: false, lastError: null, completedAt: momentOf(2) },
          async () => {
            throw new Error('effect failed')
          },
        ),
        /effect failed/,
      )
      const stored = await t.store.find({ accountId }, job.id)
      assert.deepEqual([stored?.status, stored?.lockedBy], ['processing', 'w'])
    })
  })

  describe('reads', () => {
    it('find and list see only the scope: the account, or one group of it', async () => {
      const { accountId, jobs } = await jobsOf([1, 2, 3])
      const [even, odd] = [jobs[0] as NewJob, jobs[1] as NewJob]
      assert.equal((await t.store.find({ accountId }, odd.id))?.id, odd.id)
      assert.equal(await t.store.find({ accountId: randomUUID() }, odd.id), undefined)
      assert.equal(await t.store.find({ accountId, groupKey: 'even' }, odd.id), undefined)
      assert.equal((await t.store.find({ accountId, groupKey: 'even' }, even.id))?.id, even.id)
      const group = await t.store.list({ accountId, groupKey: 'even' }, { limit: 10, offset: 0 })
      assert.deepEqual(group.total, 2)
    })

    it('list pages newest first with the total, ties broken by id, filtered by status and kind', async () => {
      const accountId = randomUUID()
      const { kind, jobs } = await jobsOf([1, 2, 3, 4, 5], { accountId })
      // Two jobs created at the same moment: the id decides.
      const twins = await jobsOf([6, 7], { accountId, createdAt: momentOf(99) })
      const twinIds = twins.jobs
        .map((j) => j.id)
        .sort()
        .reverse()
      const all = await t.store.list({ accountId }, { limit: 4, offset: 0 })
      assert.equal(all.total, 7)
      assert.deepEqual(
        all.data.map((j) => j.id),
        [...twinIds, jobs[4]?.id, jobs[3]?.id],
      )
      const next = await t.store.list({ accountId }, { limit: 4, offset: 4 })
      assert.deepEqual(
        next.data.map((j) => j.id),
        [jobs[2]?.id, jobs[1]?.id, jobs[0]?.id],
      )
      assert.deepEqual(await t.store.list({ accountId }, { limit: 4, offset: 8 }), { data: [], total: 7 })
      const [claimed] = await t.store.claimDue('w', NOW, LEASE, [{ limit: 1, only: kind }])
      const processing = await t.store.list({ accountId }, { status: 'processing', limit: 10, offset: 0 })
      assert.deepEqual([processing.data.map((j) => j.id), processing.total], [[claimed?.id], 1])
      const ofKind = await t.store.list({ accountId }, { kind: twins.kind, limit: 10, offset: 0 })
      assert.equal(ofKind.total, 2)
    })

    it('stats count by status and kind, and name the oldest due time', async () => {
      const { kind, accountId } = await jobsOf([50, 20, 30])
      const [job] = await t.store.claimDue('w', NOW, LEASE, [{ limit: 1, only: kind }])
      assert.ok(job)
      await finishAs(job, 'dead')
      const stats = await t.store.stats({ accountId })
      assert.deepEqual(stats.byStatus, { pending: 2, processing: 0, completed: 0, failed: 0, dead: 1 })
      assert.deepEqual(stats.byKind[kind], { pending: 2, processing: 0, completed: 0, failed: 0, dead: 1 })
      // The oldest-created job (due at 50) was claimed and died: the oldest of the pending two is due at 20.
      assert.equal(stats.oldestDueAt, 20)
      const empty = await t.store.stats({ accountId: randomUUID() })
      assert.deepEqual([empty.byStatus.pending, empty.oldestDueAt, empty.byKind], [0, null, {}])
    })

    it('openCount counts pending, processing and failed jobs only', async () => {
      const before = await t.store.openCount()
      const { kind, jobs } = await jobsOf([1, 2, NOW + 7])
      assert.equal(await t.store.openCount(), before + 3)
      const [done] = await t.store.claimDue('w', NOW, LEASE, [{ limit: 1, only: kind }])
      assert.ok(done)
      await finishAs(done, 'completed')
      assert.equal(jobs.length, 3)
      assert.equal(await t.store.openCount(), before + 2)
    })
  })

  describe('retry queue', () => {
    it('revive brings a dead job back with its effects in the same commit; nothing else is revived', async () => {
      const { kind, accountId } = await jobsOf([1, 2])
      const claimed = await t.store.claimDue('w', NOW, LEASE, [{ limit: 2, only: kind }])
      const [dead, live] = claimed as [JobRecord, JobRecord]
      await finishAs(dead, 'dead')
      let effectsSaw: JobRecord | undefined
      const revived = await t.store.revive({ accountId }, dead.id, NOW + 1, async (_unit, job) => {
        effectsSaw = job
      })
      assert.deepEqual([revived?.status, revived?.attempts, revived?.runAt], ['pending', 0, NOW + 1])
      assert.deepEqual(effectsSaw, revived)
      assert.equal(await t.store.revive({ accountId }, live.id, NOW, async () => {}), undefined)
      assert.equal(await t.store.revive({ accountId: randomUUID() }, dead.id, NOW, async () => {}), undefined)
      // An effect that throws leaves the job dead.
      const [again] = await t.store.claimDue('w', NOW + 2, LEASE, [{ limit: 1, only: kind }])
      assert.ok(again)
      await finishAs(again, 'dead')
      await assert.rejects(
        t.store.revive({ accountId }, dead.id, NOW, async () => {
          throw new Error('no')
        }),
      )
      assert.equal((await t.store.find({ accountId }, dead.id))?.status, 'dead')
    })

    it('releaseWindow makes the held jobs of the scope due now, and only those', async () => {
      const accountId = randomUUID()
      const held = await jobsOf([NOW + 100, NOW + 200], { accountId, batchWindow: 'lroe' })
      const otherWindow = await jobsOf([NOW + 100], { accountId, batchWindow: 'other' })
      const otherAccount = await jobsOf([NOW + 100], { batchWindow: 'lroe' })
      assert.equal(await t.store.releaseWindow({ accountId }, 'lroe', NOW), 2)
      const due = await t.store.claimDue('w', NOW, LEASE, [
        { limit: 10, only: held.kind },
        { limit: 10, only: otherWindow.kind },
        { limit: 10, only: otherAccount.kind },
      ])
      assert.deepEqual(
        due.map((j) => j.kind),
        [held.kind, held.kind],
      )
      assert.equal(await t.store.releaseWindow({ accountId }, 'lroe', NOW), 0)
      const grouped = await jobsOf([NOW + 100, NOW + 100], { accountId, batchWindow: 'lroe' })
      assert.equal(await t.store.releaseWindow({ accountId, groupKey: 'odd' }, 'lroe', NOW), 1)
      assert.equal(grouped.jobs.length, 2)
    })

    it('releaseWindow with an environment releases the submissions of that environment only', async () => {
      const account = await addAccount(t.storage)
      const loc = location(account.id)
      await accountStore(t.storage).insertLocation(loc)
      const transactions = (['test', 'live', 'live'] as const).map((environment) =>
        transaction({ accountId: account.id, locationId: loc.id }, { status: 'pending_lroe', environment }),
      )
      const kind = `kind-${randomUUID()}`
      await transactionStore(t.storage).unit(async (unit) => {
        for (const tx of transactions) {
          await unit.insertTransaction(tx)
          await unit.insertJob({
            id: randomUUID(),
            accountId: account.id,
            kind,
            subjectId: tx.id,
            groupKey: loc.id,
            maxAttempts: 3,
            runAt: NOW + 100,
            createdAt: momentOf(1),
            batchWindow: 'lroe',
          })
        }
      })
      assert.equal(
        await t.store.releaseWindow({ accountId: account.id, environment: 'live' }, 'lroe', NOW),
        2,
      )
      const due = await t.store.claimDue('w', NOW, LEASE, [{ limit: 10, only: kind }])
      assert.deepEqual(due.map((j) => j.subjectId).sort(), [transactions[1]?.id, transactions[2]?.id].sort())
    })
  })
})
