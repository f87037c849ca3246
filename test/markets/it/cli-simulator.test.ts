import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { FpmateClient, readFiscalReceiptAnswer } from '../../../src/markets/it/fpmate/index.ts'
import { cliEnv, runCli, startListening } from '../../cli/cli-process.ts'
import { answered, sale, zReport } from './support.ts'

describe('fiscalbox it-simulator', () => {
  it('--help names the options', async () => {
    const result = await runCli(['it-simulator', '--help'], cliEnv({}))
    assert.equal(result.code, 0, result.stderr)
    for (const name of [
      '--port <n>',
      '--latency-ms',
      '--error-rate <fraction>',
      '--offline',
      '--state-file <file>',
      '--dump-journal',
    ])
      assert.ok(result.stdout.includes(name), `lacks ${name}`)
  })

  it('refuses bad values naming the option and the rule', async () => {
    const [rate, serial, dump] = await Promise.all([
      runCli(['it-simulator', '--error-rate', '1.5'], cliEnv({})),
      runCli(['it-simulator', '--serial', 'ABC'], cliEnv({})),
      runCli(['it-simulator', '--dump-journal'], cliEnv({})),
    ])
    assert.notEqual(rate.code, 0)
    assert.match(rate.stderr, /--error-rate.*fraction from 0 to 1/)
    assert.match(serial.stderr, /--serial must be the 11-character device serial/)
    assert.match(dump.stderr, /--dump-journal reads the journal of --state-file/)
  })

  it('serves fpmate on the port it prints, keeps its state file across a restart and dumps its journal', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'it-sim-cli-')), 'device.json')
    const args = [
      '--port',
      '0',
      '--latency-ms',
      '0',
      '--report-ms',
      '0',
      '--state-file',
      file,
      '--serial',
      '99IEZ000042',
    ]
    const first = await startListening(['it-simulator', ...args])
    try {
      assert.match(first.stdout(), /device 99IEZ000042, Z 1, document 0, state in /)
      const client = new FpmateClient({ url: first.url })
      assert.equal(
        readFiscalReceiptAnswer(answered(await client.send(sale([{ unitPrice: 1250 }])))).documentNumber,
        1,
      )
      answered(await client.send(zReport))
      assert.equal(await first.stop(), 0)
    } finally {
      if (first.child.exitCode === null) first.child.kill('SIGKILL')
    }

    const second = await startListening(['it-simulator', ...args])
    try {
      assert.match(second.stdout(), /device 99IEZ000042, Z 2, document 0/)
      const answer = readFiscalReceiptAnswer(
        answered(await new FpmateClient({ url: second.url }).send(sale([{ unitPrice: 300 }]))),
      )
      assert.deepEqual([answer.zNumber, answer.documentNumber], [2, 1])
      assert.equal(await second.stop(), 0)
    } finally {
      if (second.child.exitCode === null) second.child.kill('SIGKILL')
    }

    const dump = await runCli(['it-simulator', '--dump-journal', '--state-file', file], cliEnv({}))
    assert.equal(dump.code, 0, dump.stderr)
    const entries = dump.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    assert.deepEqual(
      entries.map((entry) => [
        entry.serialNumber,
        entry.type,
        entry.zNumber,
        entry.documentNumber,
        entry.amount ?? entry.dailyAmount,
      ]),
      [
        ['99IEZ000042', 'SALE', 1, 1, 1250],
        ['99IEZ000042', 'ZREPORT', 1, undefined, 1250],
        ['99IEZ000042', 'SALE', 2, 1, 300],
      ],
    )
    assert.match(dump.stderr, /3 journal entries of device 99IEZ000042/)
  })
})
