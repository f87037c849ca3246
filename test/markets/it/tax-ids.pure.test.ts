import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isCodiceFiscale, isLotteryCode, isPartitaIva } from '../../../src/markets/it/tax-ids.ts'

describe('Italian identifiers', () => {
  it('accepts published valid partite IVA and refuses a changed digit or a bad form', () => {
    for (const value of ['00743110157', '12345678903']) assert.equal(isPartitaIva(value), true, value)
    for (const value of ['00743110158', '12345678904', '1234567890', '1234567890A', 'IT12345678903'])
      assert.equal(isPartitaIva(value), false, value)
  })

  it('accepts codici fiscali with a right check letter, homonym letters included', () => {
    // RSSMRA80A01H501U and RSSMRA85T10A562S are the usual published examples; the third is the first with
    // its last birth-place digit replaced by the homonym letter (1 -> M), which moves the check letter by that odd-position value (0 -> 18): U + 18 = M.
    for (const value of ['RSSMRA80A01H501U', 'RSSMRA85T10A562S', 'RSSMRA80A01H50MM'])
      assert.equal(isCodiceFiscale(value), true, value)
    for (const value of ['RSSMRA80A01H501V', 'RSSMRA80Z01H501U', 'rssmra80a01h501u', 'RSSMRA80A01H501'])
      assert.equal(isCodiceFiscale(value), false, value)
  })

  it('checks the form of a lottery code', () => {
    assert.equal(isLotteryCode('ABCD1234'), true)
    for (const value of ['ABCD123', 'ABCD12345', 'abcd1234', 'ABCD-123'])
      assert.equal(isLotteryCode(value), false, value)
  })
})
