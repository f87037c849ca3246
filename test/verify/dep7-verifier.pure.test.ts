import assert from 'node:assert/strict'
import { createCipheriv, createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { test } from 'node:test'
import { verifyDep7 } from '../../src/verify/dep7-verifier.ts'

/**
 * The DEP7 verifier against exports this test writes itself, with its own key and its own RKSV encoding
 * (nothing from src/markets/at): a valid one passes, and every kind of damage is reported naming the
 * receipt.
 */
const AES = createHash('sha256').update('test key').digest()
const KASSE = 'T-1'
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const KEY_ID = 'U:ATU99999999-K1'
const material = {
  base64AESKey: AES.toString('base64'),
  certificateOrPublicKeyMap: {
    [KEY_ID]: {
      id: KEY_ID,
      signatureDeviceType: 'PUBLIC_KEY',
      signatureCertificateOrPublicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    },
  },
}

const sha = (s: string) => createHash('sha256').update(s).digest()
function counter(receiptId: string, cents: bigint): string {
  const block = Buffer.alloc(16)
  block.writeBigInt64BE(cents)
  const c = createCipheriv('aes-256-ctr', AES, sha(KASSE + receiptId).subarray(0, 16))
  return Buffer.concat([c.update(block), c.final()])
    .subarray(0, 8)
    .toString('base64')
}
const euro = (c: bigint) =>
  `${c < 0n ? '-' : ''}${(c < 0n ? -c : c) / 100n},${((c < 0n ? -c : c) % 100n).toString().padStart(2, '0')}`

interface Spec {
  id: string
  date: string
  amounts?: bigint[]
  turnover?: 'TRA' | 'STO'
  failed?: boolean
  amountText?: string
}

/** Writes a chain of receipts as an honest cash register would, with the given specs. */
function chainOf(specs: Spec[], key: KeyObject = privateKey): string[] {
  let previous: string | undefined
  let total = 0n
  return specs.map((s) => {
    const amounts = [0, 1, 2, 3, 4].map((i) => s.amounts?.[i] ?? 0n)
    let field: string
    if (s.turnover === 'TRA') field = 'VFJB'
    else {
      total += amounts.reduce((a, b) => a + b, 0n)
      field = s.turnover === 'STO' ? 'U1RP' : counter(s.id, total)
    }
    const chain = sha(previous ?? KASSE)
      .subarray(0, 8)
      .toString('base64')
    const texts = amounts.map(euro)
    if (s.amountText) texts[0] = s.amountText
    const payload = ['', 'R1-AT0', KASSE, s.id, s.date, ...texts, field, KEY_ID, chain].join('_')
    const input = `eyJhbGciOiJFUzI1NiJ9.${Buffer.from(payload).toString('base64url')}`
    const signature = s.failed
      ? Buffer.from('Sicherheitseinrichtung ausgefallen')
      : sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
    previous = `${input}.${signature.toString('base64url')}`
    return previous
  })
}

const dep = (jwss: string[]) => ({
  'Belege-Gruppe': [{ Signaturzertifikat: '', Zertifizierungsstellen: [], 'Belege-kompakt': jwss }],
})

const HONEST: Spec[] = [
  { id: 'R1', date: '2024-01-01T10:00:00' },
  { id: 'R2', date: '2024-01-01T10:01:00', amounts: [1000n, 200n, 0n, 0n, -50n] },
  { id: 'R3', date: '2024-01-01T10:02:00', amounts: [500n, 0n, 0n, 0n, 0n], turnover: 'TRA' },
  { id: 'R4', date: '2024-01-01T10:03:00', amounts: [-300n, 0n, 0n, 0n, 0n], turnover: 'STO' },
  { id: 'R5', date: '2024-01-01T10:04:00', amounts: [700n, 0n, 0n, 0n, 0n], failed: true },
  { id: 'R6', date: '2024-01-01T10:05:00' },
  { id: 'R7', date: '2024-01-01T10:06:00', amounts: [1n, 2n, 3n, 4n, 5n] },
]

test('an honest export passes, with its counts and final turnover', () => {
  const report = verifyDep7(dep(chainOf(HONEST)), material)
  assert.deepEqual(report.problems, [])
  assert.equal(report.receipts, 7)
  assert.equal(report.failedDeviceReceipts, 1)
  assert.equal(report.trainingReceipts, 1)
  assert.equal(report.stornoReceipts, 1)
  assert.equal(report.turnoverCents, String(1150 - 300 + 700 + 15))
})

function assertNamed(problems: string[], match: (p: string) => boolean): void {
  assert.ok(problems.some(match), `no such problem among:\n${problems.join('\n')}`)
}

const problemsOf = (jwss: string[], m: unknown = material) => verifyDep7(dep(jwss), m as never).problems

test('a changed amount breaks the signature of that receipt', () => {
  const jwss = chainOf(HONEST)
  const [h, p, s] = (jwss[1] as string).split('.')
  const payload = Buffer.from(p as string, 'base64url')
    .toString()
    .replace('_10,00_', '_19,00_')
  jwss[1] = [h, Buffer.from(payload).toString('base64url'), s].join('.')
  const problems = problemsOf(jwss)
  assert.ok(
    problems.some((p) => p.startsWith('receipt 2 (Belegnummer R2): ES256 signature does not verify')),
    problems.join('\n'),
  )
  assert.ok(problems.some((p) => p.startsWith('receipt 3 (Belegnummer R3): chain value')))
})

test('a removed receipt, swapped receipts and a rewritten failed-device receipt are named', () => {
  const removed = chainOf(HONEST).filter((_, i) => i !== 3)
  assertNamed(problemsOf(removed), (p) => p.startsWith('receipt 4 (Belegnummer R5): chain value'))
  const swapped = chainOf(HONEST)
  ;[swapped[1], swapped[2]] = [swapped[2] as string, swapped[1] as string]
  assertNamed(problemsOf(swapped), (p) => p.startsWith('receipt 2 (Belegnummer R3): chain value'))
  // The failed receipt has no signature: rewriting it shows in the next receipt's chain value.
  const rewritten = chainOf(HONEST)
  const [h, p, s] = (rewritten[4] as string).split('.')
  rewritten[4] = [
    h,
    Buffer.from(
      Buffer.from(p as string, 'base64url')
        .toString()
        .replace('_7,00_', '_0,00_'),
    ).toString('base64url'),
    s,
  ].join('.')
  const problems = problemsOf(rewritten)
  assert.ok(
    problems.some((p) => p.startsWith('receipt 6 (Belegnummer R6): chain value')),
    problems.join('\n'),
  )
})

test('turnover counter, dates, amount format, Belegnummer and the failed-device rules', () => {
  // A counter that does not match the receipts (here: read with another AES key) is named.
  const sale = chainOf([HONEST[0] as Spec, { id: 'X2', date: '2024-01-01T10:01:00', amounts: [100n] }])
  assert.deepEqual(problemsOf(sale), [])
  const wrongKey = { ...material, base64AESKey: createHash('sha256').update('x').digest('base64') }
  assertNamed(problemsOf(sale, wrongKey), (p) =>
    p.startsWith('receipt 1 (Belegnummer R1): turnover counter decrypts to'),
  )
  const backwards = chainOf([HONEST[0] as Spec, { id: 'B2', date: '2023-12-31T23:59:59' }])
  assertNamed(problemsOf(backwards), (p) =>
    p.includes('(Belegnummer B2): date 2023-12-31T23:59:59 is earlier'),
  )
  const thousands = chainOf([
    HONEST[0] as Spec,
    { id: 'B3', date: '2024-01-02T00:00:00', amounts: [120034n], amountText: '1.200,34' },
  ])
  assertNamed(problemsOf(thousands), (p) => p.includes('(Belegnummer B3): amount 1 "1.200,34"'))
  const twice = chainOf([HONEST[0] as Spec, { id: 'R1', date: '2024-01-02T00:00:00' }])
  assertNamed(problemsOf(twice), (p) => p.includes('Belegnummer used twice'))
  // A-SIT's Prüftool (since 1.0.0) and Erlass 3.6.1: the Sammelbeleg, a signed zero receipt, comes right
  // after the last failed receipt or after the first receipt signed again.
  const failedThen = (...later: Spec[]) =>
    chainOf([
      HONEST[0] as Spec,
      { id: 'N2', date: '2024-01-02T00:00:00', amounts: [100n], failed: true },
      { id: 'N3', date: '2024-01-02T00:01:00', amounts: [100n] },
      ...later,
    ])
  assert.deepEqual(problemsOf(failedThen({ id: 'N4', date: '2024-01-02T00:02:00' })), [])
  assertNamed(problemsOf(failedThen({ id: 'N4', date: '2024-01-02T00:02:00', amounts: [1n] })), (p) =>
    p.startsWith(
      'receipt 4 (Belegnummer N4): no Sammelbeleg (a signed zero receipt) as the first or second signed receipt after the failed signature device',
    ),
  )
  const noStart = chainOf([{ id: 'Z1', date: '2024-01-01T00:00:00', amounts: [5n] }])
  assertNamed(problemsOf(noStart), (p) => p.includes('must be a signed Startbeleg'))
  const { privateKey: stranger } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  assertNamed(problemsOf(chainOf(HONEST, stranger)), (p) =>
    p.startsWith('receipt 1 (Belegnummer R1): ES256 signature does not verify'),
  )
  assertNamed(verifyDep7(dep(chainOf(HONEST))).problems, (p) => p.includes('give the key file with --keys'))
  assert.deepEqual(verifyDep7({ journal: [] }).problems, ['not a DEP7 export: no "Belege-Gruppe" array'])
})
