import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { type Server, startServer } from '../cli/cli-process.ts'
import { engines, freshPostgresDatabase, PG_ADMIN_URL } from '../helpers/engines.ts'
import {
  createAtCashboxes,
  createCashboxes,
  createSignDeTargets,
  newMasterKey,
  nodeEnv,
  provisionAt,
  startQueues,
} from './support/fiscalbox.ts'
import { checkCashbox, checkSignDe, exportAndVerify, verifyDep7 } from './support/ledger.ts'
import { drive } from './support/load.ts'
import { OperationLog } from './support/operations.ts'
import { runSeed, seededRandom } from './support/random.ts'
import { WRITE_SURFACES } from './support/surfaces.ts'

/**
 * Several nodes: three `fiscalbox serve` processes on one PostgreSQL database take interleaved operations
 * for the same 20 cash boxes from many clients; some operations go to two nodes at the same moment. In the
 * middle one node is killed (SIGKILL): its unanswered operations are retried on the others, which go on.
 * Then every queue must be gapless, unforked, every chain must verify and every operation must have run once.
 * (test/multinode/cluster.test.ts is the short version of this in `npm test`.)
 */

const NODES = 3
const CASHBOXES = 20
const AT_CASHBOXES = 4
const DE_CLIENTS = 4
// Two thirds of the operations are /v2/sign receipts: 30,000 keeps them above the 20,000 receipts docs/reliability.md asks for.
const RECEIPTS = Number(process.env.MULTINODE_RECEIPTS ?? 30_000)
const WORKERS = 48
const DUPLICATE_SHARE = 0.05

const postgres = (await engines()).includes('postgres')
const skip = postgres ? false : `needs PostgreSQL at ${PG_ADMIN_URL}`

describe(`multinode: ${NODES} nodes, one PostgreSQL, ${CASHBOXES} cash boxes, ${RECEIPTS} receipts, one node killed`, {
  skip,
}, () => {
  const root = mkdtempSync(join(tmpdir(), 'fiscalbox-multinode-rel-'))
  let dropDatabase: (() => Promise<void>) | undefined
  const servers: Server[] = []
  after(async () => {
    await Promise.all(servers.map((server) => server.stop('SIGKILL')))
    await dropDatabase?.()
    rmSync(root, { recursive: true, force: true })
  })

  it('no gap, fork or duplicate; every chain verifies; duplicates executed once; the others go on', async (t) => {
    const seed = runSeed()
    const random = seededRandom(seed)
    const database = await freshPostgresDatabase()
    dropDatabase = database.drop
    const masterKey = newMasterKey()
    const cli = nodeEnv(database.url, masterKey, join(root, 'cli'))
    const cashboxes = [
      ...(await createCashboxes(cli, CASHBOXES)),
      ...(await createAtCashboxes(cli, AT_CASHBOXES)),
    ]
    servers.push(
      ...(await Promise.all(
        Array.from({ length: NODES }, (_, i) =>
          startServer(nodeEnv(database.url, masterKey, join(root, `node-${i}`))),
        ),
      )),
    )
    const log = new OperationLog()
    await provisionAt((servers[0] as Server).baseUrl, cashboxes)
    await startQueues(servers[0] as Server, cashboxes, log)
    const signDe = await createSignDeTargets(cli, (servers[0] as Server).baseUrl, DE_CLIENTS)
    const targets = [...cashboxes, ...signDe]

    const alive = new Set(servers.map((_, i) => i))
    const urlOf = (turn: number, shift = 0): string | undefined => {
      const nodes = [...alive]
      return servers[nodes[(turn + shift) % nodes.length] as number]?.baseUrl
    }
    let duplicates = 0
    let killed: Promise<unknown> | undefined
    let okAtKill = 0
    const started = Date.now()
    await drive({
      log,
      cashboxes: targets,
      surfaces: WRITE_SURFACES,
      workers: WORKERS,
      random,
      retryShare: 0.3,
      duplicateShare: DUPLICATE_SHARE,
      target: (turn) => urlOf(turn),
      duplicateTo: (turn) => {
        duplicates += 1
        return urlOf(turn, 1)
      },
      done: () => log.all.length >= RECEIPTS + cashboxes.length,
      onOutcome: () => {
        if (!killed && log.counts.ok >= RECEIPTS / 2) {
          okAtKill = log.counts.ok
          alive.delete(NODES - 1)
          killed = (servers[NODES - 1] as Server).stop('SIGKILL')
        }
      },
    })
    const seconds = (Date.now() - started) / 1000
    assert.ok(killed, 'a node was killed in the middle')
    assert.equal(((await killed) as { signal: string }).signal, 'SIGKILL')
    const answeredAfterKill = log.counts.ok - okAtKill

    // The survivors answer what was left unanswered.
    const survivor = (servers[0] as Server).baseUrl
    for (let round = 0; round < 5 && log.unacked().length > 0; round++) {
      const pending = log.unacked()
      for (let i = 0; i < pending.length; i += 16)
        await Promise.all(pending.slice(i, i + 16).map((op, j) => log.send(urlOf(j) ?? survivor, op)))
    }
    assert.deepEqual(log.unacked().length, 0, 'every operation is answered in the end')

    const findings = [...log.findings]
    const expected = new Map<string, number>()
    let receipts = 0
    for (let i = 0; i < cashboxes.length; i += 4) {
      const checked = await Promise.all(
        cashboxes.slice(i, i + 4).map((c, j) => checkCashbox(urlOf(j) ?? survivor, c, log)),
      )
      checked.forEach((result, j) => {
        findings.push(...result.findings)
        expected.set((cashboxes[i + j] as { cashboxId: string }).cashboxId, result.receipts)
        receipts += result.receipts
      })
    }
    const de = await checkSignDe(survivor, cli, signDe, log, root)
    findings.push(...de.findings)
    findings.push(...(await exportAndVerify(cli, cashboxes, root, expected)))
    const dep7 = await verifyDep7(cli, cashboxes, root, expected)
    findings.push(...dep7.findings)
    t.diagnostic(
      `multinode: seed ${seed}, ${NODES} nodes (node ${NODES - 1} killed after ${okAtKill} answers; ${answeredAfterKill} answered after), ${CASHBOXES} cash boxes, ${log.all.length} operations, ${log.counts.sent} requests (${duplicates} operations sent to two nodes at once, ${log.counts.lost} lost with the killed node, ${log.counts.unavailable} 503), ${receipts} receipts (${dep7.receipts} Austrian, DEP7 verified) and ${de.transactions} SIGN DE transactions (TAR export verified) in ${seconds.toFixed(0)} s of load, ${log.counts.replayMismatch} differing answers, ${findings.length} losses or corruptions found`,
    )
    assert.ok(receipts + de.transactions >= RECEIPTS)
    assert.ok(answeredAfterKill > RECEIPTS / 4, 'the surviving nodes went on')
    assert.ok(duplicates > 0)
    assert.deepEqual(findings, [])
  })
})
