import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { cliEnv, ROOT, runBash, runCli } from '../../cli/cli-process.ts'
import { engines } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import { chainValue, FR_CASE, FrPos, frReceipt, joseKey, verifiedPayload, verifyChains } from './support.ts'

/** The auditor's script exactly as docs/country-fr.md prints it. */
const AUDITOR_SCRIPT = (() => {
  const doc = readFileSync(join(ROOT, 'docs/country-fr.md'), 'utf8')
  const match = /<!-- auditor-script -->\n```js\n([\s\S]*?)```/.exec(doc)
  assert.ok(match, 'docs/country-fr.md has the auditor script')
  return match[1] as string
})()

const PARIS_MONTH = new Intl.DateTimeFormat('sv-SE', {
  timeZone: 'Europe/Paris',
  year: 'numeric',
  month: '2-digit',
})

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))

/** Re-encodes an entry's payload without re-signing it: what a forger without the key can do. */
function forged(jws: string, change: (payload: any) => void): string {
  const [header, payload, signature] = jws.split('.')
  const decoded = JSON.parse(Buffer.from(payload as string, 'base64url').toString('utf8'))
  change(decoded)
  return `${header}.${Buffer.from(JSON.stringify(decoded)).toString('base64url')}.${signature}`
}

for (const engine of await engines()) {
  describe(`French archives on ${engine}`, () => {
    let h: Harness
    let dir: string
    const env = () => cliEnv({ DATABASE_URL: h.databaseUrl, FISCALBOX_DATA_DIR: h.dataDir })
    const auditor = (file: string) =>
      runBash(`cd ${ROOT} && node --input-type=module -e "$(cat ${join(dir, 'check-archive.mjs')})" ${file}`)
    before(async () => {
      h = await startHarness(engine)
      dir = mkdtempSync(join(tmpdir(), 'fr-archive-'))
      writeFileSync(join(dir, 'check-archive.mjs'), AUDITOR_SCRIPT)
    })
    after(() => h.close())

    test('export archive-fr writes a signed archive that jose, fiscalbox verify and the documented script accept', async () => {
      const box = await h.runtime.cashboxes.create('FR')
      const pos = new FrPos(h.app, box)
      await pos.signOk(frReceipt(FR_CASE.start))
      const sale = frReceipt(FR_CASE.pos, [['12.00', 20]])
      await pos.signOk(sale)
      await pos.signOk(frReceipt(FR_CASE.invoice, [['55.00', 5.5]]))
      await pos.signOk(frReceipt(FR_CASE.copy, [], { cbPreviousReceiptReference: sale.cbReceiptReference }))
      await pos.signOk(frReceipt(FR_CASE.lateSigningPos, [['3.00', 10]]))
      await pos.signOk(frReceipt(FR_CASE.daily))
      const period = PARIS_MONTH.format(new Date())
      const file = join(dir, `${engine}-month.jsonl`)
      const run = await runCli(
        ['export', 'archive-fr', '--cashbox', box.cashboxId, '--period', period, '--out', file],
        env(),
      )
      assert.equal(run.code, 0, run.stderr)
      assert.match(run.stdout, new RegExp(`wrote the ${period} archive with 9 entries`))

      const [header, ...rest] = lines(file)
      assert.deepEqual(
        [header.format, header.cashboxId, header.queueId, header.period],
        ['fiscalbox-fr-archive/1', box.cashboxId, box.queueId, period],
      )
      const key = await joseKey(box.publicKey)
      const entries = rest.slice(0, -1).map((line) => line.jws as string)
      const heads = await verifyChains(entries, key)
      assert.deepEqual(Object.fromEntries(Object.entries(heads).map(([chain, head]) => [chain, head.n])), {
        T: 2,
        I: 1,
        G: 2,
        L: 3,
        C: 1,
      })
      const events = []
      for (const jws of entries) {
        const payload = await verifiedPayload(jws, key)
        if (payload.chain === 'L') events.push(payload.event)
      }
      assert.deepEqual(events, ['start', 'failure', 'closing-day'])
      const archive = await verifiedPayload(rest.at(-1).archive, key)
      assert.deepEqual([archive.chain, archive.n, archive.period], ['A', 1, period])
      assert.deepEqual(archive.chains.T, { first: 1, last: 2, previous: '', hash: heads.T?.hash })

      const verified = await runCli(['verify', file], env())
      assert.equal(verified.code, 0, verified.stdout + verified.stderr)
      assert.match(verified.stdout, /^OK: French archive .* with 9 entries/)
      const checked = await auditor(file)
      assert.equal(checked.code, 0, checked.stderr)
      assert.match(checked.stdout, new RegExp(`^OK ${period}: 9 entries`))

      // A second archive (the year) holds the first archive entry and its technical event.
      const yearFile = join(dir, `${engine}-year.jsonl`)
      const year = period.slice(0, 4)
      const second = await runCli(
        ['export', 'archive-fr', '--cashbox', box.cashboxId, '--period', year, '--out', yearFile],
        env(),
      )
      assert.equal(second.code, 0, second.stderr)
      const yearLines = lines(yearFile)
      const yearArchive = await verifiedPayload(yearLines.at(-1).archive, key)
      assert.deepEqual([yearArchive.n, yearArchive.hash], [2, await chainValue(rest.at(-1).archive)])
      assert.deepEqual(yearArchive.chains.A, { first: 1, last: 1, previous: '', hash: yearArchive.hash })
      assert.equal(yearArchive.chains.L.last, 4, 'the first archive is a technical event')
      assert.equal((await runCli(['verify', yearFile], env())).code, 0)
    })

    test('a tampered, shortened or reordered archive is refused by fiscalbox verify and by the script', async () => {
      const box = await h.runtime.cashboxes.create('FR')
      const pos = new FrPos(h.app, box)
      await pos.signOk(frReceipt(FR_CASE.start))
      for (const amount of ['1.00', '2.00', '3.00']) await pos.signOk(frReceipt(FR_CASE.pos, [[amount, 20]]))
      const period = PARIS_MONTH.format(new Date()).slice(0, 4)
      const file = join(dir, `${engine}-tamper.jsonl`)
      const run = await runCli(
        ['export', 'archive-fr', '--cashbox', box.cashboxId, '--period', period, '--out', file],
        env(),
      )
      assert.equal(run.code, 0, run.stderr)
      const original = readFileSync(file, 'utf8').trim().split('\n')
      const tickets = original.filter(
        (line) =>
          JSON.parse(line).jws &&
          /"chain":"T"/.test(Buffer.from(JSON.parse(line).jws.split('.')[1], 'base64url').toString()),
      )
      assert.equal(tickets.length, 3)
      const variants: Record<string, string[]> = {
        'an amount changed': original.map((line) =>
          line === tickets[1]
            ? JSON.stringify({ jws: forged(JSON.parse(line).jws, (p) => (p.total = '0.20')) })
            : line,
        ),
        'an entry removed': original.filter((line) => line !== tickets[1]),
        'the last ticket removed': original.filter((line) => line !== tickets[2]),
        'two entries swapped': original.map((line) =>
          line === tickets[0] ? (tickets[1] as string) : line === tickets[1] ? (tickets[0] as string) : line,
        ),
        'the archive entry removed': original.slice(0, -1),
      }
      for (const [name, variant] of Object.entries(variants)) {
        const bad = join(dir, `${engine}-${name.replaceAll(' ', '-')}.jsonl`)
        writeFileSync(bad, `${variant.join('\n')}\n`)
        const verified = await runCli(['verify', bad], env())
        assert.equal(verified.code, 1, `${name}: ${verified.stdout}${verified.stderr}`)
        assert.match(verified.stdout, /^FAILED: /, name)
        assert.notEqual((await auditor(bad)).code, 0, `${name}: the auditor's script refuses it`)
      }
      assert.equal((await runCli(['verify', file], env())).code, 0, 'the original still verifies')
    })

    test('export archive-fr refuses a bad period and an unstarted cash box, naming the problem', async () => {
      const box = await h.runtime.cashboxes.create('FR')
      const out = join(dir, `${engine}-refused.jsonl`)
      const badPeriod = await runCli(
        ['export', 'archive-fr', '--cashbox', box.cashboxId, '--period', '2026-13', '--out', out],
        env(),
      )
      assert.notEqual(badPeriod.code, 0)
      assert.match(badPeriod.stderr, /ftReceiptCaseData\.FR\.ArchivePeriod/)
      const unstarted = await runCli(
        ['export', 'archive-fr', '--cashbox', box.cashboxId, '--period', '2026', '--out', out],
        env(),
      )
      assert.notEqual(unstarted.code, 0)
      assert.match(unstarted.stderr, /must be started/)
    })
  })
}
