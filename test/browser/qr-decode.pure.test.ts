import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import QRCode from 'qrcode'
import { decodeQr } from './qr-decode.ts'

const matrixOf = (text: string, errorCorrectionLevel: 'L' | 'M' | 'Q' | 'H') => {
  const { modules } = QRCode.create(text, { errorCorrectionLevel })
  return Array.from({ length: modules.size }, (_, r) =>
    Array.from({ length: modules.size }, (_, c) => modules.get(r, c) === 1),
  )
}

test('the test decoder reads back what a QR encoder wrote, for any text, level and size', () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.string({ minLength: 1, maxLength: 400 }), fc.stringMatching(/^[0-9A-Z $%*+./:-]{1,300}$/)),
      fc.constantFrom('L' as const, 'M' as const, 'Q' as const, 'H' as const),
      (text, level) => {
        assert.equal(decodeQr(matrixOf(text, level)), text)
      },
    ),
    { numRuns: 60 },
  )
  const receiptCode = `FB1_0cf0f0c1-b589-4f07-9e69-4d1297ae28e4_2_2026-11-21T19:59:43.954Z_3.50_${'df5a20f9'.repeat(8)}_${'5JR3P_ei5OyfGoP1'.repeat(5)}`
  assert.equal(decodeQr(matrixOf(receiptCode, 'M')), receiptCode)
})

test('a damaged code is refused, not misread', () => {
  const matrix = matrixOf('fiscalbox receipt', 'M')
  for (let c = 9; c < 13; c++)
    (matrix[matrix.length - 1] as boolean[])[c] = !(matrix[matrix.length - 1] as boolean[])[c]
  assert.throws(() => decodeQr(matrix), /not a readable QR code/)
})
