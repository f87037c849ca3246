import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe } from 'node:test'
import type { NewCashbox } from '../../../src/core/ports.ts'
import { newTotalizers } from '../../../src/core/totalizers.ts'
import { openStorage, type Storage } from '../../../src/storage/database.ts'
import { cashboxRepository } from '../../../src/storage/repositories/cashboxes.ts'
import { engines, freshPostgresDatabase } from '../../helpers/engines.ts'

/**
 * The storage contract runner, after hono's router conformance suite: a port's suite is written once, as a
 * function of a Target, and runContract runs it on every implementation of the port. A new implementation
 * (or a new engine) is one more entry in implementationsOf(), and every suite runs on it.
 */

export type Implementation = 'sqlite' | 'sqlite-prepared' | 'postgres'

export interface Target<T> {
  readonly implementation: Implementation
  /** The engine under the implementation: a few promises are engine specific (row locks, group commit). */
  readonly engine: 'sqlite' | 'postgres'
  /** The storage the port's implementation was built on (for fixtures the port cannot write itself). */
  readonly storage: Storage
  /** The port's implementation under test. */
  readonly store: T
  /**
   * Another instance of the same implementation: on the target's storage (a second node on the same
   * database), or on a storage wrapped by the test (e.g. one that observes its transactions).
   */
  build(storage?: Storage): T
}

export interface PortSpec<T> {
  /** How to build the implementation on a storage: the one line to change when a port moves. */
  build: (storage: Storage) => T
  /**
   * The repository keeps a second, prepared-statement copy of its hot queries on SQLite. Then SQLite runs
   * the suite twice: once on the prepared statements (the production path) and once through Kysely, so
   * that a divergence between the two copies fails a test.
   */
  preparedPath?: boolean
}

/**
 * The same storage without its SQLite connections: every repository falls back to its Kysely queries,
 * which is exactly what it runs on PostgreSQL. The repositories choose their prepared-statement fast path by
 * the presence of storage.sqlite, so no option in src/ is needed to force the Kysely path.
 */
export function withoutPreparedStatements(storage: Storage): Storage {
  const { sqlite: _sqlite, ...kysely } = storage
  return kysely
}

async function implementationsOf(preparedPath: boolean): Promise<Implementation[]> {
  const sqlite: Implementation[] = preparedPath ? ['sqlite', 'sqlite-prepared'] : ['sqlite']
  return (await engines()).flatMap((engine) => (engine === 'sqlite' ? sqlite : ['postgres' as const]))
}

export async function runContract<T>(port: string, spec: PortSpec<T>, suite: (target: Target<T>) => void) {
  for (const implementation of await implementationsOf(spec.preparedPath ?? false)) {
    const engine = implementation === 'postgres' ? 'postgres' : 'sqlite'
    let storage: Storage | undefined
    let store: T | undefined
    const forPort = (s: Storage) =>
      spec.build(spec.preparedPath && implementation === 'sqlite' ? withoutPreparedStatements(s) : s)
    const opened = <V>(value: V | undefined): V => {
      if (value === undefined) throw new Error('the storage is opened in before()')
      return value
    }
    const target: Target<T> = {
      implementation,
      engine,
      get storage() {
        return opened(storage)
      },
      get store() {
        return opened(store)
      },
      build: (on) => forPort(on ?? opened(storage)),
    }
    describe(`${port} contract (${implementation})`, () => {
      let dataDir: string | undefined
      let drop: (() => Promise<void>) | undefined
      before(async () => {
        let url: string
        if (engine === 'postgres') {
          const database = await freshPostgresDatabase()
          url = database.url
          drop = database.drop
        } else {
          dataDir = mkdtempSync(join(tmpdir(), `fiscalbox-contract-${implementation}-`))
          url = `sqlite:${join(dataDir, 'contract.db')}`
        }
        storage = await openStorage(url, { poolSize: 8 })
        store = forPort(storage)
      })
      after(async () => {
        await storage?.close()
        await drop?.()
        if (dataDir) rmSync(dataDir, { recursive: true, force: true })
      })
      suite(target)
    })
  }
}

// Fixtures shared by the suites: rows other ports own that a port's foreign keys point at.

export const ACCOUNT_ID = '00000000-0000-4000-8000-00000000000a'
const BASE_MOMENT = Date.parse('2026-03-01T08:00:00.000Z')
/** Minute i after a fixed start: moments that sort as their index does. */
export const momentOf = (i: number) => new Date(BASE_MOMENT + i * 60_000).toISOString()
export const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1)

export function newCashbox(accountId = ACCOUNT_ID): NewCashbox & { queueId: string } {
  const id = randomUUID()
  const queueId = randomUUID()
  return {
    queueId,
    cashbox: {
      id,
      accountId,
      country: 'EU',
      label: `contract ${id.slice(0, 8)}`,
      accessTokenHash: 'f'.repeat(64),
      createdAt: new Date().toISOString(),
    },
    accountName: 'contract tests',
    queue: { id: queueId, countryCode: 0x4555, genesisHash: '0'.repeat(64), totalizers: newTotalizers() },
    key: { queueId, algorithm: 'test', publicKey: `public ${queueId}`, privateKeyEncrypted: 'sealed' },
  }
}

/** A cash box with its queue, written through the cash box port. */
export async function addCashbox(storage: Storage, accountId = ACCOUNT_ID) {
  const box = newCashbox(accountId)
  await cashboxRepository(storage).insert(box)
  return { id: box.cashbox.id, queueId: box.queueId, accountId }
}
