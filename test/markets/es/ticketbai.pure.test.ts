import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { crc8, crc8Text } from '../../../src/markets/es/ticketbai/crc8.ts'
import {
  tbaiIdentifier,
  tbaiIdentifierValid,
  tbaiQrUrl,
} from '../../../src/markets/es/ticketbai/identifier.ts'
import { buildInvoice } from '../../../src/markets/es/ticketbai/invoice.ts'
import {
  cancelTicketBai,
  emptyTicketBaiChain,
  issueTicketBai,
} from '../../../src/markets/es/ticketbai/issue.ts'
import { TERRITORIES, TERRITORY_RULES } from '../../../src/markets/es/ticketbai/territories.ts'
import { signEnveloped } from '../../../src/markets/es/ticketbai/xades.ts'
import { C14N_EXCLUSIVE, C14N_INCLUSIVE } from '../../../src/markets/es/xml/c14n.ts'
import { testPki } from './certificates.ts'
import { sampleInvoice, xmlsecVerify } from './support.ts'
import { VECTORS } from './xsd.ts'

const vectors = JSON.parse(readFileSync(join(VECTORS, 'ticketbai-vectors.json'), 'utf8')) as {
  tbaiId: { input_for_crc: string; expected: string; recomputed_crc: string }
  qr: { example: string; recomputed_crc: string; bases: Record<string, string> }
  xadesPolicy: Record<string, { url: string; digestSHA256: string }>
}

describe('TicketBAI identifier and QR: the published examples', () => {
  it('CRC-8 of the identifier example', () => {
    assert.equal(crc8Text(vectors.tbaiId.input_for_crc), vectors.tbaiId.recomputed_crc)
    assert.equal(
      `${vectors.tbaiId.input_for_crc}${crc8Text(vectors.tbaiId.input_for_crc)}`,
      vectors.tbaiId.expected,
    )
  })

  it('builds the identifier from NIF, date and signature value', () => {
    // The signature value only contributes its first 13 characters.
    assert.equal(
      tbaiIdentifier('00000006Y', '25-10-2019', 'btFpwP8dcLGAFxxxxxxxxxxxxxxx'),
      vectors.tbaiId.expected,
    )
    assert.ok(tbaiIdentifierValid(vectors.tbaiId.expected))
    assert.equal(tbaiIdentifierValid(vectors.tbaiId.expected.replace('-237', '-238')), false)
  })

  it('reproduces the QR example with its CRC', () => {
    const url = tbaiQrUrl('bizkaia', {
      identifier: vectors.tbaiId.expected,
      series: 'T',
      number: '27174',
      total: '4.70',
    })
    assert.equal(url, vectors.qr.example)
    assert.ok(url.endsWith(`&cr=${vectors.qr.recomputed_crc}`))
  })

  it('uses each territory base and omits s= without a series', () => {
    assert.equal(TERRITORY_RULES.bizkaia.qrBase, vectors.qr.bases.Bizkaia)
    assert.equal(TERRITORY_RULES.gipuzkoa.qrBase, vectors.qr.bases.Gipuzkoa)
    assert.equal(TERRITORY_RULES.araba.qrBase, vectors.qr.bases.Araba)
    const url = tbaiQrUrl('gipuzkoa', { identifier: vectors.tbaiId.expected, number: '1', total: '1.00' })
    assert.match(
      url,
      /^https:\/\/tbai\.egoitza\.gipuzkoa\.eus\/qr\/\?id=TBAI-00000006Y-251019-btFpwP8dcLGAF-237&nf=1&i=1\.00&cr=\d{3}$/,
    )
  })

  it('the territory policies are those of the vectors', () => {
    for (const [name, policy] of Object.entries(vectors.xadesPolicy)) {
      if (name === 'source') continue
      const rules = TERRITORY_RULES[name.toLowerCase() as 'araba']
      assert.equal(rules.policy.identifier, policy.url)
      assert.equal(rules.policy.digestSha256, policy.digestSHA256)
    }
  })

  it('property: CRC-8 detects every single-character change', () => {
    fc.assert(
      fc.property(
        fc.string({
          minLength: 1,
          maxLength: 80,
          unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-+/='.split('')),
        }),
        fc.nat(),
        (s, at) => {
          const i = at % s.length
          const changed = s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1)
          assert.notEqual(crc8(changed), crc8(s))
        },
      ),
    )
  })
})

describe('TicketBAI XAdES-EPES signature, verified by xmlsec1', () => {
  for (const method of [C14N_INCLUSIVE, C14N_EXCLUSIVE] as const) {
    for (const territory of TERRITORIES) {
      it(`${territory}, ${method === C14N_INCLUSIVE ? 'inclusive' : 'exclusive'} C14N: xmlsec1 --verify accepts it`, async () => {
        const pki = await testPki()
        const invoice = buildInvoice(sampleInvoice({ territory }), {
          previous: {
            series: 'T',
            number: '27173',
            issueDate: '19-10-2025',
            signatureValue: 'x'.repeat(120),
          },
        })
        const signed = signEnveloped(
          invoice.document,
          { key: pki.taxpayer.key, certificate: pki.taxpayer.cert },
          {
            policy: TERRITORY_RULES[territory].policy,
            signingTime: new Date('2025-10-19T08:15:01Z'),
            c14n: method,
          },
        )
        const result = xmlsecVerify(signed.xml, pki.ca.cert)
        assert.ok(result.ok, result.output)
        assert.match(
          signed.xml,
          new RegExp(
            `<xades:Identifier>${TERRITORY_RULES[territory].policy.identifier.replace(/[.?]/g, '\\$&')}</xades:Identifier>`,
          ),
        )
        assert.match(
          signed.xml,
          /<SignatureValueFirmaFacturaAnterior>x{100}<\/SignatureValueFirmaFacturaAnterior>/,
        )
      })
    }
  }

  it('xmlsec1 refuses a tampered amount, a tampered signed property and an untrusted signer', async () => {
    const pki = await testPki()
    const invoice = buildInvoice(sampleInvoice(), { previous: null })
    const signed = signEnveloped(
      invoice.document,
      { key: pki.taxpayer.key, certificate: pki.taxpayer.cert },
      {
        policy: TERRITORY_RULES.gipuzkoa.policy,
        signingTime: new Date('2025-10-19T08:15:01Z'),
      },
    )
    assert.ok(xmlsecVerify(signed.xml, pki.ca.cert).ok)
    assert.equal(
      xmlsecVerify(
        signed.xml.replace('<ImporteTotalFactura>4.70<', '<ImporteTotalFactura>4.71<'),
        pki.ca.cert,
      ).ok,
      false,
    )
    assert.equal(
      xmlsecVerify(
        signed.xml.replace('<xades:MimeType>text/xml<', '<xades:MimeType>text/plain<'),
        pki.ca.cert,
      ).ok,
      false,
    )
    assert.equal(xmlsecVerify(signed.xml, pki.stranger.cert).ok, false)
  })

  it('is deterministic, and the identifier and chain come from the signature value', async () => {
    const pki = await testPki()
    const sign = () =>
      signEnveloped(
        buildInvoice(sampleInvoice(), { previous: null }).document,
        { key: pki.taxpayer.key, certificate: pki.taxpayer.cert },
        {
          policy: TERRITORY_RULES.gipuzkoa.policy,
          signingTime: new Date('2025-10-19T08:15:01Z'),
        },
      )
    const a = sign()
    assert.equal(sign().xml, a.xml)
    assert.match(
      a.xml,
      new RegExp(
        `<ds:SignatureValue Id="[^"]+">${a.signatureValue.replace(/[+/]/g, '\\$&')}</ds:SignatureValue>`,
      ),
    )
    const id = tbaiIdentifier('B12345678', '19-10-2025', a.signatureValue)
    assert.ok(id.startsWith(`TBAI-B12345678-191025-${a.signatureValue.slice(0, 13)}-`))
    assert.ok(tbaiIdentifierValid(id))
  })
})

describe('TicketBAI input rules', () => {
  it('Araba and Gipuzkoa need lines and the recipient address; substitution needs the replaced amounts', () => {
    assert.throws(
      () => buildInvoice(sampleInvoice({ territory: 'araba', lines: [] }), { previous: null }),
      /requires the invoice lines/,
    )
    assert.doesNotThrow(() =>
      buildInvoice(sampleInvoice({ territory: 'bizkaia', lines: [] }), { previous: null }),
    )
    const full = { simplified: false, recipient: { nif: '12345678Z', name: 'Cliente' } }
    assert.throws(
      () => buildInvoice(sampleInvoice({ territory: 'gipuzkoa', ...full }), { previous: null }),
      /postalCode and address/,
    )
    const rectification = {
      code: 'R1' as const,
      type: 'S' as const,
      invoices: [{ series: 'T', number: '1', issueDate: '01-10-2025' }],
    }
    assert.throws(
      () => buildInvoice(sampleInvoice({ rectification }), { previous: null }),
      /replacedBaseCents/,
    )
    const made = buildInvoice(
      sampleInvoice({ rectification: { ...rectification, replacedBaseCents: 100, replacedTaxCents: 21 } }),
      { previous: null },
    )
    assert.match(
      JSON.stringify(made.document),
      /"ImporteRectificacionSustitutiva".*"BaseRectificada".*"1\.00".*"CuotaRectificada".*"0\.21"/,
    )
  })
})

describe('TicketBAI cancellation (AnulaTicketBai)', () => {
  it('is signed with the territory policy, verified by xmlsec1, and leaves the chain alone', async () => {
    const pki = await testPki()
    const credentials = { key: pki.taxpayer.key, certificate: pki.taxpayer.cert }
    const issued = issueTicketBai(emptyTicketBaiChain(), sampleInvoice({ territory: 'araba' }), credentials)
    const cancellation = cancelTicketBai(
      issued.record,
      {
        issuerName: 'Empresa de Prueba, SL',
        software: sampleInvoice().software,
        at: new Date('2025-10-20T09:00:00Z'),
      },
      credentials,
    )
    assert.equal(cancellation.kind, 'anulacion')
    assert.equal(cancellation.identifier, issued.record.identifier)
    assert.match(cancellation.xml, /^<\?xml[^>]*>\n<T:AnulaTicketBai xmlns:T="urn:ticketbai:anulacion">/)
    assert.match(cancellation.xml, /<NumFactura>27174<\/NumFactura><FechaExpedicionFactura>19-10-2025</)
    assert.match(cancellation.xml, /ticketbai\.araba\.eus\/tbai\/sinadura/)
    const verified = xmlsecVerify(cancellation.xml, pki.ca.cert)
    assert.ok(verified.ok, verified.output)
    assert.throws(
      () =>
        cancelTicketBai(
          cancellation,
          { issuerName: 'x', software: sampleInvoice().software, at: new Date() },
          credentials,
        ),
      /only an invoice/,
    )
  })
})
