import 'reflect-metadata'
import { webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'
import { keyPem, RSA } from '../../helpers/test-certificates.ts'

/**
 * Self-made test PKI for the Spanish tests: a CA, a TLS server certificate for the simulator
 * (127.0.0.1 / localhost), and a taxpayer certificate used as TLS client certificate and as TicketBAI
 * signing certificate. Generated in the test run; never a real certificate. Not a test file itself.
 */
x509.cryptoProvider.set(webcrypto as unknown as Crypto)

export interface Pem {
  key: string
  cert: string
}

export interface TestPki {
  ca: Pem
  server: Pem
  taxpayer: Pem
  stranger: Pem
}

const generate = () => webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify']) as Promise<CryptoKeyPair>
const notBefore = new Date(Date.now() - 86_400_000)
const notAfter = new Date(Date.now() + 30 * 86_400_000)

async function leaf(
  issuer: { cert: x509.X509Certificate; keys: CryptoKeyPair },
  name: string,
  serial: string,
  extensions: x509.Extension[],
): Promise<Pem> {
  const keys = await generate()
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: name,
    issuer: issuer.cert.subject,
    notBefore,
    notAfter,
    signingAlgorithm: RSA,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    extensions: [new x509.BasicConstraintsExtension(false, undefined, true), ...extensions],
  })
  return { key: await keyPem(keys.privateKey), cert: cert.toString('pem') }
}

async function selfSignedCa(name: string) {
  const keys = await generate()
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name,
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: RSA,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  })
  return { cert, keys }
}

let cached: Promise<TestPki> | undefined

export function testPki(): Promise<TestPki> {
  cached ??= (async () => {
    const ca = await selfSignedCa('CN=fiscalbox test CA, O=fiscalbox tests, C=ES')
    const other = await selfSignedCa('CN=unknown CA, C=ES')
    const server = await leaf(ca, 'CN=localhost', '0a01', [
      new x509.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'dns', value: 'localhost' },
      ]),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    ])
    const taxpayer = await leaf(
      ca,
      'CN=EMPRESA DE PRUEBA SL - B12345678, O=Empresa de Prueba SL, C=ES',
      '7f3a9c01',
      [
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation,
          true,
        ),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      ],
    )
    const stranger = await leaf(other, 'CN=stranger', '05', [])
    return {
      ca: { key: await keyPem(ca.keys.privateKey), cert: ca.cert.toString('pem') },
      server,
      taxpayer,
      stranger,
    }
  })()
  return cached
}
