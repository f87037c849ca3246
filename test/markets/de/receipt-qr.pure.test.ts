import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import fc from 'fast-check'
import {
  buildReceiptQr,
  parseReceiptQr,
  type ReceiptQr,
  ReceiptQrError,
} from '../../../src/markets/de/dsfinvk/receipt-qr.ts'
import { createTss, type LogFacts, logMessage, type Tss } from '../../verify/tss-export/fixtures.ts'
import { qrSelfVerifies } from './support.ts'

const PROCESS_DATA = 'Beleg^123.45_67.89_0.00_0.00_0.00^111.11:Bar_80.23:Unbar' // the reference's example

let tss: Tss
before(async () => {
  tss = await createTss('P-256')
})

function finishLog(): { facts: LogFacts & { kind: 'transaction' }; qr: string } {
  const facts = {
    kind: 'transaction',
    operationType: 'FinishTransaction',
    clientId: 'Kasse-01',
    processData: PROCESS_DATA,
    processType: 'Kassenbeleg-V1',
    transactionNumber: 4711,
    counter: 9421,
    logTime: 1_795_289_461,
  } as const
  const der = logMessage(tss, facts)
  const signature = der.subarray(der.length - 64)
  const qr = buildReceiptQr({
    clientSerial: facts.clientId,
    processType: facts.processType,
    processData: facts.processData,
    transactionNumber: BigInt(facts.transactionNumber),
    signatureCounter: BigInt(facts.counter),
    startTime: facts.logTime - 3,
    endTime: facts.logTime,
    signatureAlgorithm: 'ecdsa-plain-SHA256',
    logTimeFormat: 'unixTime',
    signature,
    publicKey: tss.publicPoint,
  })
  return { facts, qr }
}

describe('DSFinV-K receipt QR code V0', () => {
  test('has the twelve fields in the order of the reference, times with milliseconds', () => {
    const { qr } = finishLog()
    const fields = qr.split(';')
    assert.equal(fields.length, 12)
    assert.deepEqual(fields.slice(0, 8), [
      'V0',
      'Kasse-01',
      'Kassenbeleg-V1',
      PROCESS_DATA,
      '4711',
      '9421',
      '2026-11-21T19:30:58.000Z',
      '2026-11-21T19:31:01.000Z',
    ])
    assert.equal(fields[8], 'ecdsa-plain-SHA256')
    assert.equal(fields[9], 'unixTime')
    assert.equal(Buffer.from(fields[11] as string, 'base64').length, 65)
  })

  test('is self-verifiable: the Finish log signature checks out from the QR alone', () => {
    const { qr } = finishLog()
    assert.ok(qrSelfVerifies(qr))
    // the two classic integration faults: end time one second off, client id in another case
    const fields = qr.split(';')
    const oneSecondLater = [...fields]
    oneSecondLater[7] = '2026-11-21T19:31:02.000Z'
    assert.ok(!qrSelfVerifies(oneSecondLater.join(';')))
    const upperCase = [...fields]
    upperCase[1] = 'KASSE-01'
    assert.ok(!qrSelfVerifies(upperCase.join(';')))
  })

  test('parse(build(x)) is x (property)', () => {
    const text = fc.string({ maxLength: 40 }).filter((s) => !s.includes(';'))
    const qr = fc.record<ReceiptQr>({
      clientSerial: text,
      processType: text,
      // processData may hold ';' (order data always does): it is what lies between the fixed fields.
      processData: fc.string({ maxLength: 60 }),
      transactionNumber: fc.bigInt({ min: 0n, max: 2n ** 64n }),
      signatureCounter: fc.bigInt({ min: 0n, max: 2n ** 64n }),
      startTime: fc.integer({ min: 0, max: 4_102_444_800 }),
      endTime: fc.integer({ min: 0, max: 4_102_444_800 }),
      signatureAlgorithm: text,
      logTimeFormat: text,
      signature: fc.uint8Array({ minLength: 1, maxLength: 96 }).map((b) => Buffer.from(b)),
      publicKey: fc.uint8Array({ minLength: 1, maxLength: 97 }).map((b) => Buffer.from(b)),
    })
    fc.assert(
      fc.property(qr, (value) => assert.deepEqual(parseReceiptQr(buildReceiptQr(value)), { ...value })),
    )
  })

  test("order data with ';' and line breaks self-verifies (Bestellung-V1)", () => {
    const orderData = '2;"Eisbecher ""Spezial""";4.50\r1;"Kaffee";2.20'
    const facts = {
      kind: 'transaction',
      operationType: 'FinishTransaction',
      clientId: 'Kasse-01',
      processData: orderData,
      processType: 'Bestellung-V1',
      transactionNumber: 12,
      counter: 40,
      logTime: 1_795_289_461,
    } as const
    const der = logMessage(tss, facts)
    const text = buildReceiptQr({
      clientSerial: facts.clientId,
      processType: facts.processType,
      processData: orderData,
      transactionNumber: 12n,
      signatureCounter: 40n,
      startTime: facts.logTime,
      endTime: facts.logTime,
      signatureAlgorithm: 'ecdsa-plain-SHA256',
      logTimeFormat: 'unixTime',
      signature: der.subarray(der.length - 64),
      publicKey: tss.publicPoint,
    })
    assert.equal(parseReceiptQr(text).processData, orderData)
    assert.ok(qrSelfVerifies(text))
  })

  test('rejects malformed codes with the field named', () => {
    const { qr } = finishLog()
    const fields = qr.split(';')
    const withField = (i: number, value: string) => fields.map((f, j) => (j === i ? value : f)).join(';')
    for (const [bad, message] of [
      [withField(0, 'V1'), /version "V1"/],
      [fields.slice(0, 11).join(';'), /expected 12 fields/],
      [withField(4, '12a'), /transaction number/],
      [withField(6, '2026-11-21T19:30:58Z'), /start time/],
      [withField(10, 'not base64!'), /signature is not base64/],
    ] as const) {
      assert.throws(
        () => parseReceiptQr(bad),
        (e: unknown) => e instanceof ReceiptQrError && message.test(e.message),
      )
    }
    assert.throws(
      () => buildReceiptQr({ ...parseReceiptQr(qr), processType: 'a;b' }),
      /processType must not contain/,
    )
  })
})
