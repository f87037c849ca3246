import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { type Pos, receipt, startedPos } from '../api/support.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'

/**
 * A full disk under SQLite: the database lives on a tmpfs of 8 MiB, a filler file takes the rest of it,
 * and receipts are signed until the WAL cannot grow. From the first failed commit every answer must be
 * 503 database_unavailable with Retry-After (the request may be retried), /health must say that the store
 * cannot write, and once space is freed the same process must write again with its journal intact.
 */

const TMPFS_MIB = 8
/** Enough receipts of 4 KB to fill 8 MiB several times over: the loop ends at the first refusal. */
const MAX_RECEIPTS = 20_000

function mountTmpfs(dir: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_MIB}m,mode=0700`, 'tmpfs', dir], {
      stdio: 'pipe',
    })
    return undefined
  } catch (error) {
    return `cannot mount a tmpfs (needs root): ${(error as Error).message.split('\n')[0]}`
  }
}

/** Writes zeros into `file` until the file system is full; returns the bytes written. */
function fill(file: string): number {
  const fd = openSync(file, 'w')
  const chunk = Buffer.alloc(64 * 1024)
  let written = 0
  try {
    for (;;) written += writeSync(fd, chunk)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
  } finally {
    closeSync(fd)
  }
  return written
}

const root = mkdtempSync(join(tmpdir(), 'fiscalbox-disk-full-'))
const skip = mountTmpfs(root)

describe(`a full disk under SQLite (tmpfs of ${TMPFS_MIB} MiB)`, { skip: skip ?? false }, () => {
  let harness: Harness
  let pos: Pos
  const filler = join(root, 'filler')
  before(async () => {
    harness = await startHarness('sqlite', { dataDir: join(root, 'data') })
    pos = await startedPos(harness)
  })
  after(async () => {
    await harness?.close()
    execFileSync('umount', [root])
    rmSync(root, { recursive: true, force: true })
  })

  test('503 database_unavailable with Retry-After from the first failed commit; /health says so; freed space heals', async (t) => {
    assert.equal((await harness.app.inject({ url: '/health' })).statusCode, 200)
    const filled = fill(filler)
    let signed = 0
    let refusal: Awaited<ReturnType<Pos['sign']>> | undefined
    const description = 'x'.repeat(1000)
    while (signed < MAX_RECEIPTS && !refusal) {
      const reply = await pos.sign(receipt({ charges: [1, 2, 3, 4].map(() => ({ amount: 1, description })) }))
      if (reply.status === 200) signed += 1
      else refusal = reply
    }
    assert.ok(refusal, `the disk never filled after ${signed} receipts`)
    const answers = [refusal]
    for (let i = 0; i < 5; i += 1)
      answers.push(await pos.sign(receipt({ charges: [1, 2, 3, 4].map(() => ({ amount: 1, description })) })))
    for (const reply of answers) {
      assert.equal(reply.status, 503, reply.payload)
      assert.equal(reply.json().error, 'database_unavailable', reply.payload)
      assert.equal(reply.headers['retry-after'], '1')
    }

    const unhealthy = await harness.app.inject({ url: '/health' })
    assert.equal(unhealthy.statusCode, 503, unhealthy.payload)
    assert.deepEqual(unhealthy.json(), {
      status: 'unavailable',
      database: 'sqlite',
      reason: 'the database cannot write (the disk may be full)',
    })
    assert.equal(unhealthy.headers['retry-after'], '1')

    rmSync(filler)
    const healthy = await harness.app.inject({ url: '/health' })
    assert.equal(healthy.statusCode, 200, healthy.payload)
    await pos.signOk(receipt())
    const items = await pos.journal('QueueItem')
    assert.deepEqual(
      items.map((item) => item.ftQueueRow),
      items.map((_, i) => i + 1),
      'queue rows 1..n: the refused receipts left nothing behind',
    )
    assert.equal(items.length, signed + 2, 'the start receipt, every acknowledged receipt and the last one')
    t.diagnostic(
      `disk-full/sqlite: ${filled} bytes of filler, ${signed} receipts signed before the first refusal, ${answers.length} answers 503 database_unavailable with Retry-After; /health 503 while full, 200 after the filler was removed; ${items.length} queue rows 1..n`,
    )
  })
})
