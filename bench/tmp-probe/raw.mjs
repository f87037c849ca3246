import Database from 'better-sqlite3'
import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
for (const fk of [0, 1]) {
for (const f of ['/tmp/raw.db']) {
  rmSync(f, { force: true }); rmSync(f + '-wal', { force: true }); rmSync(f + '-shm', { force: true })
  const db = new Database(f)
  db.pragma('journal_mode = WAL'); db.pragma('synchronous = FULL'); db.pragma('foreign_keys = ' + fk)
  db.exec(`create table queues (id text primary key); insert into queues values ('q');
  create table queue_items (id text primary key, queue_id text not null references queues(id), row bigint not null, request text not null, response text not null, unique(queue_id,row));
  create index qi on queue_items(queue_id, request)`)
  const ins = db.prepare('insert into queue_items values (?,?,?,?,?)')
  const req = 'x'.repeat(330), res = 'y'.repeat(700)
  let t = performance.now()
  db.exec('begin')
  for (let i = 0; i < 20000; i++) ins.run(randomUUID(), 'q', i, req + i, res)
  db.exec('commit')
  console.log('fk', fk, 'per insert us', ((performance.now() - t) / 20000 * 1000).toFixed(1))
  db.close()
}}
