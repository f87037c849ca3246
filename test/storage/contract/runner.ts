import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe } from 'node:test'
import { openStorage, type Storage } from '../../../src/storage/database.ts'
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
  /** The database's URL, for a second storage on it (another node, a restart). */
  readonly url: string
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
  return { ...storage, sqlite: undefined }
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
    let databaseUrl: string | undefined
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
      get url() {
        return opened(databaseUrl)
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
        databaseUrl = url
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
