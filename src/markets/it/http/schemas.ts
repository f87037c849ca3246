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
})
