import { Type } from 'typebox'

const DeviceSpec = Type.Object(
  {
    number: Type.Integer({
      minimum: 0,
      maximum: 999,
      description: 'the device number receipts name in ftReceiptCaseData.AT.SignatureDevice',
    }),
    provider: Type.Optional(
      Type.String({
        pattern: '^AT\\d{1,3}$',
        description: 'AT0 closed system (default), AT1/AT2/AT3 trust provider certificate',
      }),
    ),
    keyId: Type.Optional(
      Type.String({
        maxLength: 40,
        description: 'closed system: key id after the Ordnungsbegriff (default K{number})',
      }),
    ),
    serial: Type.Optional(
      Type.String({
        maxLength: 40,
        description: 'certificate mode: hex serial of the generated test certificate',
      }),
    ),
    privateKey: Type.Optional(
      Type.String({ maxLength: 1000, description: 'import: base64 PKCS#8 DER P-256 private key' }),
    ),
    hosted: Type.Optional(
      Type.Object(
        {
          url: Type.String({ maxLength: 500, description: 'base URL of the hosted HSM service (https)' }),
          sharedSecret: Type.String({
            maxLength: 500,
            description: 'the service shared secret (X-AUTH-TOKEN); sealed by the master key, never shown',
          }),
          timeoutMs: Type.Optional(
            Type.Integer({ minimum: 100, maximum: 60000, description: 'bound of one call (default 5000)' }),
          ),
        },
        {
          additionalProperties: false,
          description: 'sign in a hosted HSM (docs/country-at.md, "Hosted HSM")',
        },
      ),
    ),
    certificate: Type.Optional(
      Type.String({
        maxLength: 8000,
        description: 'import: base64 DER X.509 certificate (certificate mode)',
      }),
    ),
  },
  { additionalProperties: false },
)

export const ProvisionBody = Type.Object(
  {
    kassenId: Type.String({
      minLength: 1,
      maxLength: 100,
      description:
        'Kassen-ID as registered with FinanzOnline; unique across the cash boxes of an account (another cash box holding it: 409 conflict)',
    }),
    aesKey: Type.Optional(
      Type.String({
        maxLength: 100,
        description: 'base64 AES-256 key; generated and shown once when absent',
      }),
    ),
    counterSize: Type.Optional(
      Type.Integer({ minimum: 5, maximum: 16, description: 'turnover counter bytes (default 8)' }),
    ),
    companyId: Type.Optional(
      Type.String({
        maxLength: 64,
        description: 'Ordnungsbegriff for closed-system devices, e.g. U:ATU12345678',
      }),
    ),
    devices: Type.Array(DeviceSpec, { minItems: 1, maxItems: 100 }),
  },
  { additionalProperties: false },
)

export const AddDeviceBody = Type.Intersect([
  DeviceSpec,
  Type.Object({ companyId: Type.Optional(Type.String({ maxLength: 64 })) }),
])

export const DeviceStatusBody = Type.Object(
  {
    inService: Type.Boolean({
      description: 'false: the device failed (receipts get "Sicherheitseinrichtung ausgefallen")',
    }),
  },
  { additionalProperties: false },
)

export const Device = Type.Object({
  number: Type.Integer(),
  provider: Type.String(),
  certificateField: Type.String({ description: 'what receipts carry in the certificate field' }),
  signatureDeviceType: Type.String({ description: 'PUBLIC_KEY (closed system) or CERTIFICATE' }),
  publicKey: Type.String({ description: 'base64 SPKI DER (register it with FinanzOnline for AT0)' }),
  certificate: Type.Optional(Type.String()),
  inService: Type.Boolean(),
  outOfServiceSince: Type.Optional(Type.String()),
})

export const CashboxSummary = Type.Object({
  kassenId: Type.String(),
  counterSize: Type.Integer(),
  aesKeyCheckValue: Type.String({ description: 'Prüfwert of the AES key for FinanzOnline' }),
  aesKey: Type.Optional(Type.String({ description: 'only when generated: shown this once' })),
  devices: Type.Array(Device),
})

export const Dep7Query = Type.Object(
  {
    from: Type.Optional(
      Type.String({ format: 'date-time', description: 'first receipt moment (inclusive)' }),
    ),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'last receipt moment (inclusive)' })),
  },
  { additionalProperties: false },
)
