import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { openRuntime } from '/work/main/src/runtime.ts'
import { parseReceipt } from '/work/main/src/core/receipt.ts'
import { saleBody } from '/work/main/bench/fiscalbox.ts'
import SqliteDatabase from 'better-sqlite3'

const orig = SqliteDatabase.prototype.prepare
const times = new Map<string, [number, number]>()
if (process.env.WRAP) (SqliteDatabase.prototype as any).prepare = function (sql: string) {
  const st = orig.call(this, sql)
  for (const m of ['run', 'all', 'get', 'iterate'] as const) {
    const f = (st as any)[m].bind(st)
    ;(st as any)[m] = (...a: unknown[]) => { const t = performance.now(); try { return f(...a) } finally { const e = times.get(sql.slice(0, 60)) ?? [0, 0]; e[0] += performance.now() - t; e[1]++; times.set(sql.slice(0, 60), e) } }
  }
  return st
}
const dir = mkdtempSync(join(tmpdir(), 'probe-'))
const rt = await openRuntime({ DATABASE_URL: `sqlite:${dir}/f.db`, FISCALBOX_DATA_DIR: dir, PG_POOL_SIZE: 1 })
const c = await rt.cashboxes.create('EU')
const cb = await rt.cashboxes.authenticate(c.cashboxId, c.accessToken)
const start = { cbReceiptReference: 's', cbReceiptMoment: new Date().toISOString(), ftReceiptCase: '0x4555200000004001', cbChargeItems: [], cbPayItems: [] }
await rt.signService.sign({ cashbox: cb, operationId: randomUUID(), lifetimeMs: 15000, body: start, receipt: parseReceipt(start) })
times.clear()
const t0 = performance.now(); const c0 = process.cpuUsage()
const N = Number(process.argv[2] ?? 500), C = Number(process.argv[3] ?? 16)
let i = 0
await Promise.all(Array.from({ length: C }, async () => { while (i < N) { i++; const body = JSON.parse(saleBody('r' + i)); await rt.signService.sign({ cashbox: cb, operationId: randomUUID(), lifetimeMs: 15000, body, receipt: parseReceipt(body) }) } }))
const el = performance.now() - t0
const cu = process.cpuUsage(c0); console.log(`${N} in ${el.toFixed(0)} ms = ${(N / el * 1000).toFixed(0)}/s, cpu ${((cu.user + cu.system) / N).toFixed(0)} us/receipt (sys ${(cu.system / N).toFixed(0)})`)
for (const [k, [t, n]] of [...times].sort((a, b) => b[1][0] - a[1][0])) console.log(t.toFixed(1).padStart(8), String(n).padStart(6), (t / n * 1000).toFixed(1).padStart(8) + 'us', k)
const { statSync } = await import("node:fs"); console.log("db", statSync(`${dir}/f.db`).size, "wal", statSync(`${dir}/f.db-wal`).size)
await rt.close()
