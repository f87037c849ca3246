import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { exportJournal } from '../../src/cli/export-journal.ts'
import { chainHash, chainText } from '../../src/core/journal-chain.ts'
import { JournalVerifier } from '../../src/verify/journal-verifier.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'

// docs/journal-format.md describes the chain and the export; docs/check-export.py is the auditor's
// standalone checker. These tests hold the document, the script and the writer to each other.
const ROOT = join(import.meta.dirname, '..', '..')
const SCRIPT = join(ROOT, 'docs', 'check-export.py')
const DOC = readFileSync(join(ROOT, 'docs', 'journal-format.md'), 'utf8')
const hasPython = spawnSync('python3', ['--version']).status === 0

function checkExport(file: string, ...options: string[]) {
  const run = spawnSync('python3', [SCRIPT, file, ...options], { encoding: 'utf8' })
  return { status: run.status, output: `${run.stdout}${run.stderr}` }
}

interface Entry {
  number: number
  hash: string
  previousHash: string
  request: string
  response: string
  requestHash: string
  responseHash: string
  [field: string]: unknown
}

void describe('docs/check-export.py against a real export', {
  skip: !hasPython && 'python3 not found',
}, () => {
  let h: Harness
  let file: string
  let lines: string[]

  before(async () => {
    h = await startHarness('sqlite')
    const cashbox = await h.runtime.cashboxes.create('EU', 'journal-format test')
    const sign = async (reference: string, receiptCase: string, amount: number, extra = {}) => {
      const items = amount === 0 ? [] : [{ Quantity: 1, Description: 'Item', Amount: amount, VATRate: 20 }]
      const pays =
        amount === 0 ? [] : [{ Description: 'Cash', Amount: amount, ftPayItemCase: '0x4555200000000001' }]
      const response = await h.app.inject({
        method: 'POST',
        url: '/v2/sign',
        headers: {
          'x-cashbox-id': cashbox.cashboxId,
          'x-cashbox-accesstoken': cashbox.accessToken,
          'x-operation-id': crypto.randomUUID(),
        },
        payload: {
          cbReceiptReference: reference,
          cbReceiptMoment: '2026-01-15T10:15:00Z',
          ftReceiptCase: receiptCase,
          cbChargeItems: items,
          cbPayItems: pays,
          ...extra,
        },
      })
      assert.equal(response.statusCode, 200, response.body)
    }
    await sign('not started yet', '0x4555200000000001', 1) // rejected: takes a queue row, no number
    await sign('start', '0x4555200000004001', 0)
    for (let i = 1; i <= 12; i++) await sign(`R-${i}`, '0x4555200000000001', i + 0.25)
    await sign('training', '0x4555200000020001', 2)
    await sign('refund', '0x4555200001000001', -1.25, { cbPreviousReceiptReference: 'R-1' })
    await sign('start again', '0x4555200000004001', 0) // rejected
    await sign('daily closing', '0x4555200000002011', 0)
    file = join(h.dataDir, 'journal.jsonl')
    await exportJournal(h.runtime, cashbox.cashboxId, file)
    lines = readFileSync(file, 'utf8').trimEnd().split('\n')
  })
  after(async () => {
    await h?.close()
  })

  const entry = (i: number) => JSON.parse(lines[i] as string) as Entry
  const write = (name: string, changed: string[]) => {
    const path = join(h.dataDir, name)
    writeFileSync(path, `${changed.join('\n')}\n`)
    return path
  }

  void test('accepts the export and reports the same head as fiscalbox verify', () => {
    const verifier = new JournalVerifier()
    lines.forEach((line, i) => verifier.line(line, i + 1))
    const report = verifier.finish()
    assert.deepEqual(report.problems, [])
    assert.equal(report.receipts, 16)
    const run = checkExport(file)
    assert.equal(run.status, 0, run.output)
    assert.equal(run.output.trim(), `OK: 16 receipts, chain verified, head ${report.head}`)
    assert.equal(checkExport(file, '--no-signatures').status, 0)
  })

  void test('finds an edited amount, a removed receipt and a truncated file', () => {
    const edited = [...lines]
    const third = entry(3)
    edited[3] = JSON.stringify({ ...third, request: third.request.replace('"Amount":2.25', '"Amount":9.25') })
    const run = checkExport(write('edited.jsonl', edited))
    assert.equal(run.status, 1)
    assert.match(run.output, /receipt 3: request does not match requestHash/)

    const removed = lines.filter((_, i) => i !== 5)
    assert.match(checkExport(write('removed.jsonl', removed)).output, /receipt 6: expected number 5/)

    const truncated = lines.slice(0, -2)
    assert.match(checkExport(write('truncated.jsonl', truncated)).output, /truncated/)
  })

  void test('finds a forged signature even when the forger rebuilt every hash after it', async () => {
    const { createHash } = await import('node:crypto')
    const sha = (text: string) => createHash('sha256').update(text).digest('hex')
    const queueId = (JSON.parse(lines[0] as string) as { queueId: string }).queueId
    const forged = [lines[0] as string]
    let previous = '0'.repeat(64)
    for (let i = 1; i < lines.length; i++) {
      const e = entry(i)
      let response = e.response
      if (i === 4) {
        const parsed = JSON.parse(response) as { ftSignatures: Array<{ Data: string }> }
        const signature = parsed.ftSignatures[0] as { Data: string }
        // Change the first character of the signature (after the sixth "_"): it carries the top bits of r.
        const at = signature.Data.split('_').slice(0, 6).join('_').length + 1
        const flipped = signature.Data[at] === 'A' ? 'B' : 'A'
        signature.Data = `${signature.Data.slice(0, at)}${flipped}${signature.Data.slice(at + 1)}`
        response = JSON.stringify(parsed)
      }
      const link = {
        queueId,
        number: e.number,
        queueRow: e.queueRow as number,
        moment: e.moment as string,
        receiptCase: e.receiptCase as string,
        total: e.total as string,
        requestHash: e.requestHash,
        responseHash: sha(response),
      }
      const hash = chainHash(previous, link)
      forged.push(
        JSON.stringify({ ...e, response, responseHash: link.responseHash, previousHash: previous, hash }),
      )
      previous = hash
    }
    const run = checkExport(write('forged.jsonl', forged))
    assert.equal(run.status, 1)
    assert.match(run.output, /receipt 4: signature does not verify/)
    // Every later receipt's QR code still names the original hash of its predecessor.
    assert.match(run.output, /receipt 5: FB1 payload does not match/)
  })
})

void test('the worked example in docs/journal-format.md follows the chain rule of src/core/journal-chain.ts', () => {
  const link = {
    queueId: '0cf0f0c1-b589-4f07-9e69-4d1297ae28e4',
    number: 2,
    queueRow: 2,
    moment: '2026-11-21T19:59:43.954Z',
    receiptCase: '0x4555200000000001',
    total: '3.50',
    requestHash: 'd318cfed677eaf163aadba930ac993d35a4bd44854792bdda03eb9e7e72fc02a',
    responseHash: '195cb82cb4b1eb115552330e04505505f18eb5be7ef707f6cfb0a493cb3c5a11',
  }
  const previous = 'df5a20f90a7f6ac28f9a5bd8a0c45815aaa4a9ef8a473835fd1c6c51fc9e8380'
  const expected = 'a0ff6536cab8a8e5d756e2b0c972e44ecfd9eb70c726e442ac5897e240c0f319'
  assert.ok(DOC.includes(`text(2) = ${chainText(link)}`), 'text(2) in the document differs from chainText')
  assert.equal(chainHash(previous, link), expected)
  assert.ok(DOC.includes(expected))
})

void test('the chain rule quoted in docs/journal-format.md is the one in docs/check-export.py', () => {
  const quoted = /```python\n([\s\S]*?)```/.exec(DOC)?.[1]
  assert.ok(quoted, 'no python block in docs/journal-format.md')
  assert.ok(readFileSync(SCRIPT, 'utf8').includes(quoted), 'the quoted chain_hash differs from the script')
})
