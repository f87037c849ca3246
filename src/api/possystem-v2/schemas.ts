import { Type } from 'typebox'

const Decimal = Type.Union([Type.Number(), Type.String({ maxLength: 40 })], {
  description: 'decimal amount: a JSON number or a decimal string such as "12.50"',
})
const CaseCode = Type.Union([Type.Number(), Type.String({ maxLength: 20 })], {
  description:
    '64-bit case code: hex string such as "0x4555200000000001", or a number (exact digits kept); a country code without the version nibble reads as version 2',
})
const Text = (maxLength: number, description?: string) =>
  Type.String({ maxLength, ...(description ? { description } : {}) })

export const ChargeItem = Type.Object(
  {
    Quantity: Decimal,
    Description: Text(1000),
    Amount: Decimal,
    VATRate: Decimal,
    ftChargeItemCase: Type.Optional(CaseCode),
    VATAmount: Type.Optional(Decimal),
    ProductNumber: Type.Optional(Text(200)),
  },
  { additionalProperties: true },
)

export const PayItem = Type.Object(
  {
    Description: Text(1000),
    Amount: Decimal,
    Quantity: Type.Optional(Decimal),
    ftPayItemCase: Type.Optional(CaseCode),
  },
  { additionalProperties: true },
)

export const ReceiptRequest = Type.Object(
  {
    cbReceiptReference: Type.String({ minLength: 1, maxLength: 200 }),
    cbReceiptMoment: Type.String({ maxLength: 40, description: 'UTC, ISO 8601' }),
    cbTerminalID: Type.Optional(Text(200)),
    ftReceiptCase: Type.Optional(CaseCode),
    cbChargeItems: Type.Array(ChargeItem, { maxItems: 2000 }),
    cbPayItems: Type.Array(PayItem, { maxItems: 500 }),
    cbPreviousReceiptReference: Type.Optional(
      Type.Union([Text(200), Type.Array(Text(200), { maxItems: 100 })]),
    ),
    ftCashBoxID: Type.Optional(Text(64)),
    ftPosSystemId: Type.Optional(Text(64)),
    ftQueueID: Type.Optional(Text(64)),
  },
  { additionalProperties: true },
)

/** A case code in a response: in the request's form (docs/possystem-api-v2.md, numbers and case codes). */
const AnsweredCode = (description: string) =>
  Type.Union([Type.String(), Type.Integer()], {
    description: `${description}: a hex string, or a JSON number of exact digits when the request's case codes were numbers`,
  })

const Signature = Type.Object({
  ftSignatureFormat: AnsweredCode('signature format'),
  ftSignatureType: AnsweredCode('signature type'),
  Caption: Type.String(),
  Data: Type.String(),
})

export const ReceiptResponse = Type.Object({
  ftQueueID: Type.String({ format: 'uuid' }),
  ftQueueItemID: Type.String({ format: 'uuid' }),
  ftQueueRow: Type.Integer(),
  ftCashBoxIdentification: Type.String(),
  ftCashBoxID: Type.String({ format: 'uuid' }),
  cbTerminalID: Type.String(),
  cbReceiptReference: Type.String(),
  ftReceiptIdentification: Type.String({
    description: 'ft{receipt number in hex}#, empty when no number was used',
  }),
  ftReceiptMoment: Type.String(),
  ftSignatures: Type.Array(Signature),
  ftState: AnsweredCode('CCCC_vlll_gggggggg'),
  ftStateData: Type.Optional(Type.Unknown()),
})

const Uuid = Type.String({
  pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
})

export const CashboxHeaders = Type.Object({
  'x-cashbox-id': Type.Optional(Type.String({ description: 'cash box id (UUID)' })),
  'x-cashbox-accesstoken': Type.Optional(Type.String({ description: 'access token of the cash box' })),
  'x-possystem-id': Type.Optional(Type.String()),
  'x-terminal-id': Type.Optional(Type.String()),
})

/** Headers of an idempotent operation (/v2/sign, /v2/pay): cash box credentials and x-operation-id. */
export const OperationHeaders = Type.Intersect([
  CashboxHeaders,
  Type.Object({
    'x-operation-id': Uuid,
    'x-operation-lifetime': Type.Optional(
      Type.String({
        pattern: '^\\d{1,7}$',
        description: 'ms a duplicate waits for the first call (default 15000)',
      }),
    ),
  }),
])
export const SignHeaders = OperationHeaders

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    error: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Object({ field: Type.String(), reason: Type.String() })),
  },
  { additionalProperties: true },
)

export const problemResponses = {
  400: Problem,
  401: Problem,
  404: Problem,
  409: Problem,
  413: Problem,
  415: Problem,
  422: Problem,
  429: Problem,
  503: Problem,
}
