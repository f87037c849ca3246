import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Market } from '../../../src/core/market.ts'

/**
 * A POS talking to a Portuguese cash box through HTTP only, with the public test key pair of the shared
 * vectors. Case codes are written here from the POS System API v2 layout (country PT = 0x5054, version 2).
 * Not a test file itself.
 */
export const VECTORS_DIR = '/work/shared/vectors/pt'
export const VECTORS = JSON.parse(readFileSync(`${VECTORS_DIR}/portugal-vectors.json`, 'utf8'))
export const PRIVATE_KEY = readFileSync(`${VECTORS_DIR}/fiskaltrust-test-PrivateKey.pem`, 'utf8')
export const PUBLIC_KEY = readFileSync(`${VECTORS_DIR}/fiskaltrust-test-PublicKey.pem`, 'utf8')

export const PT_CASE = {
  pos: '0x5054200000000001',
  invoice: '0x5054200000001001',
  handwrittenInvoice: '0x5054200000081001',
  refund: '0x5054200001000001',
  void: '0x5054200000040001',
  paymentTransfer: '0x5054200000000002',
  training: '0x5054200000020001',
  start: '0x5054200000004001',
  stop: '0x5054200000004002',
} as const

/** Charge item cases by VAT digit: 1 reduced, 2 intermediate, 3 normal; exempt M07 is 0x0708. */
export const VAT = { reduced: 1, intermediate: 2, normal: 3 } as const
export const EXEMPT_M07 = '0x5054200000000708'

export const SERIES = [
  { documentType: 'FS', series: 'FS2026', validationCode: 'AAJFJNK6JJ' },
  { documentType: 'FT', series: 'FT2026', validationCode: 'AAJFJ2K6JF' },
  { documentType: 'NC', series: 'NC2026', validationCode: 'AAJFJ6K6J5' },
  { documentType: 'FT', series: 'FTM2026', validationCode: 'AAJFJHK6J6', manual: true },
]

export const CONFIG = {
  nif: '509442013',
  companyName: 'Café Exemplo, Lda.',
  address: { addressDetail: 'Rua Augusta 1', city: 'Lisboa', postalCode: '1100-048' },
  certificateNumber: '9999',
  privateKey: PRIVATE_KEY,
  series: SERIES,
}

export interface Line {
  amount: string
  vat?: number
  rate?: number
  description?: string
  caseCode?: string
}

const RATE = { 1: 6, 2: 13, 3: 23 } as Record<number, number>

/** A receipt of `lines`, paid in cash. */
export function ptReceipt(caseCode: string, lines: Line[], extra: Record<string, unknown> = {}) {
  const total = lines.reduce((sum, l) => sum + Math.round(Number(l.amount) * 100), 0)
  return {
    cbReceiptReference: `PT-${randomUUID().slice(0, 13)}`,
    cbReceiptMoment: new Date().toISOString(),
    ftReceiptCase: caseCode,
    cbChargeItems: lines.map((l, i) => ({
      Quantity: 1,
      Description: l.description ?? `Artigo ${i + 1}`,
      Amount: l.amount,
      VATRate: l.rate ?? RATE[l.vat ?? VAT.normal],
      ftChargeItemCase: l.caseCode ?? `0x505420000000000${l.vat ?? VAT.normal}`,
    })),
    cbPayItems:
      lines.length === 0
        ? []
        : [
            {
              Description: 'Numerário',
              Amount: (total / 100).toFixed(2),
              ftPayItemCase: '0x5054200000000001',
            },
          ],
    ...extra,
  }
}

/** The Portuguese market with the signing moment pinned: a vector's SystemEntryDate comes from it. */
export const pinnedMoment =
  (moment: () => Date) =>
  (countryCode: number, market: Market): Market =>
    countryCode !== 0x5054
      ? market
      : Object.assign(Object.create(market) as Market, {
          seal: (context: Parameters<Market['seal']>[0], receipt: Parameters<Market['seal']>[1]) =>
            market.seal({ ...context, moment: moment() }, receipt),
        })

/** The signature item of a type (its low bits) in a response. */
export const signatureOf = (
  response: { ftSignatures: { ftSignatureType: string; Data: string }[] },
  low: bigint,
) => response.ftSignatures.find((s) => BigInt(s.ftSignatureType) === ((0x5054n << 48n) | (2n << 44n) | low))
