import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { engines, freshPostgresDatabase } from '../helpers/engines.ts'
import {
  cliEnv,
  type DemoCashbox,
  runBash,
  runCli,
  type Server,
  signWithDemo,
  startServe,
  startServer,
  UUID,
} from './cli-process.ts'

/** A sale of one item, in the generic (EU) market. */
function sale(reference: string, amount: string) {
  return {
    cbReceiptReference: reference,
    cbReceiptMoment: new Date().toISOString(),
    ftReceiptCase: '0x4555200000000001',
    cbChargeItems: [
      {
        Quantity: 1,
        Description: `item ${reference}`,
        Amount: amount,
        VATRate: 20,
        ftChargeItemCase: '0x4555200000000013',
      },
    ],
    cbPayItems: [{ Description: 'Cash', Amount: amount, ftPayItemCase: '0x4555200000000001' }],
  }
}

interface ExportLine {
  number: number
  queueRow: number
  total: string
  hash: string
  previousHash: string
  response: string
  [field: string]: unknown
}

for (const engine of await engines()) {
  describe(`serve, sign, export and verify through the CLI (${engine})`, () => {
    let dataDir: string
    let env: NodeJS.ProcessEnv
    let dropDatabase: (() => Promise<void>) | undefined
    let server: Server | undefined
    let demo: DemoCashbox
    const exportFile = () => join(dataDir, 'journal.jsonl')
    /** ftQueueRow -> total of every receipt this suite signed over HTTP (curl or fetch). */
    const signed = new Map<number, string>()

    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), `fiscalbox-cli-serve-${engine}-`))
      let url = `sqlite:${join(dataDir, 'fiscalbox.db')}`
      if (engine === 'postgres') {
        const database = await freshPostgresDatabase()
        url = database.url
        dropDatabase = database.drop
      }
      env = cliEnv({ DATABASE_URL: url, FISCALBOX_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' })
    })

    after(async () => {
      // Whatever failed before: no server outlives the suite.
      await server?.stop('SIGKILL')
      await dropDatabase?.()
      rmSync(dataDir, { recursive: true, force: true })
    })

    it('serve on an empty database prints the demo cash box and a curl to sign with it', async () => {
      server = await startServer(env)
      assert.ok(server.port > 0, 'PORT=0 should give a free port')
      assert.ok(server.demo, `no demo cash box in the banner:\n${server.output().stdout}`)
      demo = server.demo
      assert.match(demo.cashboxId, UUID)
      assert.match(demo.queueId, UUID)
      assert.ok(demo.accessToken.length >= 32)
      assert.ok(demo.curl.startsWith(`curl -s -X POST ${server.baseUrl}/v2/sign`), demo.curl)
      assert.ok(demo.curl.includes(demo.cashboxId) && demo.curl.includes(demo.accessToken))
      const health = await fetch(`${server.baseUrl}/health`)
      assert.equal(health.status, 200)
      assert.deepEqual(await health.json(), { status: 'ok', database: engine })
    })

    it('the printed curl, run as it is, signs a receipt', async () => {
      assert.ok(server)
      const result = await runBash(demo.curl)
      assert.equal(result.code, 0, result.stderr)
      const response = JSON.parse(result.stdout)
      assert.equal(response.ftQueueID, demo.queueId)
      assert.equal(response.ftCashBoxID, demo.cashboxId)
      // Row 1 is the demo's start receipt, made by serve itself.
      assert.equal(response.ftQueueRow, 2)
      assert.equal(response.ftReceiptIdentification, 'ft2#')
      assert.equal(response.ftState, '0x4555200000000000')
      assert.ok(
        response.ftSignatures.some((s: { Data: string }) => s.Data.startsWith(`FB1_${demo.queueId}_2_`)),
        'the generic market signature carries queue and receipt number',
      )
      signed.set(2, '3.50')
    })

    it('the printed curl answers 200 and a fresh operation id signs a new receipt each time', async () => {
      assert.ok(server)
      const result = await runBash(`${demo.curl} -w '\\n%{http_code}'`)
      assert.equal(result.code, 0, result.stderr)
      const status = result.stdout.slice(result.stdout.lastIndexOf('\n') + 1)
      assert.equal(status, '200', result.stdout)
      const response = JSON.parse(result.stdout.slice(0, result.stdout.lastIndexOf('\n')))
      assert.equal(response.ftQueueRow, 3)
      signed.set(3, '3.50')
    })

    it('signs receipts over HTTP', async () => {
      assert.ok(server)
      for (const [i, amount] of ['1.00', '12.34', '0.01', '99.90', '7.00'].entries()) {
        const res = await signWithDemo(server.baseUrl, demo, sale(`R-${i}`, amount))
        const text = await res.text()
        assert.equal(res.status, 200, text)
        const response = JSON.parse(text)
        assert.equal(response.ftQueueRow, 4 + i)
        signed.set(response.ftQueueRow, amount)
      }
    })

    it('SIGTERM stops the server with exit code 0', async () => {
      assert.ok(server)
      const exit = await server.stop('SIGTERM')
      assert.deepEqual(exit, { code: 0, signal: null }, server.output().stderr)
    })

    it('export journal writes every receipt of the cash box', async () => {
      const result = await runCli(
        ['export', 'journal', '--cashbox', demo.cashboxId, '--out', exportFile()],
        env,
      )
      assert.equal(result.code, 0, result.stderr)
      assert.equal(result.stdout, `wrote 8 receipts to ${exportFile()}\n`)
      const [headerLine, ...lines] = readFileSync(exportFile(), 'utf8').trimEnd().split('\n')
      const header = JSON.parse(headerLine ?? '')
      assert.equal(header.format, 'fiscalbox-journal-export-v1')
      assert.equal(header.queueId, demo.queueId)
      assert.equal(header.cashboxId, demo.cashboxId)
      assert.equal(header.receipts, 8)
      const entries = lines.map((line) => JSON.parse(line) as ExportLine)
      assert.deepEqual(
        entries.map((e) => e.number),
        [1, 2, 3, 4, 5, 6, 7, 8],
      )
      assert.deepEqual(
        entries.map((e) => e.queueRow),
        [1, 2, 3, 4, 5, 6, 7, 8],
      )
      assert.equal(entries[0]?.receiptCase, '0x4555200000004001', 'receipt 1 is the start receipt')
      for (const [row, total] of signed) {
        assert.equal(entries[row - 1]?.total, Number(total).toFixed(2), `total of row ${row}`)
      }
      // What was answered over HTTP is what was journaled.
      assert.equal(JSON.parse(entries[3]?.response ?? '{}').ftQueueRow, 4)
    })

    it('verify accepts the untouched export', async () => {
      const [text, json] = await Promise.all([
        runCli(['verify', exportFile()], env),
        runCli(['verify', exportFile(), '--json'], env),
      ])
      assert.equal(text.code, 0, text.stdout + text.stderr)
      assert.match(text.stdout, /^OK: 8 receipts, chain verified, head [0-9a-f]{64}\n$/)
      assert.equal(json.code, 0)
      const report = JSON.parse(json.stdout)
      assert.equal(report.receipts, 8)
      assert.deepEqual(report.problems, [])
      const lines = readFileSync(exportFile(), 'utf8').trimEnd().split('\n')
      assert.equal(report.head, (JSON.parse(lines.at(-1) ?? '') as ExportLine).hash)
    })

    // Each case is its own verify process: two at a time.
    describe('verify rejects a tampered export and names the receipt', { concurrency: 2 }, () => {
      /** Applies a change to a copy of the export's lines (index 0 is the header) and runs verify on it. */
      async function verifyTampered(name: string, change: (lines: string[]) => void) {
        const lines = readFileSync(exportFile(), 'utf8').trimEnd().split('\n')
        change(lines)
        const file = join(dataDir, `tampered-${name}.jsonl`)
        writeFileSync(file, `${lines.join('\n')}\n`)
        const result = await runCli(['verify', file], env)
        assert.equal(result.code, 1, `verify should fail on ${name}:\n${result.stdout}${result.stderr}`)
        assert.match(result.stdout, /^FAILED: \d+ problem\(s\) in \d+ receipts\n/)
        return result.stdout
      }
      const edit = (lines: string[], index: number, fn: (entry: ExportLine) => void) => {
        const entry = JSON.parse(lines[index] ?? '') as ExportLine
        fn(entry)
        lines[index] = JSON.stringify(entry)
      }

      it('a changed total', async () => {
        const out = await verifyTampered('total', (lines) =>
          edit(lines, 5, (e) => {
            e.total = '1000.00'
          }),
        )
        assert.match(out, /receipt 5: hash does not match the chain rule/)
        assert.match(out, /receipt 5: signed payload does not match/)
        assert.doesNotMatch(out, /receipt [1-46-8]:/, 'only receipt 5 was changed')
      })

      it('a deleted line', async () => {
        const out = await verifyTampered('deleted', (lines) => {
          lines.splice(3, 1) // receipt 3
        })
        assert.match(out, /receipt 4: expected receipt number 3 \(gap or duplicate\)/)
        assert.match(out, /receipt 4: previousHash does not link/)
      })

      it('two swapped lines', async () => {
        const out = await verifyTampered('swapped', (lines) => {
          const six = lines[6] as string
          lines[6] = lines[7] as string
          lines[7] = six
        })
        assert.match(out, /receipt 7: expected receipt number 6/)
        assert.match(out, /receipt 6: queue row 6 does not increase after 7/)
      })

      it('one character of a receipt signature', async () => {
        const out = await verifyTampered('signature', (lines) =>
          edit(lines, 6, (e) => {
            const response = JSON.parse(e.response) as { ftSignatures: Array<{ Data: string }> }
            const signature = response.ftSignatures.find((s) => s.Data.startsWith('FB1_'))
            assert.ok(signature)
            // A character in the middle of the base64url signature (the last one may carry only padding bits).
            const at = signature.Data.length - 20
            const old = signature.Data[at]
            signature.Data =
              signature.Data.slice(0, at) + (old === 'A' ? 'B' : 'A') + signature.Data.slice(at + 1)
            e.response = JSON.stringify(response)
          }),
        )
        assert.match(out, /receipt 6: signature does not verify with the queue's public key/)
        assert.match(out, /receipt 6: response does not match responseHash/)
      })

      it('one character of a chain hash', async () => {
        const out = await verifyTampered('hash', (lines) =>
          edit(lines, 2, (e) => {
            e.hash = (e.hash.startsWith('0') ? '1' : '0') + e.hash.slice(1)
          }),
        )
        assert.match(out, /receipt 2: hash does not match the chain rule/)
        assert.match(out, /receipt 3: previousHash does not link to the hash of receipt 2/)
      })
    })

    it('serve with a wrong FISCALBOX_MASTER_KEY refuses to start', async () => {
      const wrongKey = randomBytes(32).toString('hex')
      const outcome = await startServe({ ...env, FISCALBOX_MASTER_KEY: wrongKey })
      if (outcome.started) {
        await outcome.server.stop('SIGKILL')
        assert.fail(`serve started with a wrong master key:\n${outcome.server.output().stdout}`)
      }
      assert.notEqual(outcome.code, 0)
      assert.match(outcome.stderr, /wrong master key/i)
      assert.match(outcome.stderr, /FISCALBOX_MASTER_KEY/)
      assert.ok(!outcome.stderr.includes(wrongKey), 'the key itself must not be printed')
      assert.doesNotMatch(outcome.stdout, /listening/)
    })

    it('serve with the right key starts again on the same data and shows the same demo cash box', async () => {
      server = await startServer(env)
      assert.deepEqual(server.demo && { ...server.demo, curl: '' }, { ...demo, curl: '' })
      const res = await signWithDemo(server.baseUrl, demo, sale('after-restart', '2.50'))
      assert.equal(res.status, 200)
      assert.equal((await res.json()).ftQueueRow, 9, 'numbering goes on after the restart')
    })

    it('SIGTERM with receipts in flight: exit 0 at once, and every answered receipt is journaled', async () => {
      assert.ok(server)
      const running = server
      const IN_FLIGHT = 30
      const requests = Array.from({ length: IN_FLIGHT }, (_, i) =>
        signWithDemo(running.baseUrl, demo, sale(`in-flight-${i}`, '1.10')).then(
          async (res) => ({ reference: `in-flight-${i}`, status: res.status, text: await res.text() }),
          (error: Error) => ({ reference: `in-flight-${i}`, status: -1, text: String(error) }),
        ),
      )
      // Stop as soon as the server is demonstrably busy with them. However many are still open then, the
      // rules below hold; the requests reuse the keep-alive connection of the previous test.
      await Promise.race(requests)
      const exit = await running.stop('SIGTERM')
      const answers = await Promise.all(requests)
      // stop() fails if the process hangs (STOP_GUARD_MS, 30 s): an open keep-alive connection used to hold
      // it up for the server's keepAliveTimeout of 72 s.
      assert.deepEqual(exit, { code: 0, signal: null }, running.output().stderr)
      const unexpected = answers.filter((a) => a.status !== 200 && a.status !== 503 && a.status !== -1)
      assert.deepEqual(unexpected, [], 'a stopping server answers 200, or 503 for work it did not take')

      const file = join(dataDir, 'after-stop.jsonl')
      const exported = await runCli(['export', 'journal', '--cashbox', demo.cashboxId, '--out', file], env)
      assert.equal(exported.code, 0, exported.stderr)
      const byReference = new Map<string, ExportLine>()
      const lines = readFileSync(file, 'utf8').trimEnd().split('\n').slice(1)
      for (const line of lines) {
        const entry = JSON.parse(line) as ExportLine
        byReference.set(
          (JSON.parse(entry.request as string) as { cbReceiptReference: string }).cbReceiptReference,
          entry,
        )
      }
      for (const answer of answers) {
        const entry = byReference.get(answer.reference)
        if (answer.status === 200) {
          assert.equal(
            entry?.response,
            answer.text,
            `${answer.reference} was answered, so it is journaled as sent`,
          )
        } else if (answer.status === 503) {
          assert.equal(entry, undefined, `${answer.reference} was refused with 503, so nothing was signed`)
        }
      }
      assert.equal(lines.length, new Set(lines.map((l) => (JSON.parse(l) as ExportLine).number)).size)
      const verified = await runCli(['verify', file], env)
      assert.equal(verified.code, 0, verified.stdout)
      assert.match(verified.stdout, new RegExp(`^OK: ${lines.length} receipts`))
    })
  })
}
