import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID, createHash } from 'node:crypto'
import { openStorage } from '/work/main/src/storage/database.ts'
const h = () => createHash('sha256').update(randomUUID()).digest('hex')
for (const [fk, sp, tmp] of [['ON', 1, 0], ['ON', 1, 1], ['ON', 1, 0], ['ON', 1, 1], ['ON', 1, 0], ['ON', 1, 1]] as const) {
  const dir = mkdtempSync(join(tmpdir(), 'ins-'))
  const st = await openStorage(`sqlite:${dir}/f.db`)
  const w = st.sqlite!.writer
  w.pragma('foreign_keys = ' + fk); if (tmp) w.pragma('temp_store = MEMORY')
  const sv = w.prepare('savepoint x'), rl = w.prepare('release savepoint x')
  const acc = randomUUID(), cb = randomUUID(), q = randomUUID()
  w.prepare("insert into accounts values (?, 'a', 'x')").run(acc)
  w.prepare("insert into cashboxes values (?, ?, 'EU', 'l', 'h', 'x')").run(cb, acc)
  w.prepare("insert into queues values (?, ?, 1, 0, 0, 0, 'h', null, null, '{}', 'x')").run(q, cb)
  const qi = w.prepare('insert into queue_items (id, queue_id, row, operation_id, cb_receipt_reference, cb_terminal_id, ft_receipt_case, cb_receipt_moment, ft_moment, request, request_hash, response, response_hash, ft_state) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
  const rj = w.prepare('insert into receipt_journal (id, queue_id, number, queue_item_id, queue_row, moment, receipt_case, total, request_hash, response_hash, previous_hash, hash) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
  const op = w.prepare('insert into operations (cashbox_id, operation_id, kind, request_hash, queue_item_id, created_at) values (?, ?, ?, ?, ?, ?)')
  const req = 'r'.repeat(330), res = 's'.repeat(750)
  const N = 20000
  const t = { qi: 0, rj: 0, op: 0 }
  w.exec('begin')
  for (let i = 1; i <= N; i++) {
    const id = randomUUID(), opid = randomUUID(), m = new Date(Date.now() + i).toISOString()
    if (sp) sv.run()
    if (sp && i % 64 === 0) { rl.run(); w.exec('commit'); w.exec('begin'); sv.run() }
    let t0 = performance.now()
    qi.run(id, q, i, opid, 'ref' + i, null, '0x4555200000000001', m, m, req, h(), res, h(), '0x4555200000000000')
    let t1 = performance.now(); t.qi += t1 - t0
    rj.run(randomUUID(), q, i, id, i, m, '0x4555200000000001', '3.50', h(), h(), h(), h())
    t0 = performance.now(); t.rj += t0 - t1
    op.run(cb, opid, 'sign', h(), id, m)
    t1 = performance.now(); t.op += t1 - t0
    if (sp) rl.run()
  }
  let t0 = performance.now()
  w.exec('commit')
  console.log('fk', fk, 'savepoints', sp, 'temp mem', tmp, Object.entries(t).map(([k, v]) => `${k} ${(v / N * 1000).toFixed(1)}us`).join(' '), 'commit', (performance.now() - t0).toFixed(0), 'ms')
  await st.close()
}
