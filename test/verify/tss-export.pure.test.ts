import assert from 'node:assert/strict'
import { createECDH, createHash, randomBytes, X509Certificate } from 'node:crypto'
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { after, before, describe, test } from 'node:test'
import { tarChunks } from '../../src/markets/de/export/tar-writer.ts'
import { CURVES } from '../../src/verify/tss-export/curves.ts'
import { EcSchnorrVerifier } from '../../src/verify/tss-export/ec-schnorr.ts'
import { verifyTssExportFile } from '../../src/verify/tss-export/verify-file.ts'
import {
  createTss,
  day,
  integer,
  type LogFacts,
  logMessage,
  type Tss,
  tlv,
  writeExport,
} from './tss-export/fixtures.ts'

const dir = mkdtempSync(join(tmpdir(), 'fiscalbox-verify-tss-'))
after(() => rmSync(dir, { recursive: true, force: true }))

let tss: Tss
let n = 0
before(async () => {
  tss = await createTss('P-256')
})

/** Writes `facts` as an export and returns the verifier's report. */
async function check(facts: LogFacts[], options: { certificates?: Buffer[] } = {}) {
  const file = join(dir, `export-${++n}.tar`)
  await writeExport(file, tss, facts, options)
  return verifyTssExportFile(file)
}

/** Renumbers signature counters 1.. in the given order (so only the change under test is wrong). */
const renumber = (facts: LogFacts[]) => facts.map((f, i) => ({ ...f, counter: i + 1 }))

describe('TSS export verifier: whole-archive checks', () => {
  test('a complete day passes with its counts', async () => {
    const report = await check(day(40))
    assert.deepEqual(report.problems, [])
    assert.equal(report.logMessages, 5 + 80 + 10 + 1 + 1)
    assert.equal(report.transactions, 41)
    assert.equal(report.openTransactions, 1)
    assert.equal(report.tss[0]?.chain.length, 3)
  })

  test('an update after the FinishTransaction is reported', async () => {
    const facts = day(10)
    const finish = facts.findIndex((f) => f.kind === 'transaction' && f.operationType === 'FinishTransaction')
    facts.splice(finish + 1, 0, {
      ...(facts[finish] as LogFacts & { kind: 'transaction' }),
      operationType: 'UpdateTransaction',
    })
    const report = await check(renumber(facts))
    assert.equal(report.problemCount, 1, report.problems.join('\n'))
    assert.match(
      report.problems[0] as string,
      /_Log-Tra_No-1_Update_Client-POS-1\.log: transaction 1 continues after its FinishTransaction$/,
    )
  })

  test('a transaction without its start, a skipped transaction number and a foreign client are reported', async () => {
    const facts = day(10).filter(
      (f) =>
        !(f.kind === 'transaction' && f.transactionNumber === 3 && f.operationType === 'StartTransaction'),
    )
    const report = await check(
      renumber(facts).map((f) =>
        f.kind === 'transaction' && f.transactionNumber === 6 && f.operationType === 'FinishTransaction'
          ? { ...f, clientId: 'POS-2' }
          : f,
      ),
    )
    assert.deepEqual(
      report.problems.map((p) => p.replace(/^Unixt_\d+_Sig-\d+_/, '')),
      [
        'Log-Tra_No-3_Finish_Client-POS-1.log: transaction 3 was never started',
        'Log-Tra_No-4_Start_Client-POS-1.log: transaction numbers 3..3 are missing before it',
        'Log-Tra_No-6_Finish_Client-POS-2.log: transaction 6 was started by another client',
      ],
    )
  })

  test('time running backwards is reported, except right after an UpdateTime system log', async () => {
    const facts = day(6)
    const late = facts.findIndex((f) => f.kind === 'transaction' && f.transactionNumber === 4)
    facts[late] = { ...(facts[late] as LogFacts), logTime: 1_700_000_000 }
    const report = await check(facts)
    // only the message that goes back is wrong; the one after it is later again
    assert.equal(report.problemCount, 1, report.problems.join('\n'))
    assert.match(
      report.problems[0] as string,
      /^Unixt_1700000000_Sig-\d+_Log-Tra_No-4_Start.*: logTime is earlier than that of the log message before it/,
    )
    // the set-up writes UpdateTime as the second log: a clock set back there is fine
    const reset = day(2).map((f, i) => (i >= 2 ? { ...f, logTime: 1_600_000_000 } : f))
    assert.deepEqual((await check(reset)).problems, [])
  })

  test('a chain without its sub-CA, and a log message of another TSS, are reported', async () => {
    const report = await check(day(2), { certificates: [tss.chain.leaf, tss.chain.root] })
    assert.equal(report.problemCount, 1)
    assert.match(
      report.problems[0] as string,
      /_X509\.der: its issuer "CN=fiscalbox test sub-CA" is not in the archive/,
    )

    const other = await createTss('P-256')
    const file = join(dir, 'foreign.tar')
    const foreign = logMessage(other, { kind: 'audit', counter: 3, logTime: 1_800_000_000 })
    const own = (counter: number) => logMessage(tss, { kind: 'audit', counter, logTime: 1_800_000_000 })
    await pipeline(
      Readable.from(
        tarChunks(
          [
            {
              name: 'info.csv',
              data: Buffer.from('"description:","d","manufacturer:","m","version:","v"\n'),
            },
            ...[tss.chain.leaf, tss.chain.subCa, tss.chain.root].map((der) => ({
              name: `${keyHash(der)}_X509.der`,
              data: der,
            })),
            { name: 'Unixt_1800000000_Sig-1_Log-Aud.log', data: own(1) },
            { name: 'Unixt_1800000000_Sig-2_Log-Aud_Fc-1.log', data: own(2) },
            { name: 'Unixt_1800000000_Sig-3_Log-Aud.log', data: foreign },
            { name: 'Unixt_1800000000_Sig-9_Log-Aud.log', data: own(4) },
            { name: 'README.txt', data: Buffer.from('hello') },
          ],
          { mtime: 0 },
        ),
        { objectMode: false },
      ),
      createWriteStream(file),
    )
    const mixed = await verifyTssExportFile(file)
    assert.deepEqual(mixed.problems, [
      `Unixt_1800000000_Sig-3_Log-Aud.log: no certificate in the archive for the TSS serial number ${other.serialNumber.toString('hex').toUpperCase()}`,
      'Unixt_1800000000_Sig-9_Log-Aud.log: the file name does not match the log message, which says Unixt_1800000000_Sig-4_Log-Aud.log',
      'Unixt_1800000000_Sig-4_Log-Aud.log: signature counter jumps from 2 to 4: 1 log message(s) missing after Unixt_1800000000_Sig-2_Log-Aud.log',
    ])
    assert.deepEqual(mixed.otherFiles, ['README.txt'])
  })

  test('a certificate not named by its key hash, a missing info.csv and a truncated archive are reported', async () => {
    const file = join(dir, 'misnamed.tar')
    await pipeline(
      Readable.from(
        tarChunks(
          [
            { name: `${'AB'.repeat(32)}_X509.der`, data: tss.chain.leaf },
            {
              name: 'Unixt_1_Sig-1_Log-Aud.log',
              data: logMessage(tss, { kind: 'audit', counter: 1, logTime: 1 }),
            },
          ],
          { mtime: 0 },
        ),
        { objectMode: false },
      ),
      createWriteStream(file),
    )
    const report = await verifyTssExportFile(file)
    assert.ok(
      report.problems.some((p) => p.startsWith(`${'AB'.repeat(32)}_X509.der: the name is not the SHA-256`)),
    )
    assert.ok(report.problems.includes('info.csv: missing'))
    assert.ok(report.problems.some((p) => p.includes('logTime is outside the validity')))

    const whole = readFileSync(join(dir, `export-1.tar`))
    const cut = join(dir, 'cut.tar')
    writeFileSync(cut, whole.subarray(0, whole.length - 5000))
    const truncated = await verifyTssExportFile(cut)
    assert.match(
      truncated.problems[0] as string,
      /damaged TAR archive: member at byte \d+ is truncated|damaged TAR archive: truncated header/,
    )
  })
})

function keyHash(der: Buffer): string {
  // the test's own computation: SPKI's last 65 bytes are the P-256 point
  const spki = new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' })
  return createHash('sha256')
    .update(spki.subarray(spki.length - 65))
    .digest('hex')
    .toUpperCase()
}

describe('TSS export verifier: the certificate chain as openssl verify checks it (RFC 5280)', () => {
  test('a root whose pathLenConstraint 0 forbids the sub-CA is reported', async () => {
    const file = join(dir, 'path-length.tar')
    await writeExport(file, await createTss('P-256', { rootPathLength: 0 }), day(2))
    const report = await verifyTssExportFile(file)
    assert.equal(report.problemCount, 1, report.problems.join('\n'))
    assert.match(
      report.problems[0] as string,
      /^[0-9A-F]{64}_X509\.der: path length constraint exceeded: pathLenConstraint 0 allows 0 CA certificate\(s\) below it, the chain has 1$/,
    )
  })

  test('missing key identifiers are warnings (as in the BSI simulator chain), not problems', async () => {
    const file = join(dir, 'no-key-ids.tar')
    await writeExport(file, await createTss('P-256', { keyIdentifiers: false }), day(2))
    const report = await verifyTssExportFile(file)
    assert.deepEqual(report.problems, [])
    assert.equal(report.warnings.filter((w) => /no Authority Key Identifier/.test(w)).length, 2)
    assert.equal(report.warnings.filter((w) => /without Subject Key Identifier/.test(w)).length, 2)
    assert.deepEqual((await check(day(2))).warnings, [])
  })

  test('a chain whose CA certificates are not valid when the TSS signed is reported', async () => {
    const report = await check(day(2, 'POS-1', 2_300_000_000))
    assert.ok(
      report.problems.some((p) => /_X509\.der: not valid at all log times \(2042-/.test(p)),
      report.problems.join('\n'),
    )
  })
})

describe('TSS export verifier: filtered exports, as info.csv declares them', () => {
  /** Two clients taking turns; `keep` selects the logs of the export. */
  const twoClients = () =>
    renumber(
      day(8).map((f) =>
        f.kind === 'transaction' && f.transactionNumber % 2 === 0 ? { ...f, clientId: 'POS-2' } : f,
      ),
    )
  const write = async (description: string, facts: LogFacts[]) => {
    const file = join(dir, `filtered-${++n}.tar`)
    await writeExport(file, tss, facts, { description })
    return verifyTssExportFile(file)
  }
  const ofClient = (facts: LogFacts[], client: string) =>
    facts.filter((f) => f.kind === 'transaction' && f.clientId === client)

  test('one client, a transaction range: the gaps they explain are no problem', async () => {
    const pos1 = await write('fiscalbox; filtered export; client=POS-1', ofClient(twoClients(), 'POS-1'))
    assert.deepEqual(pos1.problems, [])
    assert.equal(pos1.filter, 'client=POS-1')
    const range = twoClients().filter(
      (f) => f.kind === 'transaction' && f.transactionNumber >= 3 && f.transactionNumber <= 6,
    )
    assert.deepEqual((await write('fiscalbox; filtered export; transactions=3..6', range)).problems, [])
  })

  test('logs outside the declared filter, and the gaps of an undeclared filter, are reported', async () => {
    const all = twoClients().filter((f) => f.kind === 'transaction')
    const claimed = await write('fiscalbox; filtered export; client=POS-1', all)
    assert.ok(claimed.problemCount > 0)
    assert.match(
      claimed.problems[0] as string,
      /_Client-POS-2\.log: the export says it holds only "client=POS-1", but this log message is from client POS-2$/,
    )
    const undeclared = await write('fiscalbox', ofClient(twoClients(), 'POS-1'))
    assert.ok(undeclared.problems.some((p) => /signature counter jumps from/.test(p)))
    assert.ok(undeclared.problems.some((p) => /transaction numbers 2\.\.2 are missing/.test(p)))
    const unreadable = await write(
      'fiscalbox; filtered export; clients=POS-1',
      ofClient(twoClients(), 'POS-1'),
    )
    assert.ok(unreadable.problems.includes('info.csv: unknown export filter "clients=POS-1"'))
  })
})

describe('TSS export verifier: systemOperationData of the system logs (TR-03151)', () => {
  const admin = tlv(0x81, Buffer.from('Admin'))
  const system = (operationType: string, systemOperationData: Buffer): LogFacts => ({
    kind: 'system',
    operationType,
    systemOperationData,
    counter: 0,
    logTime: 1_800_000_000,
  })

  test('the forms TTC rejects are reported with the field named; the simulator forms pass', async () => {
    const facts = day(2)
    facts.splice(
      5,
      0,
      // fiscalbox before issue 15: unblockUser with [3] BOOLEAN, a role as text, a logOut without its cause
      system('unblockUser', Buffer.concat([admin, tlv(0x83, Buffer.from([0xff]))])),
      system(
        'authenticateUser',
        Buffer.concat([admin, tlv(0x82, Buffer.from('Admin')), tlv(0x83, Buffer.from([0xff]))]),
      ),
      system('logOut', admin),
      system('authenticateUser', Buffer.concat([admin, tlv(0x82, integer(0)), tlv(0x83, Buffer.from([1]))])),
      // the conforming forms
      system('unblockUser', Buffer.concat([admin, tlv(0x82, integer(1))])),
      system('logOut', Buffer.concat([admin, tlv(0x82, integer(1))])),
      system('disableSecureElement', tlv(0x81, integer(1_800_000_000))),
    )
    const report = await check(renumber(facts))
    assert.deepEqual(
      report.problems.map((p) => p.replace(/^Unixt_\d+_Sig-\d+_/, '')),
      [
        'Log-Sys_unblockUser.log: systemOperationData [2] unblockResult is missing',
        'Log-Sys_authenticateUser.log: systemOperationData [2] role is not an ENUMERATED value (0 to 1): 41646d696e',
        'Log-Sys_logOut.log: systemOperationData [2] logOutCause is missing',
        'Log-Sys_authenticateUser.log: systemOperationData [3] authenticationResult is not a DER BOOLEAN (00 or ff): 01',
      ],
    )
  })
})

describe('EC-Schnorr (ECSDSA, TR-03111) verification', () => {
  test('the curve constants give node:crypto generator and order', () => {
    for (const [name, curve] of Object.entries(CURVES)) {
      const bytes = Math.ceil(curve.p.toString(2).length / 8)
      const hex = (v: bigint) => v.toString(16).padStart(2 * bytes, '0')
      const scalar = (k: bigint) =>
        Buffer.from(k.toString(16).padStart(2 * Math.ceil(curve.n.toString(2).length / 8), '0'), 'hex')
      const ecdh = createECDH(name)
      ecdh.setPrivateKey(scalar(1n))
      assert.equal(ecdh.getPublicKey('hex'), `04${hex(curve.gx)}${hex(curve.gy)}`, name)
      ecdh.setPrivateKey(scalar(curve.n - 1n)) // -G = (gx, p - gy)
      assert.equal(ecdh.getPublicKey('hex'), `04${hex(curve.gx)}${hex(curve.p - curve.gy)}`, name)
      assert.equal((curve.gy * curve.gy - curve.gx ** 3n - curve.a * curve.gx - curve.b) % curve.p, 0n, name)
    }
  })

  /** Signs per TR-03111 4.2.3 with node's scalar multiplication: r = H(xQ||yQ||M), s = k + r*d mod n. */
  function schnorrSign(curveName: string, hash: string, d: bigint, message: Buffer): Buffer {
    const curve = CURVES[curveName]!
    const len = Math.ceil(curve.n.toString(2).length / 8)
    const scalar = (k: bigint) => Buffer.from(k.toString(16).padStart(2 * len, '0'), 'hex')
    const k = (BigInt(`0x${randomBytes(len + 8).toString('hex')}`) % (curve.n - 1n)) + 1n
    const ecdh = createECDH(curveName)
    ecdh.setPrivateKey(scalar(k))
    const q = ecdh.getPublicKey().subarray(1)
    const digest = createHash(hash).update(q).update(message).digest()
    const tau = curve.n.toString(2).length
    let r = BigInt(`0x${digest.toString('hex')}`)
    if (digest.length * 8 > tau) r >>= BigInt(digest.length * 8 - tau)
    const s = (k + r * d) % curve.n
    return Buffer.concat([scalar(r), scalar(s)])
  }

  for (const [curveName, hash] of [
    ['brainpoolP256r1', 'sha256'],
    ['brainpoolP384r1', 'sha3-384'],
    ['prime256v1', 'sha512'],
  ] as const) {
    test(`${curveName} with ${hash}: valid signatures verify, altered ones do not`, () => {
      const curve = CURVES[curveName]!
      const len = Math.ceil(curve.n.toString(2).length / 8)
      const d = (BigInt(`0x${randomBytes(len + 8).toString('hex')}`) % (curve.n - 1n)) + 1n
      const ecdh = createECDH(curveName)
      ecdh.setPrivateKey(Buffer.from(d.toString(16).padStart(2 * len, '0'), 'hex'))
      const verifier = new EcSchnorrVerifier(curve, ecdh.getPublicKey())
      for (let i = 0; i < 5; i++) {
        const message = randomBytes(100 + i)
        const signature = schnorrSign(curveName, hash, d, message)
        assert.ok(verifier.verify(hash, message, signature))
        const flipped = Buffer.from(signature)
        flipped[i * 7] = (flipped[i * 7] as number) ^ 0x80
        assert.ok(!verifier.verify(hash, message, flipped))
        assert.ok(!verifier.verify(hash, Buffer.concat([message, Buffer.from([0])]), signature))
        assert.ok(!verifier.verify(hash === 'sha256' ? 'sha384' : 'sha256', message, signature))
      }
    })
  }
})
