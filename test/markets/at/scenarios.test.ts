import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, type TestContext, test } from 'node:test'
import { type Dep7Report, decryptTurnover, verifyDep7 } from '../../../src/verify/dep7-verifier.ts'
import { cliEnv, runCli } from '../../cli/cli-process.ts'
import { engines } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import {
  AT_CASE,
  AtPos,
  atReceipt,
  cents,
  exportAndVerifyDep7,
  payloadFields,
  SET_ITEMS,
  stateBits,
  viennaToIso,
} from './support.ts'

/**
 * Conformance: the eight official A-SIT test scenarios (TESTSUITE_TEST_SZENARIO_1..8) run through the
 * public interface with their own cash box id, AES key, receipt ids, dates, amounts, signature devices and
 * failures. On SQLite each cash box is exported with `fiscalbox export dep7 --keys` and checked with
 * `fiscalbox verify` (child processes); on PostgreSQL the export comes from GET /at/v1/dep7 and the
 * verifier (src/verify) gets key material the test assembled from the scenario and the provisioning
 * answer. The test also checks the export against the scenario itself.
 */
const DIR = '/work/shared/vectors/at'
const FILES = readdirSync(DIR)
  .filter((f) => f.startsWith('TESTSUITE_TEST_SZENARIO_'))
  .sort()

interface Instruction {
  signatureDeviceDamaged: boolean
  receiptIdentifier: string
  dateToUse: string
  usedSignatureDevice: number
  simplifiedReceipt: Record<string, number>
  typeOfReceipt: 'START_BELEG' | 'STANDARD_BELEG' | 'STORNO_BELEG' | 'TRAINING_BELEG' | 'NULL_BELEG'
}

interface Scenario {
  cashBoxId: string
  base64AesKey: string
  companyID: string
  simulationRunLabel: string
  numberOfSignatureDevices: number
  cashBoxInstructionList: Instruction[]
}

const CASE_OF: Record<Instruction['typeOfReceipt'], string> = {
  START_BELEG: AT_CASE.start,
  STANDARD_BELEG: AT_CASE.pos,
  STORNO_BELEG: AT_CASE.storno,
  TRAINING_BELEG: AT_CASE.training,
  NULL_BELEG: AT_CASE.zero,
}

const amountText = (c: bigint) => {
  const abs = c < 0n ? -c : c
  return `${c < 0n ? '-' : ''}${abs / 100n},${(abs % 100n).toString().padStart(2, '0')}`
}

/** Runs one scenario; mode 'closed' uses AT0 key ids, 'certificate' AT1 test certificates. */
async function runScenario(
  h: Harness,
  scenario: Scenario,
  mode: 'closed' | 'certificate',
  work: string,
  through: 'cli' | 'http',
) {
  const box = await h.runtime.cashboxes.create('AT', scenario.simulationRunLabel)
  const pos = new AtPos(h.app, box)
  const devices = Array.from({ length: scenario.numberOfSignatureDevices }, (_, number) =>
    mode === 'closed' ? { number, provider: 'AT0', keyId: `K${number}` } : { number, provider: 'AT1' },
  )
  const provisioned = await pos.provision({
    kassenId: scenario.cashBoxId,
    aesKey: scenario.base64AesKey,
    companyId: scenario.companyID,
    devices,
  })
  assert.equal(provisioned.aesKey, undefined, 'a given AES key is never echoed')
  const fieldOf = new Map<number, string>(provisioned.devices.map((d: any) => [d.number, d.certificateField]))
  const inService = new Map<number, boolean>(devices.map((d) => [d.number, true]))
  let previous: string | undefined
  // The Belegnummer of each step: fiscalbox numbers receipts as fiskaltrust's AT queue does (ft{n}#{count}),
  // and the scenario's receiptIdentifier is the POS's own cbReceiptReference.
  const belegnummern: string[] = []
  let failed = 0
  for (const step of scenario.cashBoxInstructionList) {
    for (const [number, working] of inService) {
      const wanted = !(step.signatureDeviceDamaged && number === step.usedSignatureDevice)
      if (working !== wanted) {
        await pos.setDevice(number, wanted)
        inService.set(number, wanted)
      }
    }
    const response = await pos.signOk(
      atReceipt({
        reference: step.receiptIdentifier,
        moment: viennaToIso(step.dateToUse),
        caseCode: CASE_OF[step.typeOfReceipt],
        sets: SET_ITEMS.map((s) => cents(step.simplifiedReceipt[s.name] ?? 0)),
        device: step.usedSignatureDevice,
        ...(step.typeOfReceipt === 'STORNO_BELEG' && previous ? { previous } : {}),
      }),
    )
    const { low } = stateBits(response.ftState)
    assert.equal(
      (low & 0x2n) === 0x2n,
      step.signatureDeviceDamaged,
      `${step.receiptIdentifier}: ftState ${response.ftState}`,
    )
    if (step.signatureDeviceDamaged) failed += 1
    const qr = response.ftSignatures.find((s: any) => s.ftSignatureFormat === '0x0000000000000003')
    const belegnummer: string = response.ftReceiptIdentification
    assert.match(belegnummer, new RegExp(`^ft[0-9A-F]+#${belegnummern.length + 1}$`))
    belegnummern.push(belegnummer)
    assert.ok(
      qr?.Data.startsWith(
        `_R1-AT${mode === 'closed' ? 0 : 1}_${scenario.cashBoxId}_${belegnummer}_${step.dateToUse}_`,
      ),
      qr?.Data,
    )
    previous = step.receiptIdentifier
  }

  const out = join(work, `${scenario.simulationRunLabel}-${mode}-${h.engine}.json`)
  const keys = join(work, `${scenario.simulationRunLabel}-${mode}-${h.engine}.keys.json`)
  const env = cliEnv({ DATABASE_URL: h.databaseUrl, FISCALBOX_DATA_DIR: h.dataDir })
  let report: Dep7Report
  if (through === 'cli') {
    report = await exportAndVerifyDep7(env, box.cashboxId, out, keys)
  } else {
    // The HTTP export, checked with key material the test builds itself: the scenario's AES key and the
    // public keys the provisioning answered with.
    writeFileSync(out, JSON.stringify(await pos.dep7()))
    writeFileSync(
      keys,
      JSON.stringify({
        base64AESKey: scenario.base64AesKey,
        certificateOrPublicKeyMap: Object.fromEntries(
          provisioned.devices.map((d: any) => [
            d.certificateField,
            {
              id: d.certificateField,
              signatureDeviceType: d.certificate ? 'CERTIFICATE' : 'PUBLIC_KEY',
              signatureCertificateOrPublicKey: d.certificate ?? d.publicKey,
            },
          ]),
        ),
      }),
    )
    report = verifyDep7(JSON.parse(readFileSync(out, 'utf8')), JSON.parse(readFileSync(keys, 'utf8')))
  }
  assert.deepEqual(report.problems, [])
  assert.equal(report.receipts, scenario.cashBoxInstructionList.length)
  assert.equal(report.failedDeviceReceipts, failed)

  // The export, read against the scenario: every field as the scenario says, and the turnover counter,
  // decrypted with the scenario's AES key, equal to the scenario's own running sum.
  const dep = JSON.parse(readFileSync(out, 'utf8'))
  const jwss: string[] = dep['Belege-Gruppe'].flatMap((g: any) => g['Belege-kompakt'])
  assert.equal(jwss.length, scenario.cashBoxInstructionList.length)
  const aesKey = Buffer.from(scenario.base64AesKey, 'base64')
  let turnover = 0n
  scenario.cashBoxInstructionList.forEach((step, i) => {
    const f = payloadFields(jwss[i] as string)
    const amounts = SET_ITEMS.map((s) => cents(step.simplifiedReceipt[s.name] ?? 0))
    assert.deepEqual(f.slice(2, 5), [scenario.cashBoxId, belegnummern[i], step.dateToUse])
    assert.deepEqual(f.slice(5, 10), amounts.map(amountText))
    const expectedField =
      mode === 'closed'
        ? `${scenario.companyID}-K${step.usedSignatureDevice}`
        : fieldOf.get(step.usedSignatureDevice)
    assert.equal(f[11], expectedField)
    const signature = Buffer.from((jwss[i] as string).split('.')[2] ?? '', 'base64url').toString('utf8')
    assert.equal(signature === 'Sicherheitseinrichtung ausgefallen', step.signatureDeviceDamaged)
    if (step.typeOfReceipt === 'TRAINING_BELEG') assert.equal(f[10], 'VFJB')
    else {
      turnover += amounts.reduce((s, a) => s + a, 0n)
      if (step.typeOfReceipt === 'STORNO_BELEG') assert.equal(f[10], 'U1RP')
      else
        assert.equal(
          decryptTurnover(aesKey, scenario.cashBoxId, belegnummern[i] as string, f[10] as string),
          turnover,
        )
    }
  })
  return { box, pos, out, keys, env, belegnummern }
}

for (const engine of await engines()) {
  describe(`A-SIT RKSV scenarios on ${engine}`, () => {
    let work: string
    before(() => {
      work = mkdtempSync(join(tmpdir(), 'fiscalbox-at-'))
    })
    after(() => rmSync(work, { recursive: true, force: true }))
    /**
     * Every scenario uses the Kassen-ID CASHBOX-DEMO-1, which is unique across the cash boxes of an
     * account: each run gets a database of its own.
     */
    const ownHarness = async (t: TestContext): Promise<Harness> => {
      const h = await startHarness(engine)
      t.after(() => h.close())
      return h
    }

    test('there are eight scenarios', () => assert.equal(FILES.length, 8))

    for (const file of FILES) {
      test(`${file}: signed through /v2/sign, exported as DEP7, accepted by fiscalbox verify`, async (t) => {
        const scenario = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Scenario
        await runScenario(await ownHarness(t), scenario, 'closed', work, engine === 'sqlite' ? 'cli' : 'http')
      })
    }

    test('scenario 1 with certificate devices (AT1) is accepted too, and tampering is named', async (t) => {
      const scenario = JSON.parse(readFileSync(join(DIR, FILES[0] as string), 'utf8')) as Scenario
      const h = await ownHarness(t)
      const { box, out, keys, env, belegnummern } = await runScenario(h, scenario, 'certificate', work, 'cli')
      // The cash box's journal export (hash chain, request and response hashes) verifies as well.
      const journal = join(work, `journal-${h.engine}.jsonl`)
      const exported = await runCli(['export', 'journal', '--cashbox', box.cashboxId, '--out', journal], env)
      assert.equal(exported.code, 0, exported.stderr)
      const checked = await runCli(['verify', journal], env)
      assert.match(checked.stdout, /^OK: 81 receipts, chain verified/, checked.stdout)
      const dep = JSON.parse(readFileSync(out, 'utf8'))
      assert.ok(dep['Belege-Gruppe'].every((g: any) => g.Signaturzertifikat !== ''))
      // Receipt 13 is a signed standard receipt: change its Normal amount and keep its signature.
      const target = belegnummern[12] as string
      for (const group of dep['Belege-Gruppe']) {
        group['Belege-kompakt'] = group['Belege-kompakt'].map((jws: string) => {
          const [h0, p, s] = jws.split('.')
          const payload = Buffer.from(p as string, 'base64url').toString('utf8')
          if (!payload.includes(`_${target}_`)) return jws
          return [h0, Buffer.from(payload.replace('_19,30_', '_91,30_')).toString('base64url'), s].join('.')
        })
      }
      const tampered = join(work, 'tampered.json')
      writeFileSync(tampered, JSON.stringify(dep))
      const verified = await runCli(['verify', tampered, '--keys', keys], env)
      assert.equal(verified.code, 1)
      assert.match(verified.stdout, new RegExp(`Belegnummer ${target}\\): ES256 signature does not verify`))
    })
  })
}
