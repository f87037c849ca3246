import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { type Server, startServer } from '../cli/cli-process.ts'
import { engines, freshPostgresDatabase } from '../helpers/engines.ts'
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
import { seededRandom, runSeed } from './support/random.ts'
import { WRITE_SURFACES } from './support/surfaces.ts'

/**
 * Crash safety: the real `fiscalbox serve` under concurrent load on several cash boxes is killed with
 * SIGKILL at random moments, restarted, and killed again. Unanswered operations are retried (in the next
 * cycles, themselves under the risk of the next kill). At the end every operation is retried once more
 * with its original id and body, and the stored journals are checked against what the clients saw.
 */

const CYCLES = Number(process.env.CRASH_CYCLES ?? 20)
const CASHBOXES = 4
/** Austrian cash boxes (RKSV receipts through /v2/sign) and SIGN DE clients of one TSS (transactions through /api/v2). */
const AT_CASHBOXES = 2
const DE_CLIENTS = 2
const WORKERS = 12
/** The kill comes this long after the server answered its first request of the cycle. */
const KILL_AFTER_MS = { min: 30, max: 1_200 }

for (const engine of await engines()) {
  describe(`crash safety on ${engine}: kill -9 under load, ${CYCLES} cycles`, () => {
    const root = mkdtempSync(join(tmpdir(), `fiscalbox-crash-${engine}-`))
    let dropDatabase: (() => Promise<void>) | undefined
    let server: Server | undefined
    after(async () => {
      await server?.stop('SIGKILL')
      await dropDatabase?.()
      rmSync(root, { recursive: true, force: true })
    })

    it('loses nothing that was acknowledged, writes nothing by half, executes every operation once', async (t) => {
      const seed = runSeed()
      const random = seededRandom(seed)
      let databaseUrl = `sqlite:${join(root, 'data', 'fiscalbox.db')}`
      if (engine === 'postgres') {
        const database = await freshPostgresDatabase()
        databaseUrl = database.url
        dropDatabase = database.drop
      }
      const env = nodeEnv(databaseUrl, newMasterKey(), join(root, 'data'))
      const cashboxes = [
        ...(await createCashboxes(env, CASHBOXES)),
        ...(await createAtCashboxes(env, AT_CASHBOXES)),
      ]
      const log = new OperationLog()
      server = await startServer(env)
      await provisionAt(server.baseUrl, cashboxes)
      await startQueues(server, cashboxes, log)
      const signDe = await createSignDeTargets(env, server.baseUrl, DE_CLIENTS)
      const targets = [...cashboxes, ...signDe]

      let inFlightAtKills = 0
      for (let cycle = 1; cycle <= CYCLES; cycle++) {
        const running: Server = cycle > 1 ? await startServer(env) : (server as Server)
        server = running
        const baseUrl = running.baseUrl
        let stopping = false
        const load = drive({
          log,
          cashboxes: targets,
          surfaces: WRITE_SURFACES,
          workers: WORKERS,
          random,
          retryShare: 0.5,
          target: () => baseUrl,
          done: () => stopping,
        })
        await new Promise((resolve) =>
          setTimeout(resolve, KILL_AFTER_MS.min + random() * (KILL_AFTER_MS.max - KILL_AFTER_MS.min)),
        )
        inFlightAtKills += log.all.reduce((sum, op) => sum + op.inFlight, 0)
        stopping = true
        const exit = await running.stop('SIGKILL')
        assert.equal(exit.signal, 'SIGKILL', 'the server was still running when it was killed')
        await load
      }

      // Recovery: one more start; every unanswered operation is retried until it is answered.
      server = await startServer(env)
      const neverAnswered = log.unacked().length
      for (let round = 0; round < 5 && log.unacked().length > 0; round++) {
        for (const op of log.unacked()) await log.send(server.baseUrl, op)
      }
      assert.deepEqual(
        log.unacked().map((op) => op.id),
        [],
        'every unanswered operation is answered on retry',
      )
      // A retry of every operation with its original id and body returns the stored bytes.
      const before = log.counts.replayMismatch
      for (let i = 0; i < log.all.length; i += WORKERS) {
        await Promise.all(log.all.slice(i, i + WORKERS).map((op) => log.send(server?.baseUrl as string, op)))
      }
      const replayed = log.all.length

      const findings = [...log.findings]
      const expected = new Map<string, number>()
      let receipts = 0
      for (const cashbox of cashboxes) {
        const checked = await checkCashbox(server.baseUrl, cashbox, log)
        findings.push(...checked.findings)
        expected.set(cashbox.cashboxId, checked.receipts)
        receipts += checked.receipts
      }
      const de = await checkSignDe(server.baseUrl, env, signDe, log, root)
      findings.push(...de.findings)
      await server.stop('SIGTERM')
      findings.push(...(await exportAndVerify(env, cashboxes, root, expected)))
      const dep7 = await verifyDep7(env, cashboxes, root, expected)
      findings.push(...dep7.findings)
      const perSurface = WRITE_SURFACES.map(
        (s) => `${s.name}: ${log.all.filter((op) => op.surface === s).length}`,
      ).join(', ')

      const acknowledged = log.all.filter((op) => op.attempts > 0 && op.acked !== undefined).length
      t.diagnostic(
        `crash/${engine}: seed ${seed}, ${CYCLES} kill -9 cycles, ${log.all.length} operations (${neverAnswered} unanswered at the end of the cycles, ${inFlightAtKills} requests in flight at the kills), ${log.counts.sent} requests (${log.counts.lost} lost with the process), ${receipts} receipts (${dep7.receipts} Austrian, in DEP7 exports verified), ${de.transactions} SIGN DE transactions (TAR export verified), operations per surface: ${perSurface}; ${replayed} replays (${log.counts.replayMismatch - before} differing), ${findings.length} losses or corruptions found`,
      )
      assert.equal(acknowledged, log.all.length)
      assert.deepEqual(findings, [])
      assert.ok(inFlightAtKills > 0, 'the kills hit requests in flight')
    })
  })
}
