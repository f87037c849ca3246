import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requireTool } from '../../helpers/system-tools.ts'
import { after, describe, test } from 'node:test'
import {
  certificateFileName,
  infoCsv,
  keyHashHex,
  logFileName,
  publicPointOf,
  UniqueLogNames,
} from '../../../src/markets/de/export/export-names.ts'
import { type ExportLogMessage, writeTssExport } from '../../../src/markets/de/export/tss-export.ts'

const VECTOR = '/work/shared/vectors/de/bsi-tse-simulator-export.tar'
const dir = mkdtempSync(join(tmpdir(), 'fiscalbox-tss-export-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** A member of the BSI simulator's export, read with the system tar. */
function vectorFile(name: string): Buffer {
  return execFileSync('tar', ['-xOf', VECTOR, name], { maxBuffer: 1 << 24 })
}
const vectorNames = execFileSync('tar', ['-tf', VECTOR], { encoding: 'utf8' }).trim().split('\n')

const LEAF = '613E0EAFA452986B1B682D52AC03DA8AAE1770EE77B1E52223095AE27F448519_X509.der'
const SUB_CA = 'B99AD41AEB6A6F75DF8CF0FD9288E563DBA0744EE3D6F4EE2EAC3895C2605D43_X509.der'
const ROOT_CA = '624EDCA1ABF447676A4837F61705C270247B45E7C83C9BBD6F5EBBABCA515F46_X509.der'

describe('TSS export names (TR-03151 / TR-03153), checked against the BSI simulator export', () => {
  test('log file names of transaction, system and audit logs', () => {
    const names = [
      logFileName({
        kind: 'transaction',
        logTime: { format: 'unixTime', seconds: 1795289461 },
        signatureCounter: 1002n,
        transactionNumber: 499n,
        operationType: 'FinishTransaction',
        clientId: 'POS-1',
      }),
      logFileName({
        kind: 'transaction',
        logTime: { format: 'unixTime', seconds: 1795289461 },
        signatureCounter: 1001,
        transactionNumber: 499,
        operationType: 'StartTransaction',
        clientId: 'POS-1',
      }),
      logFileName({
        kind: 'system',
        logTime: { format: 'unixTime', seconds: 1795289450 },
        signatureCounter: 2,
        operationType: 'Initialize',
      }),
      logFileName({
        kind: 'system',
        logTime: { format: 'unixTime', seconds: 1795289450 },
        signatureCounter: 4,
        operationType: 'UpdateTime',
      }),
    ]
    for (const name of names) assert.ok(vectorNames.includes(name), `${name} is in the BSI export`)
    assert.equal(
      logFileName({ kind: 'audit', logTime: { format: 'unixTime', seconds: 1 }, signatureCounter: 7 }),
      'Unixt_1_Sig-7_Log-Aud.log',
    )
    assert.equal(
      logFileName({
        kind: 'transaction',
        logTime: { format: 'utcTime', value: '191216102617Z' },
        signatureCounter: 9,
        transactionNumber: 3,
        operationType: 'UpdateTransaction',
        clientId: 'C1',
      }),
      'Utc_191216102617Z_Sig-9_Log-Tra_No-3_Update_Client-C1.log',
    )
    assert.equal(
      logFileName(
        {
          kind: 'system',
          logTime: { format: 'generalizedTime', value: '20191216102617Z' },
          signatureCounter: 9,
          operationType: 'SelfTest',
        },
        2,
      ),
      'Gent_20191216102617Z_Sig-9_Log-Sys_SelfTest_Fc-2.log',
    )
  })

  test('repeated names get _Fc-1, _Fc-2 within one signature counter', () => {
    const names = new UniqueLogNames()
    const audit = (counter: number) =>
      ({ kind: 'audit', logTime: { format: 'unixTime', seconds: 5 }, signatureCounter: counter }) as const
    assert.deepEqual(
      [audit(1), audit(1), audit(1), audit(2), audit(2)].map((parts) => names.next(parts)),
      [
        'Unixt_5_Sig-1_Log-Aud.log',
        'Unixt_5_Sig-1_Log-Aud_Fc-1.log',
        'Unixt_5_Sig-1_Log-Aud_Fc-2.log',
        'Unixt_5_Sig-2_Log-Aud.log',
        'Unixt_5_Sig-2_Log-Aud_Fc-1.log',
      ],
    )
  })

  test('certificates are named by the SHA-256 of their public point (brainpoolP512r1 chain)', () => {
    for (const name of [LEAF, SUB_CA, ROOT_CA]) {
      const der = vectorFile(name)
      assert.equal(certificateFileName(der), name)
      assert.equal(certificateFileName(der, 'pem'), name.replace('.der', '.pem'))
    }
    // the leaf's key hash is the serialNumber inside every log message of the TSS
    const log = vectorFile('Unixt_1795289450_Sig-2_Log-Sys_Initialize.log')
    const point = publicPointOf(vectorFile(LEAF))
    assert.equal(point.length, 129)
    assert.ok(log.includes(Buffer.from(keyHashHex(point), 'hex')))
  })

  test('info.csv is byte for byte the simulator one for the same values, quotes doubled', () => {
    assert.equal(
      infoCsv({
        description: 'research-sim',
        manufacturer: 'MANUFACTURER-INFO',
        version: 'TSE-Sim-DevVersion',
      }),
      vectorFile('info.csv').toString('utf8'),
    )
    assert.equal(
      infoCsv({ description: 'a "b"', manufacturer: 'm', version: 'v' }),
      '"description:","a ""b""","manufacturer:","m","version:","v"\n',
    )
  })
})

describe('writeTssExport', () => {
  test('info.csv, the certificates, then the log messages, streamed from an async source', async () => {
    const file = join(dir, 'export.tar')
    const longClient = `POS ${'x'.repeat(66)}` // a 70-character serial: the file name needs a PAX header
    const messages: ExportLogMessage[] = []
    for (let counter = 1; counter <= 2500; counter++) {
      const tx = Math.ceil(counter / 2)
      messages.push({
        kind: 'transaction',
        logTime: { format: 'unixTime', seconds: 1_800_000_000 + counter },
        signatureCounter: counter,
        transactionNumber: tx,
        operationType: counter % 2 ? 'StartTransaction' : 'FinishTransaction',
        clientId: counter > 2490 ? longClient : 'POS-1',
        der: randomBytes(200 + (counter % 97)),
      })
    }
    messages.push({
      kind: 'system',
      logTime: { format: 'unixTime', seconds: 1_800_009_999 },
      signatureCounter: 2501,
      operationType: 'LogOut',
      der: randomBytes(230),
    })
    async function* fromDatabase() {
      for (const message of messages) {
        await new Promise((resolve) => setImmediate(resolve))
        yield message
      }
    }
    const progress: number[] = []
    const result = await writeTssExport(
      {
        info: { description: 'fiscalbox TSS', manufacturer: 'fiscalbox', version: '0.1.0' },
        certificates: [{ der: vectorFile(LEAF), formats: ['der', 'pem'] }, { der: vectorFile(SUB_CA) }],
        logMessages: fromDatabase(),
        mtime: 1_800_000_000,
      },
      createWriteStream(file),
      (p) => progress.push(p.logMessages),
    )
    assert.equal(result.logMessages, 2501)
    assert.equal(result.certificates, 2)
    assert.equal(result.bytes, readFileSync(file).length)
    assert.deepEqual(progress, [1000, 2000, 2501])

    const names = execFileSync('tar', ['-tf', file], { encoding: 'utf8', maxBuffer: 1 << 24 })
      .trim()
      .split('\n')
    assert.deepEqual(names.slice(0, 4), ['info.csv', LEAF, LEAF.replace('.der', '.pem'), SUB_CA])
    assert.equal(names.length, 4 + 2501)
    assert.equal(names[4], 'Unixt_1800000001_Sig-1_Log-Tra_No-1_Start_Client-POS-1.log')
    const longName = `Unixt_1800002500_Sig-2500_Log-Tra_No-1250_Finish_Client-${longClient}.log`
    assert.ok(longName.length > 99)
    assert.equal(names[4 + 2499], longName)
    assert.equal(names.at(-1), 'Unixt_1800009999_Sig-2501_Log-Sys_LogOut.log')
    assert.deepEqual(execFileSync('tar', ['-xOf', file, longName]), messages[2499]?.der)
    assert.deepEqual(
      execFileSync('tar', ['-xOf', file, LEAF.replace('.der', '.pem')]),
      execFileSync(requireTool('openssl'), ['x509', '-inform', 'DER', '-outform', 'PEM'], {
        input: vectorFile(LEAF),
      }),
    )
  })
})
