import { after } from 'node:test'
import { type MarketImplementation, marketContract } from './contract.ts'
import { AT_CASE, atReceipt } from './at/support.ts'
import { DE_CASE, deReceipt, VAT as DE_VAT } from './de/support.ts'
import { SPANISH_DELIVERIES } from './es/delivery-support.ts'
import { ES_CASE, esReceipt } from './es/pos-support.ts'
import { FR_CASE, frReceipt } from './fr/support.ts'
import { IT_CASE, itReceipt, startSim } from './it/pos-support.ts'
import { CONFIG as PT_CONFIG, PT_CASE, ptReceipt, VAT as PT_VAT } from './pt/support.ts'

/** Every market runs the one contract suite (test/markets/contract.ts); a new country adds its line here. */

const now = () => new Date().toISOString()
let counter = 0
const reference = (prefix: string) => `${prefix}-${++counter}`

const plain = (country: string, low: string) => ({
  cbReceiptReference: reference(country),
  cbReceiptMoment: now(),
  ftReceiptCase: `0x${Buffer.from(country).toString('hex').toUpperCase()}2000${low}`,
  cbChargeItems: [] as unknown[],
  cbPayItems: [] as unknown[],
})

const generic: MarketImplementation = {
  country: 'EU',
  start: () => plain('EU', '00004001'),
  sale: () => ({
    ...plain('EU', '00000001'),
    cbChargeItems: [{ Quantity: 1, Description: 'Coffee', Amount: 3.5, VATRate: 20 }],
    cbPayItems: [{ Description: 'Cash', Amount: 3.5 }],
  }),
}

const austria: MarketImplementation = {
  country: 'AT',
  async provision(pos) {
    const reply = await pos.request('PUT', '/at/v1/cashbox', {
      kassenId: `KASSE-${pos.box.cashboxId.slice(0, 8)}`,
      companyId: 'U:ATU12345678',
      devices: [{ number: 0 }],
    })
    if (reply.status !== 200) throw new Error(reply.payload)
  },
  start: () => atReceipt({ reference: reference('AT'), moment: now(), caseCode: AT_CASE.start }),
  sale: () =>
    atReceipt({
      reference: reference('AT'),
      moment: now(),
      caseCode: AT_CASE.pos,
      sets: [1250n, 0n, 0n, 0n, 0n],
    }),
  refused: () => {
    // A rate that contradicts its VAT case (10 % with the normal-rate case): it would land in the wrong
    // tax set of the signature.
    const body = atReceipt({
      reference: reference('AT'),
      moment: now(),
      caseCode: AT_CASE.pos,
      sets: [100n, 0n, 0n, 0n, 0n],
    })
    const [item] = body.cbChargeItems as { VATRate: number }[]
    if (item) item.VATRate = 10
    return { body, field: 'cbChargeItems[0].VATRate' }
  },
}

const germany: MarketImplementation = {
  country: 'DE',
  start: () => deReceipt(DE_CASE.start),
  sale: () =>
    deReceipt(DE_CASE.posImplicit, [{ amount: '11.90', vat: DE_VAT.normal }], [{ amount: '11.90' }]),
  refused: () => ({
    body: deReceipt(DE_CASE.zero, [{ amount: '1.00', vat: DE_VAT.normal }], [{ amount: '1.00' }]),
    field: 'cbChargeItems',
  }),
}

const spain: MarketImplementation = {
  country: 'ES',
  async provision(pos) {
    const reply = await pos.request('PUT', '/es/v1/cashbox', {
      system: 'verifactu',
      nif: 'B12345674',
      name: 'Bar Ejemplo SL',
      series: `C${pos.box.cashboxId.slice(0, 4)}-`,
    })
    if (reply.status !== 200) throw new Error(reply.payload)
  },
  start: () => esReceipt(ES_CASE.start, []),
  sale: () => esReceipt(ES_CASE.pos, [{ amount: '12.10', vat: 21 }]),
  refused: () => ({
    body: esReceipt(ES_CASE.pos, [{ amount: '12.10', vat: 19 }]),
    field: 'cbChargeItems[0].VATRate',
  }),
  deliveries: SPANISH_DELIVERIES,
}

/** Italian cash boxes print on one RT device simulator, started for this file. */
const rtDevice = await startSim()
after(() => rtDevice.close())
const italy: MarketImplementation = {
  country: 'IT',
  async provision(pos) {
    const reply = await pos.request('PUT', '/it/v1/cashbox', { device: 'epson-rt', url: rtDevice.url })
    if (reply.status !== 200) throw new Error(reply.payload)
  },
  start: () => itReceipt(IT_CASE.start, []),
  sale: () => itReceipt(IT_CASE.pos, [{ amount: '12.20', vat: 22 }]),
  refused: () => ({
    body: {
      ...itReceipt(IT_CASE.pos, [{ amount: '12.20', vat: 22 }]),
      cbPayItems: [{ Description: 'Crypto', Amount: '12.20', ftPayItemCase: '0x4954200000000011' }],
    },
    field: 'cbPayItems[0].ftPayItemCase',
  }),
}

const portugal: MarketImplementation = {
  country: 'PT',
  async provision(pos) {
    const reply = await pos.request('PUT', '/pt/v1/cashbox', PT_CONFIG)
    if (reply.status !== 200) throw new Error(reply.payload)
  },
  start: () => ptReceipt(PT_CASE.start, []),
  sale: () => ptReceipt(PT_CASE.pos, [{ amount: '12.30', vat: PT_VAT.normal }]),
  refused: () => ({
    // VAT digit 4 (super-reduced) has no Portuguese rate.
    body: ptReceipt(PT_CASE.pos, [{ amount: '12.30', rate: 0, caseCode: '0x5054200000000004' }]),
    field: 'cbChargeItems[0].ftChargeItemCase',
  }),
}

const france: MarketImplementation = {
  country: 'FR',
  start: () => frReceipt(FR_CASE.start),
  sale: () => frReceipt(FR_CASE.pos, [['12.00', 20]]),
  refused: () => ({ body: frReceipt(FR_CASE.pos, [['11.90', 19]]), field: 'cbChargeItems[0].VATRate' }),
}

/** The test double of an external signing unit (test/helpers/external-unit.ts) on a user-assigned code. */
const externalUnit: MarketImplementation = {
  country: 'XT',
  external: true,
  start: () => plain('XT', '00004001'),
  sale: () => ({
    ...plain('XT', '00000001'),
    cbChargeItems: [{ Quantity: 1, Description: 'Coffee', Amount: 3.5, VATRate: 20 }],
    cbPayItems: [{ Description: 'Cash', Amount: 3.5 }],
  }),
}

await marketContract('generic', generic)
await marketContract('AT', austria)
await marketContract('DE', germany)
await marketContract('ES', spain)
await marketContract('IT (RT device simulator)', italy)
await marketContract('FR', france)
await marketContract('PT', portugal)
await marketContract('external unit (test double, 0x5854)', externalUnit)
