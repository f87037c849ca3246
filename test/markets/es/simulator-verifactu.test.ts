import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { VERIFACTU_PATH } from '../../../src/markets/es/verifactu/namespaces.ts'
import { VerifactuAuthority } from '../../../src/markets/es/verifactu/authority.ts'
import {
  chainAlta,
  emptyChain,
  recordKey,
  type VerifactuRecord,
} from '../../../src/markets/es/verifactu/records.ts'
import { startSimulator } from '../../../src/markets/es/simulator/app.ts'
import { postXml } from '../../../src/markets/es/transport.ts'
import { parseXml } from '../../../src/markets/es/xml/parse.ts'
import { serialize, serializeDocument } from '../../../src/markets/es/xml/serialize.ts'
import { childAt, childElements } from '../../../src/markets/es/xml/tree.ts'
import { soapEnvelope, submissionBody } from '../../../src/markets/es/verifactu/xml.ts'
import { consultaBody } from '../../../src/markets/es/verifactu/consulta.ts'
import { testPki, type TestPki } from './certificates.ts'
import { SYSTEM, sampleChain } from './support.ts'
import { xmllint } from './xsd.ts'

const TAXPAYER = { nif: 'B12345678', name: 'Bar Ejemplo & Cía' }
type Sim = Awaited<ReturnType<typeof startSimulator>>

/** The AEAT answer body element on its own (it declares its namespaces), for xmllint. */
const answerBody = (xml: string) =>
  serialize(childElements(childAt(parseXml(xml), 'Body') ?? parseXml(xml))[0] ?? assert.fail('no body'))

describe('VeriFactu client against the simulator over HTTPS with a client certificate', () => {
  let pki: TestPki
  let sim: Sim
  const authority = (over: Partial<ConstructorParameters<typeof VerifactuAuthority>[0]> = {}) =>
    new VerifactuAuthority({
      endpoint: `${sim.url}${VERIFACTU_PATH}`,
      taxpayer: TAXPAYER,
      certificate: { key: pki.taxpayer.key, cert: pki.taxpayer.cert, ca: pki.ca.cert },
      timeoutMs: 10_000,
      ...over,
    })

  before(async () => {
    pki = await testPki()
    sim = await startSimulator({
      https: { key: pki.server.key, cert: pki.server.cert, ca: pki.ca.cert, requestCert: true },
    })
  })
  after(() => sim.close())

  it('registers a chain of altas and anulaciones: every record Correcto, then each is found by query', async () => {
    const records = sampleChain(40)
    const result = await authority().submit(records, { now: new Date('2025-03-30T00:31:00Z') })
    assert.equal(result.kind, 'answered', JSON.stringify(result))
    if (result.kind !== 'answered') return
    assert.deepEqual(
      result.outcomes.map((o) => o.status),
      records.map(() => 'accepted'),
    )
    assert.deepEqual(
      result.outcomes.map((o) => o.key),
      records.map(recordKey),
    )
    assert.ok(result.outcomes.every((o) => o.csv && o.authorityState === 'Correcto'))
    const alta = records[0] as VerifactuRecord
    assert.deepEqual(await authority().query(alta), {
      kind: 'registered',
      sameRecord: true,
      authorityState: 'Correcto',
    })
    const cancelled = records.find((r) => r.kind === 'anulacion') as VerifactuRecord
    assert.equal((await authority().query(cancelled)).kind, 'registered')
    const never = { ...alta, seriesNumber: 'NEVER-SENT' }
    assert.deepEqual(await authority().query(never), { kind: 'not_registered' })
  })

  it('answers with XML that validates against RespuestaSuministro.xsd and RespuestaConsultaLR.xsd', async () => {
    const records = sampleChain(3, new Date('2025-04-02T10:00:00Z')).map((r, i) => ({
      ...r,
      system: { ...SYSTEM, installationNumber: 'xsd-check' },
      ...(i === 1 ? { huella: 'A'.repeat(64) } : {}),
    }))
    // Wrong hashes on purpose: the answer then also carries error codes.
    const sent = await postXml(
      `${sim.url}${VERIFACTU_PATH}`,
      serializeDocument(soapEnvelope(submissionBody({ taxpayer: TAXPAYER }, records))),
      {
        contentType: 'text/xml',
        timeoutMs: 10_000,
        certificate: { key: pki.taxpayer.key, cert: pki.taxpayer.cert, ca: pki.ca.cert },
      },
    )
    assert.equal(sent.kind, 'answer')
    if (sent.kind !== 'answer') return
    const response = xmllint(answerBody(sent.body), 'RespuestaSuministro.xsd')
    assert.ok(response.ok, response.output)
    assert.match(sent.body, /AceptadoConErrores/)
    const consulta = serializeDocument(soapEnvelope(consultaBody(TAXPAYER, records[0] as VerifactuRecord)))
    assert.ok(xmllint(serialize(consultaBody(TAXPAYER, records[0] as VerifactuRecord)), 'ConsultaLR.xsd').ok)
    const answered = await postXml(`${sim.url}${VERIFACTU_PATH}`, consulta, {
      contentType: 'text/xml',
      timeoutMs: 10_000,
      certificate: { key: pki.taxpayer.key, cert: pki.taxpayer.cert, ca: pki.ca.cert },
    })
    assert.equal(answered.kind, 'answer')
    if (answered.kind !== 'answer') return
    const consulted = xmllint(answerBody(answered.body), 'RespuestaConsultaLR.xsd')
    assert.ok(consulted.ok, consulted.output)
    assert.match(answered.body, /ConDatos/)
  })

  it('refuses a client without certificate (retryable, nothing registered)', async () => {
    const before = sim.aeat.submissions
    const result = await authority({ certificate: { ca: pki.ca.cert } }).submit(
      sampleChain(1, new Date('2025-05-01T00:00:00Z')),
    )
    assert.equal(result.kind, 'retryable')
    assert.equal(sim.aeat.submissions, before)
  })

  it('one bad record does not block the others; a wrong hash is accepted with errors; a resend is a duplicate', async () => {
    const start = new Date('2025-06-01T08:00:00Z')
    const records = sampleChain(6, start).map((r) => ({
      ...r,
      system: { ...SYSTEM, installationNumber: 'mixed' },
    }))
    const broken = records.map((r, i) =>
      i === 2
        ? ({ ...r, invoiceType: 'X9' } as unknown as VerifactuRecord)
        : i === 4
          ? { ...r, huella: '0'.repeat(64) }
          : r,
    )
    const result = await authority().submit(broken, { now: start })
    assert.equal(result.kind, 'answered')
    if (result.kind !== 'answered') return
    const statuses = result.outcomes.map((o) => o.status)
    assert.equal(statuses[2], 'rejected')
    assert.equal(result.outcomes[2]?.code, '1100')
    assert.equal(statuses[4], 'accepted_with_errors')
    assert.equal(result.outcomes[4]?.code, '2000')
    // The record after the zeroed hash links to the real one: the simulator notes the broken link.
    assert.equal(statuses[5], 'accepted_with_errors')
    assert.deepEqual([statuses[0], statuses[1], statuses[3]], ['accepted', 'accepted', 'accepted'])
    const again = await authority().submit([records[0] as VerifactuRecord], { now: start })
    assert.equal(again.kind, 'answered')
    if (again.kind !== 'answered') return
    assert.equal(again.outcomes[0]?.status, 'duplicate')
    assert.equal(again.outcomes[0]?.code, '3000')
  })

  it('sends records older than the late threshold with Incidencia=S', async () => {
    const made = new Date('2025-07-01T08:00:00Z')
    const records = sampleChain(2, made).map((r) => ({
      ...r,
      system: { ...SYSTEM, installationNumber: 'late' },
    }))
    const result = await authority({ lateAfterSeconds: 300 }).submit(records, {
      now: new Date(made.getTime() + 3600_000),
    })
    assert.equal(result.kind, 'answered')
    const registered = sim.aeat.invoices.get(`B12345678|${records[0]?.seriesNumber}|${records[0]?.issueDate}`)
    assert.equal(registered?.incident, true)
    const fresh = sampleChain(1, new Date('2025-07-02T08:00:00Z')).map((r) => ({
      ...r,
      system: { ...SYSTEM, installationNumber: 'fresh' },
    }))
    await authority().submit(fresh, { now: new Date('2025-07-02T08:00:30Z') })
    assert.equal(
      sim.aeat.invoices.get(`B12345678|${fresh[0]?.seriesNumber}|${fresh[0]?.issueDate}`)?.incident,
      false,
    )
  })
})

describe('TiempoEsperaEnvio and the 1000-record limit', () => {
  let sim: Sim
  before(async () => {
    sim = await startSimulator({ aeat: { waitSeconds: 60, enforceWait: true } })
  })
  after(() => sim.close())

  it('waits as told before a small submission, sends a full batch of 1000 at once, and the service enforces it too', async () => {
    const authority = new VerifactuAuthority({ endpoint: `${sim.url}${VERIFACTU_PATH}`, taxpayer: TAXPAYER })
    const records = sampleChain(1002, new Date('2025-08-01T08:00:00Z'))
    const first = await authority.submit(records.slice(0, 1))
    assert.equal(first.kind, 'answered')
    if (first.kind !== 'answered') return
    assert.equal(first.waitSeconds, 60)
    const early = await authority.submit(records.slice(1, 2))
    assert.equal(early.kind, 'retryable')
    assert.ok(early.kind === 'retryable' && (early.retryAfterSeconds ?? 0) > 50)
    assert.equal(sim.aeat.submissions, 1, 'the client did not send before the waiting time')
    const full = await authority.submit(records.slice(1, 1001))
    assert.equal(full.kind, 'answered')
    if (full.kind !== 'answered') return
    assert.equal(full.outcomes.length, 1000)
    assert.ok(full.outcomes.every((o) => o.status === 'accepted'))
    assert.throws(() => submissionBody({ taxpayer: TAXPAYER }, records.slice(0, 1001)), /1 to 1000/)
    // A client that ignores the wait gets a SOAP fault from the service: retryable, nothing registered.
    const eager = new VerifactuAuthority({ endpoint: `${sim.url}${VERIFACTU_PATH}`, taxpayer: TAXPAYER })
    const refused = await eager.submit(records.slice(1001, 1002))
    assert.equal(refused.kind, 'retryable')
    assert.match(refused.kind === 'retryable' ? refused.reason : '', /TiempoEsperaEnvio/)
    assert.equal(sim.aeat.invoices.size, records.slice(0, 1001).filter((r) => r.kind === 'alta').length)
  })
})

describe('fault injection: errors, outages, slow answers, lost answers and reconciliation', () => {
  let sim: Sim
  before(async () => {
    sim = await startSimulator({ faults: { holdMs: 5_000 } })
  })
  after(() => sim.close())
  const issuer = { nif: 'A11111111', name: 'Tienda' }
  let chain = emptyChain()
  const next = (n: number) => {
    const made = chainAlta(
      chain,
      {
        issuer,
        seriesNumber: `F-${n}`,
        issueDate: '2025-09-01',
        invoiceType: 'F2',
        description: 'Venta',
        lines: [{ rateBasisPoints: 2100, baseCents: 1000, taxCents: 210 }],
        generatedAt: new Date('2025-09-01T10:00:00Z'),
      },
      SYSTEM,
    )
    chain = made.state
    return made.record
  }
  const authority = (timeoutMs = 5_000) =>
    new VerifactuAuthority({ endpoint: `${sim.url}${VERIFACTU_PATH}`, taxpayer: issuer, timeoutMs })

  it('a 503 (error rate 1) and an outage window are retryable and register nothing', async () => {
    sim.faults.reconfigure({ errorRate: 1 })
    const record = next(1)
    assert.equal((await authority().submit([record])).kind, 'retryable')
    sim.faults.reconfigure({ errorRate: 0, outages: [{ from: Date.now() - 1000, to: Date.now() + 60_000 }] })
    const outage = await authority().submit([record])
    assert.equal(outage.kind, 'retryable')
    assert.equal(outage.kind === 'retryable' && outage.retryAfterSeconds, 1)
    assert.equal(sim.aeat.invoices.size, 0)
    sim.faults.reconfigure({ outages: [] })
    const answered = await authority().submit([record])
    assert.equal(answered.kind === 'answered' && answered.outcomes[0]?.status, 'accepted')
  })

  it('a lost answer after processing is unknown; the query reconciles it and a resend would be a duplicate', async () => {
    sim.faults.reconfigure({ timeoutRate: 1 })
    const record = next(2)
    const lost = await authority(300).submit([record])
    assert.equal(lost.kind, 'unknown')
    sim.faults.reconfigure({ timeoutRate: 0 })
    assert.deepEqual(await authority().query(record), {
      kind: 'registered',
      sameRecord: true,
      authorityState: 'Correcto',
    })
    const resent = await authority().submit([record])
    assert.equal(resent.kind === 'answered' && resent.outcomes[0]?.status, 'duplicate')
  })

  it('a request dropped before processing is unknown too, and the query says it is not registered', async () => {
    sim.faults.reconfigure({ dropRate: 1 })
    const record = next(3)
    assert.equal((await authority(300).submit([record])).kind, 'unknown')
    sim.faults.reconfigure({ dropRate: 0 })
    assert.deepEqual(await authority().query(record), { kind: 'not_registered' })
    const sent = await authority().submit([record])
    assert.equal(sent.kind === 'answered' && sent.outcomes[0]?.status, 'accepted')
  })

  it('a slow answer within the client timeout is still an answer; a refused connection is retryable', async () => {
    sim.faults.reconfigure({ slowMs: 200 })
    const sent = await authority(5_000).submit([next(4)])
    assert.equal(sent.kind, 'answered')
    sim.faults.reconfigure({ slowMs: 0 })
    const closed = new VerifactuAuthority({
      endpoint: 'http://127.0.0.1:1/x',
      taxpayer: issuer,
      timeoutMs: 2_000,
    })
    assert.equal((await closed.submit([next(5)])).kind, 'retryable')
  })

  it('the chain stays intact at the authority across all of it', () => {
    const states = [...sim.aeat.invoices.values()]
      .filter((i) => i.issuerNif === issuer.nif)
      .map((i) => i.state)
    assert.deepEqual(states, ['Correcta', 'Correcta', 'Correcta', 'Correcta'])
  })
})
