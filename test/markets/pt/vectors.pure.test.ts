import assert from 'node:assert/strict'
import { createPrivateKey, createPublicKey, verify } from 'node:crypto'
import { test } from 'node:test'
import { localDateTime } from '../../../src/markets/pt/local-time.ts'
import { qrString } from '../../../src/markets/pt/qr-code.ts'
import {
  certifiedMention,
  hashMessage,
  printedHash,
  signDocument,
} from '../../../src/markets/pt/signature.ts'
import { PRIVATE_KEY, PUBLIC_KEY, VECTORS } from './support.ts'

/** The shared vectors (/work/shared/vectors/pt) through the signing primitives, byte for byte. */
const privateKey = createPrivateKey(PRIVATE_KEY)
const publicKey = createPublicKey(PUBLIC_KEY)

test('the three chained signatures, their messages and printed mentions', () => {
  for (const v of VECTORS.chain) {
    const fields = {
      invoiceDate: v.InvoiceDate,
      systemEntryDate: v.SystemEntryDate,
      invoiceNo: v.InvoiceNo,
      grossTotal: v.GrossTotal,
      previousHash: v.PreviousHash,
    }
    assert.equal(hashMessage(fields), v.messageToSign)
    assert.equal(signDocument(privateKey, fields), v.expectedHash, v.InvoiceNo)
    assert.equal(printedHash(v.expectedHash), v.printed4)
    assert.equal(certifiedMention(v.expectedHash, '9999'), v.printedMention)
    const checks = (message: string) =>
      verify('sha1', Buffer.from(message), publicKey, Buffer.from(v.expectedHash, 'base64'))
    assert.ok(checks(v.messageToSign))
    assert.equal(checks(v.messageToSign.replace(`;${v.GrossTotal};`, ';0.01;')), false)
  }
  assert.equal(
    printedHash(VECTORS.printedExtractFromATExample.hash),
    VECTORS.printedExtractFromATExample.chars_1_11_21_31,
  )
})

test('QR strings: fields in order A to S, zero optional amounts left out', () => {
  const [first, second, third] = VECTORS.qrFromFiskaltrustUnitTests
  assert.equal(qrString(first.input), first.expected)
  assert.equal(qrString({ ...first.input, I7: '80.00', I8: '20.00', I3: '0.00', L: '0.00' }), second.expected)
  const fields = Object.fromEntries(
    third.expected.split('*').map((f: string) => f.split(/:(.*)/s).slice(0, 2)),
  )
  assert.equal(qrString({ ...fields, P: '0.00' }), third.expected)
})

test('local time: Lisbon in winter and summer, the Azores an hour behind, Madeira with Lisbon', () => {
  assert.equal(localDateTime(new Date('2024-01-15T12:00:00Z'), 'PT'), '2024-01-15T12:00:00')
  assert.equal(localDateTime(new Date('2024-10-08T08:15:00Z'), 'PT'), '2024-10-08T09:15:00')
  assert.equal(localDateTime(new Date('2024-10-08T08:15:00Z'), 'PT-AC'), '2024-10-08T08:15:00')
  assert.equal(localDateTime(new Date('2024-10-08T08:15:00Z'), 'PT-MA'), '2024-10-08T09:15:00')
  assert.equal(localDateTime(new Date('2024-12-31T23:30:00Z'), 'PT-AC'), '2024-12-31T22:30:00')
})
