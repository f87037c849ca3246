import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { after, describe, test } from 'node:test'
import fc from 'fast-check'
import tarStream from 'tar-stream'
import { type TarEntry, tarChunks } from '../../../src/markets/de/export/tar-writer.ts'
import { paxRecord } from '../../../src/markets/de/export/ustar.ts'

const dir = mkdtempSync(join(tmpdir(), 'fiscalbox-tar-writer-'))
after(() => rmSync(dir, { recursive: true, force: true }))

async function archive(entries: TarEntry[], mtime = 1_795_289_450): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const chunk of tarChunks(entries, { mtime, chunkBytes: 4096 })) parts.push(chunk)
  return Buffer.concat(parts)
}

/** Reads an archive with tar-stream, an implementation independent of ours. */
async function extractAll(
  tar: Buffer,
): Promise<{ name: string; data: Buffer; mode: number; mtime: number }[]> {
  const extract = tarStream.extract()
  const found: { name: string; data: Buffer; mode: number; mtime: number }[] = []
  const done = (async () => {
    for await (const entry of extract) {
      const parts: Buffer[] = []
      for await (const part of entry) parts.push(part as Buffer)
      found.push({
        name: entry.header.name,
        data: Buffer.concat(parts),
        mode: entry.header.mode ?? -1,
        mtime: Math.floor((entry.header.mtime?.getTime() ?? 0) / 1000),
      })
    }
  })()
  extract.end(tar)
  await done
  return found
}

const LONG =
  'Unixt_1795289461_Sig-1002_Log-Tra_No-499_Finish_Client-POS-terminal-with-a-long-serial-number-0123456789-ABCDEFGHIJ.log'

describe('TAR writer: POSIX ustar with PAX headers for long names', () => {
  test('system tar lists plain and PAX-named entries with mode 0644, owner 0/0, sizes and names', () => {
    const file = join(dir, 'listing.tar')
    const entries = [
      { name: 'info.csv', data: Buffer.from('"description:","x"\n') },
      { name: 'a'.repeat(99), data: randomBytes(512) },
      { name: 'b'.repeat(100), data: randomBytes(1) },
      { name: LONG, data: randomBytes(298) },
    ]
    return archive(entries).then((tar) => {
      assert.equal(tar.length % 512, 0)
      // the archive ends with two zero blocks
      assert.ok(tar.subarray(tar.length - 1024).every((b) => b === 0))
      writeFileSync(file, tar)
      const listing = execFileSync('tar', ['--numeric-owner', '-tvf', file], { encoding: 'utf8' })
        .trim()
        .split('\n')
      assert.equal(listing.length, 4, listing.join('\n'))
      for (const [i, line] of listing.entries()) {
        const entry = entries[i] as TarEntry
        assert.match(line, /^-rw-r--r-- 0\/0 /)
        assert.ok(line.endsWith(` ${entry.name}`), `${line} should name ${entry.name}`)
        assert.match(line, new RegExp(` ${entry.data.length} `))
      }
      const names = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n')
      assert.deepEqual(
        names,
        entries.map((e) => e.name),
      )
      // and the contents come back byte for byte
      const out = join(dir, 'extracted')
      execFileSync('mkdir', ['-p', out])
      execFileSync('tar', ['-xf', file, '-C', out])
      for (const entry of entries) assert.deepEqual(readFileSync(join(out, entry.name)), entry.data)
      assert.equal(readdirSync(out).length, entries.length)
    })
  })

  test('the ustar header fields are the POSIX ones (magic, version, checksum)', async () => {
    const tar = await archive([{ name: 'info.csv', data: Buffer.from('x') }], 1_700_000_000)
    const header = tar.subarray(0, 512)
    assert.equal(header.subarray(257, 263).toString('latin1'), 'ustar\0')
    assert.equal(header.subarray(263, 265).toString('latin1'), '00')
    assert.equal(header.subarray(100, 108).toString('latin1'), '0000644\0')
    assert.equal(header.subarray(124, 136).toString('latin1'), '00000000001\0')
    assert.equal(Number.parseInt(header.subarray(136, 147).toString('latin1'), 8), 1_700_000_000)
    let sum = 0
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] as number)
    assert.equal(Number.parseInt(header.subarray(148, 154).toString('latin1'), 8), sum)
    assert.equal(header[156], 0x30)
  })

  test('a PAX record counts its own length', () => {
    for (const value of ['x', 'y'.repeat(88), 'z'.repeat(89), 'w'.repeat(994), 'v'.repeat(995)]) {
      const record = Buffer.from(paxRecord('path', value)).toString('utf8')
      const [length] = record.split(' ')
      assert.equal(Number(length), Buffer.byteLength(record))
      assert.equal(record, `${length} path=${value}\n`)
    }
  })

  test('any names and contents read back unchanged by an independent reader (property)', async () => {
    const name = fc
      .oneof(
        fc.stringMatching(/^[A-Za-z0-9 '()+,.:=?-]{1,99}$/),
        fc.stringMatching(/^[A-Za-z0-9_-]{100,300}$/),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).map((s) => `ü-${s.replaceAll('/', '')}`),
      )
      .filter((n) => n !== '.' && n !== '..' && !n.includes('\0'))
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.record({ name, data: fc.uint8Array({ maxLength: 1500 }) }), {
          selector: (e) => e.name,
          maxLength: 8,
        }),
        fc.integer({ min: 0, max: 2 ** 33 - 1 }),
        async (entries, mtime) => {
          const found = await extractAll(await archive(entries, mtime))
          assert.deepEqual(
            found.map((f) => [f.name, Buffer.from(f.data).toString('hex'), f.mode, f.mtime]),
            entries.map((e) => [e.name, Buffer.from(e.data).toString('hex'), 0o644, mtime]),
          )
        },
      ),
      { numRuns: 60 },
    )
  })

  test('memory stays bounded: the source is pulled only as fast as a slow output consumes', async () => {
    const ENTRY = 1024 // a 512-byte header plus 512 data bytes
    const COUNT = 20_000
    let pulled = 0
    let received = 0
    let worstLead = 0
    function* source(): Generator<TarEntry> {
      for (let i = 0; i < COUNT; i++) {
        pulled++
        yield { name: `Unixt_1_Sig-${i}_Log-Aud.log`, data: Buffer.alloc(512, i % 251) }
      }
    }
    const slow = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _encoding, callback) {
        received += chunk.length
        worstLead = Math.max(worstLead, pulled * ENTRY - received)
        setImmediate(callback)
      },
    })
    await pipeline(Readable.from(tarChunks(source(), { mtime: 0 }), { objectMode: false }), slow)
    assert.equal(received, COUNT * ENTRY + 1024)
    // 20 MB went through; the producer never ran more than a few 256 KiB chunks ahead of the consumer.
    assert.ok(worstLead < 1.5 * 1024 * 1024, `producer ran ${worstLead} bytes ahead`)
  })

  test('a failing output stops the export with its error', async () => {
    function* endless(): Generator<TarEntry> {
      for (let i = 0; ; i++) yield { name: `e${i}`, data: Buffer.alloc(100) }
    }
    let writes = 0
    const failing = new Writable({
      write(_chunk, _encoding, callback) {
        callback(++writes === 3 ? new Error('disk full') : null)
      },
    })
    await assert.rejects(
      pipeline(Readable.from(tarChunks(endless(), { mtime: 0 }), { objectMode: false }), failing),
      /disk full/,
    )
  })

  test('writes to a file stream', async () => {
    const file = join(dir, 'stream.tar')
    await pipeline(
      Readable.from(tarChunks([{ name: LONG, data: Buffer.from('hello') }], { mtime: 0 }), {
        objectMode: false,
      }),
      createWriteStream(file),
    )
    assert.equal(execFileSync('tar', ['-xOf', file, LONG], { encoding: 'utf8' }), 'hello')
  })
})
