import { Type } from 'typebox'

/** The body is checked field by field by markets/it/configuration.ts (400 naming the field); the schema documents it. */
export const ItConfigBody = Type.Object(
  {
    device: Type.String({ description: 'epson-rt: an Epson RT printer or server, fpmate protocol' }),
    url: Type.String({
      description: "the device's http(s) base URL; requests go to {url}/cgi-bin/fpmate.cgi",
    }),
    timeoutMs: Type.Optional(
      Type.Integer({
        description:
          "how long one request may take before the device's last document is read back (100 to 60000, default 10000)",
      }),
    ),
    departments: Type.Optional(
      Type.Record(Type.String(), Type.Integer(), {
        description:
          'VAT rate -> department programmed in the device (default {"22": 1, "10": 2, "5": 3, "4": 4, "0": 5})',
      }),
    ),
    failedMode: Type.Optional(
      Type.Boolean({
        description:
          'failed mode (default false): while the device cannot be reached, documents are held (ftState 0x2) and the next zero receipt that reaches it sends them in order',
      }),
    ),
  },
  { additionalProperties: false },
)

export const ItConfig = Type.Object({
  device: Type.String(),
  url: Type.String(),
  timeoutMs: Type.Integer(),
  departments: Type.Record(Type.String(), Type.Integer(), {
    description: 'VAT rate (two or more decimals, e.g. "22.00") -> department',
  }),
  failedMode: Type.Boolean(),
})

/** A receipt held in failed mode, and the document the device printed for it once it was sent. */
export const ItHeldReceipt = Type.Object({
  receiptNumber: Type.Integer({
    description: "the cash box's receipt number (ftReceiptIdentification ft{n:X}#)",
  }),
  receiptReference: Type.String({ description: 'cbReceiptReference' }),
  state: Type.Union(
    [Type.Literal('held'), Type.Literal('sent'), Type.Literal('printed'), Type.Literal('refused')],
    {
      description:
        'held: waits for the device; sent: sent without an answer, looked for on the device first; printed; refused by the device (issue it again)',
    },
  ),
  error: Type.Optional(Type.String({ description: "the device's refusal" })),
  document: Type.Optional(
    Type.Object({
      serialNumber: Type.String(),
      zNumber: Type.Integer(),
      documentNumber: Type.Integer(),
      moment: Type.String({ description: "the device's clock, yyyy-MM-dd HH:mm:ss" }),
    }),
  ),
})

export const ItHeldReceipts = Type.Object({ receipts: Type.Array(ItHeldReceipt) })
