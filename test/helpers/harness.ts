import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { type AppOptions, buildApp } from '../../src/api/app.ts'
import { openRuntime, type Runtime, type RuntimeOptions } from '../../src/runtime.ts'
import { type EngineName, freshPostgresDatabase } from './engines.ts'

export interface Harness {
  engine: EngineName
  databaseUrl: string
  dataDir: string
  runtime: Runtime
  app: FastifyInstance
  close(): Promise<void>
}

/** A real server (routes, core, storage) on a fresh database of the given engine, driven through inject(). */
export async function startHarness(
  engine: EngineName,
  options: Pick<RuntimeOptions, 'v1' | 'es' | 'markets'> &
    Pick<AppOptions, 'publicUrl' | 'authFailures' | 'metricsToken' | 'dashboard'> & {
      dataDir?: string
      /** The app's logger (with the app's redaction); absent: none. */
      logger?: AppOptions['logger']
    } = {},
): Promise<Harness> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'fiscalbox-test-'))
  const pgDb = engine === 'postgres' ? await freshPostgresDatabase() : undefined
  const databaseUrl = pgDb ? pgDb.url : `sqlite:${join(dataDir, 'fiscalbox.db')}`
  const runtime = await openRuntime(
    {
      DATABASE_URL: databaseUrl,
      FISCALBOX_DATA_DIR: dataDir,
      PG_POOL_SIZE: 10,
    },
    options,
  )
  const app = await buildApp(runtime, {
    bodyLimit: 1024 * 1024,
    logger: options.logger ?? false,
    ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
    ...(options.authFailures ? { authFailures: options.authFailures } : {}),
    ...(options.metricsToken ? { metricsToken: options.metricsToken } : {}),
    ...(options.dashboard ? { dashboard: options.dashboard } : {}),
  })
  await app.ready()
  return {
    engine,
    databaseUrl,
    dataDir,
    runtime,
    app,
    async close() {
      await app.close()
      await runtime.close()
      await pgDb?.drop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
