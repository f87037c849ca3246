import { closeSync, fdatasyncSync, fsyncSync, openSync, writeSync } from 'node:fs'
const page = Buffer.alloc(4096 * 8, 1)
for (const mode of ['overwrite', 'append', 'overwrite-fsync', 'append-fsync']) {
  const fd = openSync(`/tmp/fsync-probe-${mode}`, 'w')
  let n = 0; const end = performance.now() + 1000
  while (performance.now() < end) { writeSync(fd, page, 0, page.length, mode.startsWith('append') ? n * page.length : 0); (mode.endsWith('fsync') ? fsyncSync : fdatasyncSync)(fd); n++ }
  closeSync(fd); console.log(mode, n)
}
