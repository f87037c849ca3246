import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import fc from 'fast-check'
import { machineReadableCode } from '../../../src/markets/at/machine-readable-code.ts'
import {
  aesKeyCheckValue,
  base32,
  chainValue,
  encryptTurnover,
  FAILED_DEVICE_TEXT,
  formatAmount,
  JWS_HEADER,
  ocrCode,
  STORNO_FIELD,
  TRAINING_FIELD,
  turnoverIv,
} from '../../../src/markets/at/rksv-primitives.ts'
import { decryptTurnover } from '../../../src/verify/dep7-verifier.ts'

/** The public RKSV vectors (A-SIT/BMF Mustercode issues and independent recomputation). */
const VECTORS = JSON.parse(readFileSync('/work/shared/vectors/at/rksv-primitive-vectors.json', 'utf8'))

interface TurnoverVector {
  base64AESKey: string
  cashBoxId: string
  receiptId: string
  turnoverCounterCents: number
  sizeBytes: number
  'ivHex(SHA256(cashBoxId||receiptId)[0:16])': string
  expectedBase64: string
}

test('turnover counter: every vector encrypts to its value, and the verifier decrypts it back', () => {
  const vectors = VECTORS.turnoverCounterEncryption as TurnoverVector[]
  assert.equal(vectors.length, 8)
  for (const v of vectors) {
    const key = Buffer.from(v.base64AESKey, 'base64')
    assert.equal(
      turnoverIv(v.cashBoxId, v.receiptId).toString('hex'),
      v['ivHex(SHA256(cashBoxId||receiptId)[0:16])'],
    )
    const encrypted = encryptTurnover(
      key,
      v.cashBoxId,
      v.receiptId,
      BigInt(v.turnoverCounterCents),
      v.sizeBytes,
    )
    assert.equal(encrypted, v.expectedBase64, `${v.cashBoxId}/${v.receiptId}`)
    assert.equal(
      decryptTurnover(key, v.cashBoxId, v.receiptId, v.expectedBase64),
      BigInt(v.turnoverCounterCents),
    )
  }
})

test('chain value of the first receipt, AES key check values, JWS header and special fields', () => {
  for (const v of VECTORS.chainValueFirstReceipt) assert.equal(chainValue(v.cashBoxId), v.expected)
  assert.equal(VECTORS.aesKeyChecksum.length, 2)
  for (const v of VECTORS.aesKeyChecksum) assert.equal(aesKeyCheckValue(v.base64AESKey, v.N), v.expected)
  assert.equal(Buffer.from(VECTORS.jwsHeader.json).toString('base64url'), VECTORS.jwsHeader.base64url)
  assert.equal(JWS_HEADER, VECTORS.jwsHeader.base64url)
  assert.equal(TRAINING_FIELD, VECTORS.specialTurnoverFields.TRA)
  assert.equal(STORNO_FIELD, VECTORS.specialTurnoverFields.STO)
  assert.equal(
    Buffer.from(FAILED_DEVICE_TEXT).toString('base64url'),
    VECTORS.specialTurnoverFields.failedDeviceSignature_base64url,
  )
  assert.equal(
    Buffer.from(FAILED_DEVICE_TEXT).toString('base64'),
    VECTORS.specialTurnoverFields['failedDeviceSignature_base64(QR)'],
  )
  assert.equal(
    base32(Buffer.from('cg8hNU5ihto=', 'base64')),
    VECTORS.ocrRepresentation['example_chain_cg8hNU5ihto=_base32'],
  )
})

test('the third-party receipt string is rebuilt field by field, with its JWS payload', () => {
  const [sample] = VECTORS.thirdPartyReceiptStrings as Array<{ qr: string; note: string }>
  assert.ok(sample)
  const key = Buffer.from('WQRtiiya3hYh/Uz44Bv3x8ETl1nrH6nCdErn69g5/lU=', 'base64')
  const code = machineReadableCode({
    provider: 'AT100',
    cashboxId: 'CASHBOX-DEMO-1',
    receiptId: 'CASHBOX-DEMO-1-Receipt-ID-1',
    localTime: '2016-03-11T03:57:08',
    amounts: [0n, 0n, 0n, 0n, 0n],
    turnover: encryptTurnover(key, 'CASHBOX-DEMO-1', 'CASHBOX-DEMO-1-Receipt-ID-1', 0n, 6),
    certificate: '82424e8077297aa3',
    chain: chainValue('CASHBOX-DEMO-1'),
  })
  assert.equal(code, sample.qr)
  const payload = /payload base64url is (\S+)/.exec(sample.note)?.[1]
  assert.equal(Buffer.from(code).toString('base64url'), payload)
})

test('OCR code re-encodes turnover, chain and signature as base32, and nothing else', () => {
  const signature = Buffer.from(FAILED_DEVICE_TEXT)
  const qr = `${VECTORS.thirdPartyReceiptStrings[0].qr}_${signature.toString('base64')}`
  const ocr = ocrCode(qr).split('_')
  const fields = qr.split('_')
  assert.deepEqual(ocr.slice(0, 10), fields.slice(0, 10))
  assert.equal(ocr[10], base32(Buffer.from('4r1iIdZG', 'base64')))
  assert.equal(ocr[11], fields[11])
  assert.equal(ocr[12], 'OIHSCNKOMKDNU===')
  assert.equal(ocr[13], base32(signature))
})

test('amounts: decimal comma, two decimals, no thousands separator', () => {
  assert.equal(formatAmount(0n), '0,00')
  assert.equal(formatAmount(120034n), '1200,34')
  assert.equal(formatAmount(-5n), '-0,05')
  assert.equal(formatAmount(-2217n), '-22,17')
  assert.equal(formatAmount(123456789012n), '1234567890,12')
  fc.assert(
    fc.property(fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), (cents) => {
      const text = formatAmount(cents)
      assert.match(text, /^-?\d+,\d\d$/)
      assert.equal(BigInt(text.replace(',', '')), cents)
    }),
  )
})

test('turnover counter: any value that fits any size 5..16 round-trips through the verifier', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 5, max: 16 }),
      fc.bigInt({ min: -(1n << 39n), max: (1n << 39n) - 1n }),
      fc.string({ minLength: 1, maxLength: 20 }),
      (size, cents, receiptId) => {
        const key = createHash('sha256').update(receiptId).digest()
        const encrypted = encryptTurnover(key, 'K1', receiptId, cents, size)
        assert.equal(Buffer.from(encrypted, 'base64').length, size)
        assert.equal(decryptTurnover(key, 'K1', receiptId, encrypted), cents)
      },
    ),
  )
})
