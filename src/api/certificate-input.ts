import type { CertificateInput, CertificateUse } from '../core/certificates/bundle.ts'
import type { ImportRequest } from '../core/certificates/certificates.ts'
import { invalid } from '../core/errors.ts'

/** A certificate to import as both HTTP surfaces receive it: the API's JSON body, the dashboard's form. */
export interface CertificateFields {
  /** The .p12 / .pfx file, base64. */
  pkcs12?: string | undefined
  pem?: string | undefined
  password?: string | undefined
  name?: string | undefined
  uses?: CertificateUse[] | undefined
}

/** The largest file (base64) or PEM text, password and name either surface takes. */
export const CERTIFICATE_LIMITS = { text: 200_000, password: 1_000, name: 200 } as const

const BASE64 = /^[A-Za-z0-9+/\s]+={0,2}\s*$/

/** What the certificate service imports, from the fields; it reads and checks the certificate itself. */
export function importRequestOf(fields: CertificateFields): ImportRequest {
  if ((fields.pkcs12 === undefined) === (fields.pem === undefined))
    throw invalid(
      'body',
      'send exactly one of pkcs12 (a .p12 / .pfx file, base64) and pem (the PEM private key and certificates)',
    )
  let input: CertificateInput
  if (fields.pkcs12 !== undefined) {
    if (!BASE64.test(fields.pkcs12)) throw invalid('pkcs12', 'must be the .p12 / .pfx file in base64')
    if (fields.password === undefined) throw invalid('password', 'is required with pkcs12')
    input = { format: 'pkcs12', data: Buffer.from(fields.pkcs12, 'base64'), password: fields.password }
  } else {
    input = {
      format: 'pem',
      pem: fields.pem as string,
      ...(fields.password ? { password: fields.password } : {}),
    }
  }
  return {
    input,
    ...(fields.name ? { name: fields.name } : {}),
    ...(fields.uses ? { uses: fields.uses } : {}),
  }
}
