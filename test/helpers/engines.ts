import { randomBytes } from 'node:crypto'
import pg from 'pg'

/**
 * Every storage-touching suite runs once per engine. PostgreSQL is used when a server answers at
 * FISCALBOX_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test); with FISCALBOX_TEST_PG=required
 * (CI) a missing server fails the run instead of skipping it.
 */
export const PG_ADMIN_URL = process.env.FISCALBOX_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export type EngineName = 'sqlite' | 'postgres'

let pgAvailable: Promise<boolean> | undefined
function postgresAvailable(): Promise<boolean> {
  pgAvailable ??= (async () => {
    const client = new pg.Client({ connectionString: PG_ADMIN_URL })
    try {
      await client.connect()
      await client.end()
      return true
    } catch (error) {
      if (process.env.FISCALBOX_TEST_PG === 'required') {
        throw new Error(
          `PostgreSQL is required (FISCALBOX_TEST_PG=required) but ${PG_ADMIN_URL} did not answer: ${(error as Error).message}`,
        )
      }
      process.stderr.write(
        `# PostgreSQL suites SKIPPED: no server at ${PG_ADMIN_URL} (${(error as Error).message})\n`,
      )
      return false
    }
  })()
  return pgAvailable
}

export async function engines(): Promise<EngineName[]> {
  return (await postgresAvailable()) ? ['sqlite', 'postgres'] : ['sqlite']
}

/** A fresh, empty PostgreSQL database for one test file; dropped by the returned function. */
export async function freshPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `fiscalbox_t_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL })
  await admin.connect()
  await admin.query(`create database ${name}`)
  await admin.end()
  const url = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`)
  return {
    url,
    drop: async () => {
      const client = new pg.Client({ connectionString: PG_ADMIN_URL })
      await client.connect()
      await client.query(`drop database if exists ${name} with (force)`)
      await client.end()
    },
  }
}
