import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startSimulator } from '../../../src/markets/es/simulator/app.ts'
import { TicketBaiAuthority } from '../../../src/markets/es/ticketbai/authority.ts'
import {
  cancelTicketBai,
  emptyTicketBaiChain,
  issueTicketBai,
  type TicketBaiRecord,
} from '../../../src/markets/es/ticketbai/issue.ts'
import { TBAI_PATHS } from '../../../src/markets/es/ticketbai/protocol.ts'
import type { Territory } from '../../../src/markets/es/ticketbai/territories.ts'
import { verifyEnvelopedSignature } from '../../../src/markets/es/ticketbai/verify-signature.ts'
import { type TestPki, testPki } from './certificates.ts'
import { sampleInvoice, xmlsecVerify } from './support.ts'

type Sim = Awaited<ReturnType<typeof startSimulator>>

function issueMany(
  pki: TestPki,
  territory: Territory,
  count: number,
  signer = pki.taxpayer,
): TicketBaiRecord[] {
  let state = emptyTicketBaiChain()
  const records: TicketBaiRecord[] = []
  for (let i = 1; i <= count; i++) {
    const made = issueTicketBai(
      state,
      sampleInvoice({ territory, number: String(1000 + i), issuedAt: new Date(Date.UTC(2025, 9, 19, 8, i)) }),
      { key: signer.key, certificate: signer.cert },
    )
    records.push(made.record)
    state = made.state
  }
  return records
}

describe('TicketBAI clients against the simulator over HTTPS with a client certificate', () => {
  let pki: TestPki
  let sim: Sim
  const authorityFor = (territory: Territory) => authority(territory)
  const authority = (territory: Territory) =>
    new TicketBaiAuthority({
      territory,
      endpoint: `${sim.url}${territory === 'bizkaia' ? TBAI_PATHS.lroe : TBAI_PATHS.upload}/${territory}`,
      cancelEndpoint: `${sim.url}${TBAI_PATHS.cancel}/${territory}`,
      queryEndpoint: `${sim.url}${TBAI_PATHS.query}/${territory}`,
      taxpayer: { nif: 'B12345678', name: 'Empresa de Prueba, SL' },
      certificate: { key: pki.taxpayer.key, cert: pki.taxpayer.cert, ca: pki.ca.cert },
      timeoutMs: 10_000,
    })

  before(async () => {
    pki = await testPki()
    sim = await startSimulator({
      https: { key: pki.server.key, cert: pki.server.cert, ca: pki.ca.cert, requestCert: true },
      ticketbai: { trustedCa: pki.ca.cert },
    })
  })
  after(() => sim.close())

  for (const territory of ['gipuzkoa', 'araba'] as const) {
    it(`${territory}: a chain of three invoices is received one by one, with the identifiers the service computes`, async () => {
      const records = issueMany(pki, territory, 3)
      for (const record of records) {
        assert.ok(xmlsecVerify(record.xml, pki.ca.cert).ok)
        const result = await authority(territory).submit([record])
        assert.equal(result.kind, 'answered', JSON.stringify(result))
        if (result.kind !== 'answered') return
        assert.equal(result.outcomes[0]?.status, 'accepted', JSON.stringify(result.outcomes))
        assert.deepEqual(await authority(territory).query(record), {
          kind: 'registered',
          sameRecord: true,
          authorityState: 'Recibido',
        })
      }
      const received = [...sim.ticketbai.invoices.values()].filter((i) => i.territory === territory)
      assert.deepEqual(
        received.map((i) => i.identifier),
        records.map((r) => r.identifier),
      )
      assert.ok(
        received.every((i) => i.warnings.length === 0),
        'the chain is unbroken',
      )
      assert.equal(
        records[1]?.xml.includes(
          `<SignatureValueFirmaFacturaAnterior>${records[0]?.signatureValue.slice(0, 100)}<`,
        ),
        true,
      )
    })
  }

  it('refuses duplicates, tampered documents, another territory policy and an untrusted signer', async () => {
    const [record] = issueMany(pki, 'gipuzkoa', 1).map((r) => ({
      ...r,
      xml: r.xml.replaceAll('>1001<', '>2001<'),
    }))
    // The number was changed after signing: the signature no longer verifies.
    const tampered = await authority('gipuzkoa').submit([record as TicketBaiRecord])
    assert.equal(tampered.kind === 'answered' && tampered.outcomes[0]?.code, '002')
    assert.equal(tampered.kind === 'answered' && tampered.outcomes[0]?.status, 'rejected')
    const [fresh] = issueMany(pki, 'araba', 1).map((r) => ({ ...r, number: '9001', xml: r.xml }))
    const wrongPolicy = await authority('gipuzkoa').submit([
      { ...(fresh as TicketBaiRecord), territory: 'gipuzkoa' },
    ])
    assert.equal(wrongPolicy.kind === 'answered' && wrongPolicy.outcomes[0]?.code, '003')
    const [stranger] = issueMany(pki, 'gipuzkoa', 1, pki.stranger)
    const untrusted = await authority('gipuzkoa').submit([stranger as TicketBaiRecord])
    assert.equal(untrusted.kind === 'answered' && untrusted.outcomes[0]?.code, '004')
    const [first] = [...sim.ticketbai.invoices.values()].filter((i) => i.territory === 'gipuzkoa')
    const again = await authority('gipuzkoa').submit([
      {
        kind: 'alta',
        territory: 'gipuzkoa',
        issuerNif: 'B12345678',
        series: 'T',
        number: first?.number ?? '',
        issueDate: first?.issueDate ?? '',
        total: '4.70',
        identifier: first?.identifier ?? '',
        qrUrl: '',
        signatureValue: first?.signatureValue ?? '',
        xml: first?.xml ?? '',
      },
    ])
    assert.equal(again.kind === 'answered' && again.outcomes[0]?.status, 'duplicate')
  })

  it('bizkaia: one LROE batch carries many invoices, each answered on its own', async () => {
    const records = issueMany(pki, 'bizkaia', 25)
    const bizkaia = authority('bizkaia')
    assert.equal(bizkaia.maxBatch, 1000)
    assert.equal(authority('gipuzkoa').maxBatch, 1)
    const result = await bizkaia.submit(records)
    assert.equal(result.kind, 'answered', JSON.stringify(result))
    if (result.kind !== 'answered') return
    assert.equal(result.outcomes.length, 25)
    assert.ok(
      result.outcomes.every((o) => o.status === 'accepted'),
      JSON.stringify(result.outcomes.slice(0, 2)),
    )
    const resent = await bizkaia.submit(records.slice(0, 2))
    assert.deepEqual(resent.kind === 'answered' && resent.outcomes.map((o) => o.status), [
      'duplicate',
      'duplicate',
    ])
    assert.deepEqual(await bizkaia.query(records[24] as TicketBaiRecord), {
      kind: 'registered',
      sameRecord: true,
      authorityState: 'Recibido',
    })
  })

  it('notes a broken chain (a skipped invoice) without refusing the invoice', async () => {
    let state = emptyTicketBaiChain()
    const records = [1, 2, 3].map((i) => {
      const made = issueTicketBai(
        state,
        sampleInvoice({ territory: 'araba', series: 'C', number: String(i) }),
        {
          key: pki.taxpayer.key,
          certificate: pki.taxpayer.cert,
        },
      )
      state = made.state
      return made.record
    })
    await authority('araba').submit([records[0] as TicketBaiRecord])
    const skipped = await authority('araba').submit([records[2] as TicketBaiRecord])
    assert.equal(skipped.kind === 'answered' && skipped.outcomes[0]?.status, 'accepted_with_errors')
    assert.equal(skipped.kind === 'answered' && skipped.outcomes[0]?.code, '006')
  })
  it('keeps one chain per issuing device (NumSerieDispositivo), not per NIF: two cash boxes of one issuer interleave without 006', async () => {
    // Gipuzkoa's TicketBAI FAQ "Encadenamiento por series": each invoice identifies the previous one of
    // the billing device; several devices each issuing in a series of their own chain within it.
    const chainOf = (device: string, series: string, count = 2) => {
      let state = emptyTicketBaiChain()
      return Array.from({ length: count }, (_, k) => k + 1).map((i) => {
        const made = issueTicketBai(
          state,
          sampleInvoice({
            territory: 'gipuzkoa',
            series,
            number: String(i),
            deviceSerial: device,
            issuedAt: new Date(Date.UTC(2025, 9, 20, 9, i)),
          }),
          { key: pki.taxpayer.key, certificate: pki.taxpayer.cert },
        )
        state = made.state
        return made.record
      })
    }
    const [a1, a2] = chainOf('CAJA-A-CHAIN', 'CA') as [TicketBaiRecord, TicketBaiRecord]
    const [b1, b2] = chainOf('CAJA-B-CHAIN', 'CB') as [TicketBaiRecord, TicketBaiRecord]
    for (const record of [a1, b1, a2, b2]) {
      const answer = await authority('gipuzkoa').submit([record])
      assert.equal(answer.kind, 'answered')
      assert.deepEqual(
        answer.kind === 'answered' && answer.outcomes.map((o) => [o.status, o.code ?? null]),
        [['accepted', null]],
        `${record.series}${record.number}`,
      )
    }
    // A device that skips one of its own invoices is still told so.
    const [c1, , c3] = chainOf('CAJA-C-CHAIN', 'CC', 3) as TicketBaiRecord[]
    await authority('gipuzkoa').submit([c1 as TicketBaiRecord])
    const skipped = await authority('gipuzkoa').submit([c3 as TicketBaiRecord])
    assert.equal(skipped.kind === 'answered' && skipped.outcomes[0]?.code, '006')
  })
  for (const territory of ['gipuzkoa', 'bizkaia'] as const) {
    it(`${territory}: cancels invoices; a second cancellation is a duplicate; an unknown invoice is refused`, async () => {
      const cancel = (r: TicketBaiRecord) =>
        cancelTicketBai(
          r,
          { issuerName: 'Empresa de Prueba, SL', software: sampleInvoice().software, at: new Date() },
          {
            key: pki.taxpayer.key,
            certificate: pki.taxpayer.cert,
          },
        )
      let state = emptyTicketBaiChain()
      const invoices = [1, 2].map((i) => {
        const made = issueTicketBai(
          state,
          sampleInvoice({
            territory,
            issuer: { nif: territory === 'bizkaia' ? 'B11111111' : 'B22222222', name: 'Otra Empresa SL' },
            series: 'K',
            number: String(i),
          }),
          {
            key: pki.taxpayer.key,
            certificate: pki.taxpayer.cert,
          },
        )
        state = made.state
        return made.record
      })
      const authority = authorityFor(territory)
      for (const batch of territory === 'bizkaia' ? [invoices] : invoices.map((r) => [r])) {
        const sent = await authority.submit(batch)
        assert.ok(
          sent.kind === 'answered' && sent.outcomes.every((o) => o.status === 'accepted'),
          JSON.stringify(sent),
        )
      }
      const cancellations = invoices.map(cancel)
      assert.deepEqual(await authority.query(cancellations[0] as TicketBaiRecord), { kind: 'not_registered' })
      await assert.rejects(
        authority.submit([invoices[0] as TicketBaiRecord, cancellations[0] as TicketBaiRecord]),
        territory === 'bizkaia' ? /either invoices or cancellations/ : /1 to 1 invoices/,
      )
      const done = await authority.submit(
        territory === 'bizkaia' ? cancellations : [cancellations[0] as TicketBaiRecord],
      )
      assert.ok(
        done.kind === 'answered' && done.outcomes.every((o) => o.status === 'accepted'),
        JSON.stringify(done),
      )
      assert.deepEqual(await authority.query(cancellations[0] as TicketBaiRecord), {
        kind: 'registered',
        sameRecord: true,
        authorityState: 'Anulado',
      })
      const again = await authority.submit([cancellations[0] as TicketBaiRecord])
      assert.equal(again.kind === 'answered' && again.outcomes[0]?.status, 'duplicate')
      const stranger = cancel({ ...(invoices[0] as TicketBaiRecord), number: '999' })
      const unknown = await authority.submit([stranger])
      assert.equal(unknown.kind === 'answered' && unknown.outcomes[0]?.code, '007')
    })
  }
})

describe('the simulator verifies signatures itself', () => {
  it('accepts what xmlsec1 accepts and names the broken reference otherwise', async () => {
    const pki = await testPki()
    const [record] = issueMany(pki, 'gipuzkoa', 1)
    const good = verifyEnvelopedSignature(record?.xml ?? '')
    assert.deepEqual(good.problems, [])
    assert.equal(good.signatureValue, record?.signatureValue)
    const bad = verifyEnvelopedSignature((record?.xml ?? '').replace('<Descuento>0.00<', '<Descuento>0.01<'))
    assert.equal(bad.ok, false)
    assert.match(bad.problems.join(), /Reference : digest mismatch/)
  })
})
