/**
 * One measured step of the tar-export benchmark, in a process of its own so that its peak RSS is its own:
 *   seed   --messages N --records FILE   sign N synthetic TR-03151 log messages (P-256) into a record file,
 *                                        the stand-in for the TSS's log table (not measured)
 *   export --records FILE --out TAR      stream the records through writeTssExport into TAR
 *   verify --out TAR                     the checks of `fiscalbox verify` on TAR
 * Prints one JSON line: { messages, seconds, cpuMicros, peakRssMiB, ... }.
 */
import 'reflect-metadata'
import { createHash, createPrivateKey, sign, webcrypto } from 'node:crypto'
import { createReadStream, createWriteStream, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import * as x509 from '@peculiar/x509'
import { type ExportLogMessage, writeTssExport } from '../src/markets/de/export/index.ts'
import { verifyTssExportFile } from '../src/verify/tss-export/verify-file.ts'

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { messages: { type: 'string' }, records: { type: 'string' }, out: { type: 'string' } },
})
const mode = positionals[0]

// --- a minimal DER writer for the synthetic messages (the bench's own, as the tests have theirs) -------
const len = (n: number) => (n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff])
const tlv = (tag: number, c: Buffer) => Buffer.concat([Buffer.from([tag, ...len(c.length)]), c])
const int = (v: number) => {
  const bytes: number[] = []
  do {
    bytes.unshift(v % 256)
    v = Math.floor(v / 256)
  } while (v > 0)
  if ((bytes[0] as number) & 0x80) bytes.unshift(0)
  return Buffer.from(bytes)
}
const TX_OID = Buffer.from([0x04, 0x00, 0x7f, 0x00, 0x07, 0x03, 0x07, 0x01, 0x01])
const ALG = tlv(0x30, tlv(0x06, Buffer.from([0x04, 0x00, 0x7f, 0x00, 0x07, 0x01, 0x01, 0x04, 0x01, 0x03])))
const START_TIME = 1_800_000_000
const CLIENT = 'POS-0001'

async function seed(messages: number, recordsFile: string): Promise<void> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto)
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=fiscalbox bench TSS',
    notBefore: new Date('2020-01-01'),
    notAfter: new Date('2060-01-01'),
    keys,
    signingAlgorithm: algorithm,
  })
  const point = Buffer.from(await webcrypto.subtle.exportKey('raw', keys.publicKey))
  const key = createPrivateKey({
    key: Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)),
    format: 'der',
    type: 'pkcs8',
  })
  const serial = tlv(0x04, createHash('sha256').update(point).digest())
  writeFileSync(`${recordsFile}.cert`, Buffer.from(certificate.rawData))
  const out = createWriteStream(recordsFile, { highWaterMark: 1 << 20 })
  for (let counter = 1; counter <= messages; counter++) {
    const tx = Math.ceil(counter / 2)
    const finish = counter % 2 === 0
    const time = START_TIME + Math.floor(counter / 100)
    const amount = `${tx % 1000}.${String(tx % 100).padStart(2, '0')}`
    const signed = Buffer.concat([
      tlv(0x02, int(2)),
      tlv(0x06, TX_OID),
      tlv(0x80, Buffer.from(finish ? 'FinishTransaction' : 'StartTransaction')),
      tlv(0x81, Buffer.from(CLIENT)),
      tlv(0x82, Buffer.from(finish ? `Beleg^${amount}_0.00_0.00_0.00_0.00^${amount}:Bar` : '')),
      tlv(0x83, Buffer.from(finish ? 'Kassenbeleg-V1' : '')),
      tlv(0x85, int(tx)),
      serial,
      ALG,
      tlv(0x02, int(counter)),
      tlv(0x02, int(time)),
    ])
    const der = tlv(
      0x30,
      Buffer.concat([signed, tlv(0x04, sign('sha256', signed, { key, dsaEncoding: 'ieee-p1363' }))]),
    )
    // record: u32 length, u32 counter, u32 time, u32 transaction, u8 finish, DER
    const head = Buffer.alloc(17)
    head.writeUInt32BE(der.length, 0)
    head.writeUInt32BE(counter, 4)
    head.writeUInt32BE(time, 8)
    head.writeUInt32BE(tx, 12)
    head[16] = finish ? 1 : 0
    if (!out.write(Buffer.concat([head, der])))
      await new Promise<void>((resolve) => out.once('drain', () => resolve()))
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  )
}

/** The record file read as rows, the way a database cursor hands them over. */
async function* rows(recordsFile: string): AsyncGenerator<ExportLogMessage> {
  let pending: Buffer = Buffer.alloc(0)
  for await (const chunk of createReadStream(recordsFile, { highWaterMark: 1 << 20 })) {
    pending = pending.length ? Buffer.concat([pending, chunk as Buffer]) : (chunk as Buffer)
    let p = 0
    while (pending.length - p >= 17) {
      const size = pending.readUInt32BE(p)
      if (pending.length - p < 17 + size) break
      yield {
        kind: 'transaction',
        signatureCounter: pending.readUInt32BE(p + 4),
        logTime: { format: 'unixTime', seconds: pending.readUInt32BE(p + 8) },
        transactionNumber: pending.readUInt32BE(p + 12),
        operationType: pending[p + 16] ? 'FinishTransaction' : 'StartTransaction',
        clientId: CLIENT,
        der: pending.subarray(p + 17, p + 17 + size),
      }
      p += 17 + size
    }
    pending = pending.subarray(p)
  }
}

function measured<T>(
  run: () => Promise<T>,
): Promise<T & { seconds: number; cpuMicros: number; peakRssMiB: number }> {
  const cpu = process.cpuUsage()
  const started = process.hrtime.bigint()
  return run().then((result) => {
    const used = process.cpuUsage(cpu)
    return {
      ...result,
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
      cpuMicros: used.user + used.system,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
    }
  })
}

if (mode === 'seed') {
  const result = await measured(async () => {
    await seed(Number(values.messages), values.records as string)
    return { messages: Number(values.messages) }
  })
  process.stdout.write(`${JSON.stringify(result)}\n`)
} else if (mode === 'export') {
  const result = await measured(async () => {
    const written = await writeTssExport(
      {
        info: { description: 'fiscalbox bench TSS', manufacturer: 'fiscalbox', version: 'bench' },
        certificates: [{ der: await readFile(`${values.records}.cert`) }],
        logMessages: rows(values.records as string),
      },
      createWriteStream(values.out as string, { highWaterMark: 1 << 20 }),
    )
    return { messages: written.logMessages, bytes: written.bytes }
  })
  process.stdout.write(`${JSON.stringify(result)}\n`)
} else if (mode === 'verify') {
  const result = await measured(async () => {
    const report = await verifyTssExportFile(values.out as string)
    return {
      messages: report.logMessages,
      signaturesVerified: report.signaturesVerified,
      problems: report.problemCount,
      firstProblem: report.problems[0] ?? null,
    }
  })
  process.stdout.write(`${JSON.stringify(result)}\n`)
} else {
  process.stderr.write('usage: tar-export-child.ts seed|export|verify ...\n')
  process.exit(2)
}
