import { Type } from 'typebox'

/** The body is checked field by field by markets/pt/configuration.ts (400 naming the field); the schema documents it. */
const Series = Type.Object(
  {
    documentType: Type.String({ description: 'FT invoice, FS simplified invoice, NC credit note' }),
    series: Type.String({ description: 'the series name registered with the AT (no spaces or slashes)' }),
    validationCode: Type.String({
      description: 'the validation code the AT gave the series; ATCUD = {code}-{number}',
    }),
    manual: Type.Optional(
      Type.Boolean({ description: 'true: the series of handwritten documents entered later' }),
    ),
    lastNumber: Type.Optional(
      Type.Integer({ description: 'continue a series: the number of its last document' }),
    ),
    lastHash: Type.Optional(Type.String({ description: 'continue a series: the Hash of its last document' })),
  },
  { additionalProperties: false },
)

const Address = Type.Object(
  {
    addressDetail: Type.String(),
    city: Type.String(),
    postalCode: Type.String({ description: 'e.g. 1000-001' }),
  },
  { additionalProperties: false },
)

export const PtConfigBody = Type.Object(
  {
    nif: Type.String({ description: "the issuer's Portuguese NIF (nine digits)" }),
    companyName: Type.String(),
    address: Type.Optional(Address),
    certificateNumber: Type.String({
      description: "the program's AT certificate number, printed as n.º {n}/AT",
    }),
    region: Type.Optional(
      Type.String({
        description: 'PT (mainland, default), PT-AC (Azores), PT-MA (Madeira): rates and local time',
      }),
    ),
    privateKey: Type.Optional(
      Type.String({
        description:
          'PEM of the RSA signing key registered with the AT; required the first time, kept (sealed by the master key) when left out',
      }),
    ),
    keyVersion: Type.Optional(
      Type.Integer({ description: "the key's version (SAF-T HashControl), default 1" }),
    ),
    series: Type.Array(Series, { description: 'the registered series, one per document type (and manual)' }),
  },
  { additionalProperties: false },
)

export const PtConfig = Type.Object({
  nif: Type.String(),
  companyName: Type.String(),
  address: Address,
  certificateNumber: Type.String(),
  region: Type.String(),
  keyVersion: Type.Integer(),
  publicKey: Type.String({ description: 'PEM public key of the signing key, for verifiers' }),
  series: Type.Array(
    Type.Object({
      documentType: Type.String(),
      series: Type.String(),
      validationCode: Type.String(),
      manual: Type.Boolean(),
      lastNumber: Type.Integer(),
      lastHash: Type.String(),
    }),
  ),
})
