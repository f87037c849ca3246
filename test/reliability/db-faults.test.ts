import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, describe, it } from 'node:test'
import pg from 'pg'
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
import { TcpProxy } from './support/tcp-proxy.ts'

/**
 * Database faults under load, without touching the shared PostgreSQL server: fiscalbox reaches its own
 * database through a TCP proxy of the suite, which plays restarts (every connection cut, new ones refused
 * for a while) and network cuts; pg_terminate_backend kills the database's backends from the server side.
 * Every answer must be a receipt or a 503 problem document, the node must recover by itself, and retries
 * with the same operation id must then succeed, leaving gapless, verifiable journals.
 */

const FAULTS = Number(process.env.DB_FAULTS ?? 12)
const CASHBOXES = 4
const WORKERS = 8
type Fault = 'restart' | 'cut' | 'terminate'
const KINDS: Fault[] = ['restart', 'cut', 'terminate']

const postgres = (await engines()).includes('postgres')
const skip = postgres ? false : `needs PostgreSQL at ${PG_ADMIN_URL}`

/** The server's answer to /health, with the text a client would see. */
async function health(baseUrl: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${baseUrl}/health`)
  return { status: res.status, text: await res.text() }
}

describe(`database faults on PostgreSQL: ${FAULTS} restarts, cuts and terminated backends under load`, {
  skip,
}, () => {
  const root = mkdtempSync(join(tmpdir(), 'fiscalbox-faults-'))
  let dropDatabase: (() => Promise<void>) | undefined
  let proxy: TcpProxy | undefined
  let server: Server | undefined
  after(async () => {
    await server?.stop('SIGKILL')
    await proxy?.close()
    await dropDatabase?.()
    rmSync(root, { recursive: true, force: true })
  })

  it('answers 503 problem documents while the database is away, recovers alone, and loses nothing', async (t) => {
    const seed = runSeed()
    const random = seededRandom(seed)
    const database = await freshPostgresDatabase()
    dropDatabase = database.drop
    const target = new URL(database.url)
    proxy = await TcpProxy.start(target.hostname, Number(target.port || 5432))
    const proxied = new URL(database.url)
    proxied.hostname = '127.0.0.1'
    proxied.port = String(proxy.port)
    const masterKey = newMasterKey()
    const cli = nodeEnv(database.url, masterKey, join(root, 'cli'))
    const cashboxes = [...(await createCashboxes(cli, CASHBOXES)), ...(await createAtCashboxes(cli, 2))]
    const env = nodeEnv(proxied.toString(), masterKey, join(root, 'node'), { LOG_LEVEL: 'warn' })
    server = await startServer(env)
    const baseUrl = server.baseUrl
    const log = new OperationLog()
    await provisionAt(baseUrl, cashboxes)
    await startQueues(server, cashboxes, log)
    const signDe = await createSignDeTargets(cli, baseUrl, 2)
    const targets = [...cashboxes, ...signDe]

    const admin = new pg.Client({ connectionString: PG_ADMIN_URL })
    await admin.connect()
    const faults: Record<Fault, number> = { restart: 0, cut: 0, terminate: 0 }
    const healthDuringOutage: Array<{ status: number; text: string }> = []
    let terminatedBackends = 0
    let faulting = true
    const injector = (async () => {
      await sleep(500)
      for (let i = 0; i < FAULTS; i++) {
        const kind = KINDS[i % KINDS.length] as Fault
        faults[kind] += 1
        if (kind === 'restart') {
          proxy?.refuse()
          proxy?.cut()
          await sleep(300)
          healthDuringOutage.push(await health(baseUrl))
          await sleep(300 + random() * 1_500)
          await proxy?.accept()
        } else if (kind === 'cut') {
          proxy?.cut()
        } else {
          const result = await admin.query(
            'select count(*)::int as n from (select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()) t',
            [target.pathname.slice(1)],
          )
          terminatedBackends += (result.rows[0] as { n: number }).n
        }
        await sleep(400 + random() * 1_200)
      }
      faulting = false
    })()

    await drive({
      log,
      cashboxes: targets,
      surfaces: WRITE_SURFACES,
      workers: WORKERS,
      random,
      retryShare: 0.5,
      target: () => baseUrl,
      done: () => !faulting,
      // A client told to retry after a second does not hammer the server in between.
      onOutcome: async (outcome) => {
        if (outcome.kind !== 'ok') await sleep(50)
      },
    })
    await injector
    await admin.end()
    const duringFaults = { ...log.counts }
    assert.equal(server.child.exitCode, null, 'the server is still running')

    // Recovery without any restart of fiscalbox: /health comes back, then the retries succeed.
    let healthy = await health(baseUrl)
    for (let i = 0; i < 100 && healthy.status !== 200; i++) {
      await sleep(100)
      healthy = await health(baseUrl)
    }
    assert.equal(healthy.status, 200, healthy.text)
    const unansweredAfterFaults = log.unacked().length
    for (let round = 0; round < 5 && log.unacked().length > 0; round++) {
      for (const op of log.unacked()) await log.send(baseUrl, op)
    }
    assert.equal(log.unacked().length, 0, 'every operation succeeds on retry after the database returned')
    for (let i = 0; i < log.all.length; i += WORKERS)
      await Promise.all(log.all.slice(i, i + WORKERS).map((op) => log.send(baseUrl, op)))

    const findings = [...log.findings]
    const expected = new Map<string, number>()
    let receipts = 0
    for (const cashbox of cashboxes) {
      const checked = await checkCashbox(baseUrl, cashbox, log)
      findings.push(...checked.findings)
      expected.set(cashbox.cashboxId, checked.receipts)
      receipts += checked.receipts
    }
    const de = await checkSignDe(baseUrl, cli, signDe, log, root)
    findings.push(...de.findings)
    await server.stop('SIGTERM')
    findings.push(...(await exportAndVerify(env, cashboxes, root, expected)))
    const dep7 = await verifyDep7(cli, cashboxes, root, expected)
    findings.push(...dep7.findings)

    t.diagnostic(
      `db-faults: seed ${seed}, ${FAULTS} faults (${faults.restart} restarts with refused connections, ${faults.cut} connection cuts, ${faults.terminate} pg_terminate_backend rounds killing ${terminatedBackends} backends; ${proxy.counts.cut} connections cut in all); under faults ${duringFaults.sent} requests: ${duringFaults.ok} answered (receipt or finished transaction), ${duringFaults.unavailable} with a 503 problem document, ${duringFaults.bad} otherwise, ${duringFaults.lost} connections lost; after recovery ${unansweredAfterFaults} operations retried and ${log.all.length} replayed; ${receipts} receipts stored (${dep7.receipts} Austrian, DEP7 verified), ${de.transactions} SIGN DE transactions (TAR export verified), ${findings.length} losses or corruptions found`,
    )
    assert.deepEqual(findings, [])
    assert.equal(log.counts.bad, 0, 'never an answer other than a receipt or a 503 problem document')
    assert.equal(log.counts.lost, 0, 'the server never dropped a client connection')
    assert.ok(log.counts.unavailable > 0, 'the faults were felt')
    for (const answer of healthDuringOutage) {
      assert.equal(answer.status, 503, answer.text)
      assert.deepEqual(JSON.parse(answer.text), {
        status: 'unavailable',
        database: 'postgres',
        reason: 'the database is not reachable',
      })
    }
  })
})
