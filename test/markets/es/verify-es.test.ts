import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import {
  cancelTicketBai,
  emptyTicketBaiChain,
  issueTicketBai,
  type TicketBaiRecord,
} from '../../../src/markets/es/ticketbai/issue.ts'
import { chainAlta, chainAnulacion, emptyChain } from '../../../src/markets/es/verifactu/records.ts'
import { soapEnvelope, submissionBody } from '../../../src/markets/es/verifactu/xml.ts'
import { serializeDocument } from '../../../src/markets/es/xml/serialize.ts'
import { TicketBaiVerifier } from '../../../src/verify/ticketbai-verifier.ts'
import { VerifactuVerifier } from '../../../src/verify/verifactu-verifier.ts'
import { cliEnv, runCli } from '../../cli/cli-process.ts'
import { testPki } from './certificates.ts'
import { SYSTEM, sampleChain, sampleInvoice } from './support.ts'
import { VECTORS } from './xsd.ts'

const TAXPAYER = { nif: 'B12345678', name: 'Bar Ejemplo & Cía' }
const submission = (records: ReturnType<typeof sampleChain>) =>
  serializeDocument(soapEnvelope(submissionBody({ taxpayer: TAXPAYER }, records)))

function verifactu(files: string[]) {
  const verifier = new VerifactuVerifier()
  files.forEach((xml, i) => verifier.document(xml, `file${i + 1}`))
  return verifier.finish()
}

describe('fiscalbox verify-es verifactu (independent of the record builder)', () => {
  it('accepts a chain split over two submissions and ends at the last Huella', () => {
    const records = sampleChain(40)
    const report = verifactu([submission(records.slice(0, 25)), submission(records.slice(25))])
    assert.deepEqual(report.problems, [])
    assert.equal(report.records, 40)
    assert.deepEqual(Object.values(report.heads), [records[39]?.huella])
  })

  it('ends the official three-record example at its published Huella', () => {
    const vectors = JSON.parse(readFileSync(join(VECTORS, 'verifactu-vectors.json'), 'utf8')) as {
      official: Array<{ expected: string }>
    }
    const issuer = { nif: '89890001K', name: 'Empresa' }
    const line = [{ rateBasisPoints: 1112, baseCents: 11110, taxCents: 1235 }]
    const recipients = [{ nif: '12345678Z', name: 'Cliente' }]
    const a = chainAlta(
      emptyChain(),
      {
        issuer,
        seriesNumber: '12345678/G33',
        issueDate: '2024-01-01',
        invoiceType: 'F1',
        description: 'x',
        recipients,
        lines: line,
        generatedAt: new Date('2024-01-01T18:20:30Z'),
      },
      SYSTEM,
    )
    const b = chainAlta(
      a.state,
      {
        issuer,
        seriesNumber: '12345679/G34',
        issueDate: '2024-01-01',
        invoiceType: 'F1',
        description: 'x',
        recipients,
        lines: line,
        generatedAt: new Date('2024-01-01T18:20:35Z'),
      },
      SYSTEM,
    )
    const c = chainAnulacion(
      b.state,
      {
        issuerNif: issuer.nif,
        seriesNumber: '12345679/G34',
        issueDate: '2024-01-01',
        generatedAt: new Date('2024-01-01T18:20:40Z'),
      },
      SYSTEM,
    )
    const report = verifactu([
      serializeDocument(submissionBody({ taxpayer: issuer }, [a.record, b.record, c.record])),
    ])
    assert.deepEqual(report.problems, [])
    assert.deepEqual(Object.values(report.heads), [vectors.official[2]?.expected])
  })

  it('finds a changed amount, a missing record and files in the wrong order', () => {
    const records = sampleChain(20)
    const tampered = submission(records).replace('<sf:ImporteTotal>1.12<', '<sf:ImporteTotal>9.12<')
    assert.notEqual(tampered, submission(records))
    const changed = verifactu([tampered]).problems.join('\n')
    assert.match(changed, /Huella .* should be/)
    assert.match(changed, /ImporteTotal is not the sum/)
    assert.match(
      verifactu([submission([...records.slice(0, 5), ...records.slice(6)])]).problems.join(),
      /RegistroAnterior does not name the previous record/,
    )
    assert.match(
      verifactu([submission(records.slice(10)), submission(records.slice(0, 10))]).problems.join(),
      /cites a previous record|PrimerRegistro=S/,
    )
  })
})

async function tbaiChain(count: number): Promise<TicketBaiRecord[]> {
  const pki = await testPki()
  let state = emptyTicketBaiChain()
  const out: TicketBaiRecord[] = []
  for (let i = 1; i <= count; i++) {
    const made = issueTicketBai(state, sampleInvoice({ territory: 'bizkaia', number: String(i) }), {
      key: pki.taxpayer.key,
      certificate: pki.taxpayer.cert,
    })
    out.push(made.record)
    state = made.state
  }
  return out
}

describe('fiscalbox verify-es ticketbai', () => {
  it('accepts a chain, names the territory and recomputes every identifier', async () => {
    const records = await tbaiChain(3)
    const verifier = new TicketBaiVerifier()
    for (const r of records) verifier.document(r.xml, r.number)
    const report = verifier.finish()
    assert.deepEqual(report.problems, [])
    assert.deepEqual(
      report.invoices.map((i) => [i.territory, i.identifier]),
      records.map((r) => ['bizkaia', r.identifier]),
    )
  })

  it('accepts a cancellation between invoices without breaking the chain', async () => {
    const pki = await testPki()
    const records = await tbaiChain(2)
    const cancellation = cancelTicketBai(
      records[0] as TicketBaiRecord,
      { issuerName: 'Empresa', software: sampleInvoice().software, at: new Date() },
      { key: pki.taxpayer.key, certificate: pki.taxpayer.cert },
    )
    const verifier = new TicketBaiVerifier()
    for (const [i, xml] of [records[0]?.xml, cancellation.xml, records[1]?.xml].entries())
      verifier.document(xml ?? '', `f${i}`)
    const report = verifier.finish()
    assert.deepEqual(report.problems, [])
    assert.equal(report.invoices[1]?.cancels, `T1 ${records[0]?.issueDate}`)
  })

  it('finds a broken chain and a broken signature', async () => {
    const records = await tbaiChain(3)
    const verifier = new TicketBaiVerifier()
    for (const r of [records[0], records[2]]) verifier.document(r?.xml ?? '', r?.number ?? '')
    assert.match(verifier.finish().problems.join(), /does not name the previous invoice/)
    const other = new TicketBaiVerifier()
    other.document((records[0]?.xml ?? '').replace('<NumFactura>1<', '<NumFactura>7<'), 'x')
    assert.match(other.finish().problems.join(), /digest mismatch/)
  })
})

describe('the verify-es commands', () => {
  it('exit 0 with OK on good files and 1 with the problems on bad ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'verify-es-'))
    const records = sampleChain(12)
    writeFileSync(join(dir, 'a.xml'), submission(records.slice(0, 6)))
    writeFileSync(join(dir, 'b.xml'), submission(records.slice(6)))
    writeFileSync(
      join(dir, 'bad.xml'),
      submission(records.slice(6)).replace(
        /<sf:Huella>[0-9A-F]{64}<\/sf:Huella><\/sf:RegistroAlta>/,
        `<sf:Huella>${'0'.repeat(64)}</sf:Huella></sf:RegistroAlta>`,
      ),
    )
    const invoices = await tbaiChain(2)
    invoices.forEach((r, i) => writeFileSync(join(dir, `t${i}.xml`), r.xml))
    const [good, bad, tbai] = await Promise.all([
      runCli(['verify-es', 'verifactu', join(dir, 'a.xml'), join(dir, 'b.xml')], cliEnv({})),
      runCli(['verify-es', 'verifactu', join(dir, 'a.xml'), join(dir, 'bad.xml')], cliEnv({})),
      runCli(['verify-es', 'ticketbai', join(dir, 't0.xml'), join(dir, 't1.xml')], cliEnv({})),
    ])
    assert.equal(good.code, 0, good.stderr)
    assert.match(good.stdout, /^OK: 12 records in 1 chain\(s\)/)
    assert.equal(bad.code, 1)
    assert.match(bad.stdout, /^FAILED: \d+ problem/)
    assert.equal(tbai.code, 0, tbai.stderr + tbai.stdout)
    assert.ok(tbai.stdout.includes(invoices[1]?.identifier ?? 'none'))
  })
})
