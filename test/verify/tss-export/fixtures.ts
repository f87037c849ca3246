import 'reflect-metadata'
import { createHash, createPrivateKey, type KeyObject, sign, webcrypto } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import * as x509 from '@peculiar/x509'
import { type ExportLogMessage, writeTssExport } from '../../../src/markets/de/export/index.ts'

/**
 * fiscalbox-style TSS exports for the verifier's tests: TR-03151 log messages built here, from the
 * specification, with a small DER encoder of the test's own (not the TSS's), signed ecdsa-plain with P-256
 * or P-384 keys under a root -> sub-CA -> TSS certificate chain, written with the export TAR writer.
 */

x509.cryptoProvider.set(webcrypto as unknown as Crypto)

// --- DER, from X.690 -------------------------------------------------------------------------------------
function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n])
  const bytes: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}
export const tlv = (tag: number, content: Uint8Array): Buffer =>
  Buffer.concat([Buffer.from([tag]), length(content.length), content])
export function integer(value: bigint | number): Buffer {
  let v = BigInt(value)
  const bytes: number[] = []
  do {
    bytes.unshift(Number(v & 0xffn))
    v >>= 8n
  } while (v > 0n)
  if ((bytes[0] as number) & 0x80) bytes.unshift(0)
  return Buffer.from(bytes)
}
function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number) as number[]
  const out = [40 * (a as number) + (b as number)]
  for (const arc of rest) {
    const digits = [arc & 0x7f]
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) digits.unshift((v & 0x7f) | 0x80)
    out.push(...digits)
  }
  return Buffer.from(out)
}

// --- TR-03151 log messages -----------------------------------------------------------------------------
const TYPE_OID = {
  transaction: '0.4.0.127.0.7.3.7.1.1',
  system: '0.4.0.127.0.7.3.7.1.2',
  audit: '0.4.0.127.0.7.3.7.1.3',
}
const ALGORITHM = {
  'P-256': ['0.4.0.127.0.7.1.1.4.1.3', 'sha256'],
  'P-384': ['0.4.0.127.0.7.1.1.4.1.4', 'sha384'],
} as const

export type Curve = keyof typeof ALGORITHM

export interface Tss {
  curve: Curve
  privateKey: KeyObject
  serialNumber: Buffer
  /** The uncompressed public point 04||X||Y of the TSS key. */
  publicPoint: Buffer
  /** root, sub-CA, leaf (DER) */
  chain: { root: Buffer; subCa: Buffer; leaf: Buffer }
}

export interface ChainOptions {
  /** The root's pathLenConstraint; default 1 (one sub-CA below it). */
  rootPathLength?: number
  /** Subject and Authority Key Identifiers on every certificate (RFC 5280); default true. */
  keyIdentifiers?: boolean
}

export async function createTss(curve: Curve, options: ChainOptions = {}): Promise<Tss> {
  const algorithm = { name: 'ECDSA', namedCurve: curve, hash: curve === 'P-256' ? 'SHA-256' : 'SHA-384' }
  const generate = () =>
    webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']) as Promise<CryptoKeyPair>
  const [rootKeys, subKeys, leafKeys] = [await generate(), await generate(), await generate()]
  const notBefore = new Date('2020-01-01T00:00:00Z')
  const notAfter = new Date('2040-01-01T00:00:00Z')
  const withIds = options.keyIdentifiers ?? true
  const ids = async (subject: CryptoKey, issuer: CryptoKey | undefined) =>
    withIds
      ? [
          await x509.SubjectKeyIdentifierExtension.create(subject),
          ...(issuer ? [await x509.AuthorityKeyIdentifierExtension.create(issuer)] : []),
        ]
      : []
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=fiscalbox test root',
    notBefore,
    notAfter,
    keys: rootKeys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, options.rootPathLength ?? 1, true),
      ...(await ids(rootKeys.publicKey, undefined)),
    ],
  })
  const subCa = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: 'CN=fiscalbox test sub-CA',
    issuer: root.subject,
    notBefore,
    notAfter,
    publicKey: subKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      ...(await ids(subKeys.publicKey, rootKeys.publicKey)),
    ],
  })
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: '03',
    subject: 'CN=fiscalbox test TSS',
    issuer: subCa.subject,
    notBefore,
    notAfter,
    publicKey: leafKeys.publicKey,
    signingKey: subKeys.privateKey,
    signingAlgorithm: algorithm,
    extensions: await ids(leafKeys.publicKey, subKeys.publicKey),
  })
  const point = Buffer.from(await webcrypto.subtle.exportKey('raw', leafKeys.publicKey))
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', leafKeys.privateKey))
  return {
    curve,
    privateKey: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }),
    serialNumber: createHash('sha256').update(point).digest(),
    publicPoint: point,
    chain: {
      root: Buffer.from(root.rawData),
      subCa: Buffer.from(subCa.rawData),
      leaf: Buffer.from(leaf.rawData),
    },
  }
}

export type LogFacts =
  | {
      kind: 'transaction'
      operationType: 'StartTransaction' | 'UpdateTransaction' | 'FinishTransaction'
      clientId: string
      processData: string
      processType: string
      transactionNumber: number
      counter: number
      logTime: number
    }
  | {
      kind: 'system'
      operationType: string
      counter: number
      logTime: number
      /** The content of systemOperationData [1]; default: what TR-03151 asks for the operationType. */
      systemOperationData?: Buffer
    }
  | { kind: 'audit'; counter: number; logTime: number }

/** systemOperationData of TR-03151's system logs (as the BSI simulator writes them), for the types used here. */
function systemOperationData(operationType: string, logTime: number): Buffer {
  const admin = tlv(0x81, Buffer.from('admin'))
  switch (operationType) {
    case 'Initialize':
      return tlv(0x81, Buffer.from('fiscalbox test'))
    case 'UpdateTime':
      return Buffer.concat([tlv(0x81, integer(logTime)), tlv(0x82, integer(logTime))])
    case 'AuthenticateUser':
      return Buffer.concat([admin, tlv(0x82, integer(0)), tlv(0x83, Buffer.from([0xff]))])
    case 'LogOut':
      return Buffer.concat([admin, tlv(0x82, integer(0))])
    case 'RegisterClient':
      return tlv(0x81, Buffer.from('POS-1'))
    default:
      return admin
  }
}

/** A signed log message: version 2 .. logTime signed as one concatenation, then signatureValue. */
export function logMessage(tss: Tss, facts: LogFacts): Buffer {
  const signed = signedBytes(tss, facts)
  const signature = sign(ALGORITHM[tss.curve][1], signed, { key: tss.privateKey, dsaEncoding: 'ieee-p1363' })
  return tlv(0x30, Buffer.concat([signed, tlv(0x04, signature)]))
}

/** The bytes a log message's signature covers: the TLVs from version through logTime. */
export function signedBytes(tss: Pick<Tss, 'curve' | 'serialNumber'>, facts: LogFacts): Buffer {
  const [algorithmOid] = ALGORITHM[tss.curve]
  const certified: Buffer[] = []
  if (facts.kind === 'transaction') {
    certified.push(
      tlv(0x80, Buffer.from(facts.operationType)),
      tlv(0x81, Buffer.from(facts.clientId)),
      tlv(0x82, Buffer.from(facts.processData)),
      tlv(0x83, Buffer.from(facts.processType)),
      tlv(0x85, integer(facts.transactionNumber)),
    )
  } else if (facts.kind === 'system') {
    const data = facts.systemOperationData ?? systemOperationData(facts.operationType, facts.logTime)
    certified.push(tlv(0x80, Buffer.from(facts.operationType)), tlv(0x81, data))
  }
  return Buffer.concat([
    tlv(0x02, integer(2)),
    tlv(0x06, oid(TYPE_OID[facts.kind])),
    ...certified,
    tlv(0x04, tss.serialNumber),
    tlv(0x30, tlv(0x06, oid(algorithmOid))),
    ...(facts.kind === 'audit' ? [tlv(0x04, Buffer.from('audit data'))] : []),
    tlv(0x02, integer(facts.counter)),
    tlv(0x02, integer(facts.logTime)),
  ])
}

/** The entry for the TAR writer. */
export function exportEntry(tss: Tss, facts: LogFacts): ExportLogMessage {
  const der = logMessage(tss, facts)
  const common = {
    der,
    signatureCounter: facts.counter,
    logTime: { format: 'unixTime' as const, seconds: facts.logTime },
  }
  if (facts.kind === 'transaction')
    return {
      ...common,
      kind: 'transaction',
      operationType: facts.operationType,
      transactionNumber: facts.transactionNumber,
      clientId: facts.clientId,
    }
  if (facts.kind === 'system') return { ...common, kind: 'system', operationType: facts.operationType }
  return { ...common, kind: 'audit' }
}

/**
 * A day of a TSS: set-up system logs, then `pairs` transactions (start, sometimes an update, finish),
 * an audit log, and one transaction left open. Counter and transaction numbers without gaps.
 */
export function day(pairs: number, clientId = 'POS-1', start = 1_800_000_000): LogFacts[] {
  const facts: LogFacts[] = []
  let counter = 0
  let time = start
  for (const operationType of ['Initialize', 'UpdateTime', 'AuthenticateUser', 'RegisterClient', 'LogOut'])
    facts.push({ kind: 'system', operationType, counter: ++counter, logTime: time })
  const tx = (
    transactionNumber: number,
    operationType: 'StartTransaction' | 'UpdateTransaction' | 'FinishTransaction',
    processData = '',
  ) =>
    facts.push({
      kind: 'transaction',
      operationType,
      clientId,
      processData,
      processType: operationType === 'StartTransaction' ? '' : 'Kassenbeleg-V1',
      transactionNumber,
      counter: ++counter,
      logTime: (time += transactionNumber % 3 === 0 ? 1 : 0),
    })
  for (let n = 1; n <= pairs; n++) {
    tx(n, 'StartTransaction')
    if (n % 4 === 0) tx(n, 'UpdateTransaction', 'Beleg^5.00_0.00_0.00_0.00_0.00^5.00:Bar')
    tx(n, 'FinishTransaction', `Beleg^${n}.00_0.00_0.00_0.00_0.00^${n}.00:Bar`)
  }
  facts.push({ kind: 'audit', counter: ++counter, logTime: time })
  tx(pairs + 1, 'StartTransaction')
  return facts
}

/** Writes a complete export of `facts` (in the order given) with the TAR writer. */
export async function writeExport(
  file: string,
  tss: Tss,
  facts: LogFacts[],
  options: { certificates?: Buffer[]; description?: string } = {},
): Promise<void> {
  await writeTssExport(
    {
      info: {
        description: options.description ?? 'fiscalbox test TSS',
        manufacturer: 'fiscalbox',
        version: '0.1.0',
      },
      certificates: (options.certificates ?? [tss.chain.leaf, tss.chain.subCa, tss.chain.root]).map(
        (der) => ({ der }),
      ),
      logMessages: facts.map((f) => exportEntry(tss, f)),
      mtime: 1_800_000_000,
    },
    createWriteStream(file),
  )
}
