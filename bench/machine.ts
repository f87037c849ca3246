import { generateKeyPairSync, sign } from 'node:crypto'
import { closeSync, fdatasyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { cpus, loadavg, release, tmpdir, totalmem, type as osType } from 'node:os'
import { join } from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import { ROOT } from './processes.ts'

export interface Machine {
  os: string
  cpu: string
  cores: number
  memoryGiB: number
  /** write(4 KiB) + fdatasync pairs per second in the temp folder that holds the bench databases. */
  fsyncPerSecond: number
  /** ECDSA P-256 SHA-256 signatures per second on one core. */
  ecdsaSignPerSecond: number
  /** 1, 5 and 15 minute load averages when the run started: high values mean other work shared the cores. */
  loadAverage: number[]
}

export interface Versions {
  node: string
  fastify: string
  betterSqlite3: string
  sqlite: string
  kysely: string
  autocannon: string
}

function forOneSecond(work: () => void): number {
  const end = performance.now() + 1000
  let n = 0
  while (performance.now() < end) {
    work()
    n += 1
  }
  return n
}

export function probeMachine(): Machine {
  const loadAverage = loadavg()
  const dir = mkdtempSync(join(tmpdir(), 'fiscalbox-bench-fsync-'))
  const fd = openSync(join(dir, 'probe'), 'w')
  const page = Buffer.alloc(4096, 1)
  const fsyncPerSecond = forOneSecond(() => {
    writeSync(fd, page, 0, page.length, 0)
    fdatasyncSync(fd)
  })
  closeSync(fd)
  rmSync(dir, { recursive: true, force: true })
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const data = Buffer.from(
    'FB1_00000000-0000-4000-8000-000000000000_1_2026-01-01T00:00:00.000Z_3.50_'.padEnd(160, '0'),
  )
  const ecdsaSignPerSecond = forOneSecond(() =>
    sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' }),
  )
  const cpu = cpus()
  return {
    os: `${osType()} ${release()}`,
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    fsyncPerSecond,
    ecdsaSignPerSecond,
    loadAverage,
  }
}

export function versions(): Versions {
  const version = (name: string) =>
    (
      JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string
      }
    ).version
  const db = new SqliteDatabase(':memory:')
  const sqlite = (db.prepare('select sqlite_version() as v').get() as { v: string }).v
  db.close()
  return {
    node: process.version,
    fastify: version('fastify'),
    betterSqlite3: version('better-sqlite3'),
    sqlite,
    kysely: version('kysely'),
    autocannon: version('autocannon'),
  }
}
