import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { it } from 'node:test'
import type { ExportRun, ExportRunStore } from '../../../src/core/dashboard/ports.ts'
import type { Storage } from '../../../src/storage/database.ts'
import { exportRunRepository } from '../../../src/storage/repositories/export-runs.ts'
import { runContract } from './runner.ts'

/** The dashboard's export runs (api/dashboard/export-runs.ts). */
const build = (storage: Storage): ExportRunStore => exportRunRepository(storage)

await runContract('ExportRunStore', { build }, (t) => {
  const run = (accountId: string, startedAt: string): ExportRun => ({
    id: randomUUID(),
    accountId,
    cashboxId: randomUUID(),
    cashboxLabel: 'till 1',
    format: 'at-dep7',
    formatLabel: 'DEP7',
    period: { from: '2026-01-01' },
    status: 'exporting',
    done: 0,
    total: null,
    startedAt,
    heartbeatAt: startedAt,
    finishedAt: null,
    files: [],
    bytes: 0,
    error: null,
    verdict: null,
  })

  it('keeps a run as inserted, and its changes field by field', async () => {
    const started = run(randomUUID(), '2026-12-07T10:00:00.000Z')
    await t.store.insert(started)
    assert.deepEqual(await t.store.find(started.id), started)
    await t.store.update(started.id, { done: 5, total: 9, heartbeatAt: '2026-12-07T10:00:04.000Z' })
    const verdict = { ok: true, summary: 'OK: 9 receipts', problems: [] }
    await t.store.update(started.id, {
      status: 'done',
      done: 9,
      files: ['a.json', 'a-2.json'],
      bytes: 1234,
      verdict,
      finishedAt: '2026-12-07T10:00:05.000Z',
    })
    assert.deepEqual(await t.build().find(started.id), {
      ...started,
      status: 'done',
      done: 9,
      total: 9,
      heartbeatAt: '2026-12-07T10:00:04.000Z',
      files: ['a.json', 'a-2.json'],
      bytes: 1234,
      verdict,
      finishedAt: '2026-12-07T10:00:05.000Z',
    })
    assert.equal(await t.store.find(randomUUID()), undefined)
  })

  it("lists an account's runs newest first, up to the limit, and no other account's", async () => {
    const account = randomUUID()
    const older = run(account, '2026-12-07T09:00:00.000Z')
    const newer = run(account, '2026-12-07T11:00:00.000Z')
    await t.store.insert(older)
    await t.store.insert(newer)
    await t.store.insert(run(randomUUID(), '2026-12-07T12:00:00.000Z'))
    assert.deepEqual(
      (await t.store.list(account, 10)).map((r) => r.id),
      [newer.id, older.id],
    )
    assert.deepEqual(
      (await t.store.list(account, 1)).map((r) => r.id),
      [newer.id],
    )
  })
})
