import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { buildApp } from '../../src/api/app.ts'
import { newAccount } from '../api-v1/support.ts'
import { cliEnv, runCli } from '../cli/cli-process.ts'
import { engines } from '../helpers/engines.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import type { AtPos } from '../markets/at/support.ts'
import { DE_CASE, type DePos, deReceipt } from '../markets/de/support.ts'
import { eventually } from '../api-v1/support.ts'
import { austrianCashbox, dep7KeysFromCli, germanCashbox, type Signed, signIn } from './support.ts'

const FORM = 'application/x-www-form-urlencoded'
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString()

/**
 * Country exports through the dashboard's routes, as a browser sends them (session cookie, CSRF token in
 * the form): started, watched, downloaded, and the download checked by `fiscalbox verify` in its own process.
 */
for (const engine of await engines()) {
  describe(`dashboard country exports (${engine})`, () => {
    let h: Harness
    let shop: Signed
    let other: Signed
    let at: AtPos
    let de: DePos
    const exportsDir = mkdtempSync(join(tmpdir(), 'fiscalbox-dashboard-exports-'))
    const downloads = mkdtempSync(join(tmpdir(), 'fiscalbox-dashboard-downloads-'))
    const env = () => cliEnv({ DATABASE_URL: h.databaseUrl, FISCALBOX_DATA_DIR: h.dataDir })

    before(async () => {
      h = await startHarness(engine, { dashboard: { exportsDir } })
      const account = await newAccount(h.app)
      const otherAccount = await newAccount(h.app)
      at = await austrianCashbox(h, account.accountId, 'Wien 1')
      de = await germanCashbox(h, account.accountId, 'Berlin 1')
      await h.runtime.operators.create(account.accountId, 'shop@example.com', 'shop-correct-horse-battery')
      await h.runtime.operators.create(
        otherAccount.accountId,
        'other@example.com',
        'other-correct-horse-battery',
      )
      shop = await signIn(h.app, 'shop@example.com', 'shop-correct-horse-battery')
      other = await signIn(h.app, 'other@example.com', 'other-correct-horse-battery')
    })
    after(() => h?.close())

    const start = (who: Signed, fields: Record<string, string>) =>
      h.app.inject({
        method: 'POST',
        url: '/dashboard/exports',
        headers: { cookie: who.cookie, 'content-type': FORM },
        payload: form({ ...fields, _csrf: who.csrf }),
      })

    /** Starts an export, follows its page until it is done, downloads it: the page and the file. */
    async function exportThrough(fields: Record<string, string>, file: string) {
      const started = await start(shop, fields)
      assert.equal(started.statusCode, 303, started.body)
      const runUrl = started.headers.location as string
      assert.match(runUrl, /^\/dashboard\/exports\/[0-9a-f-]{36}$/)
      const page = await eventually(
        () => h.app.inject({ method: 'GET', url: runUrl, headers: { cookie: shop.cookie } }),
        (reply) => !/id="export-status">(exporting|verifying)</.test(reply.body),
        `the export ${runUrl} to finish`,
      )
      assert.match(page.body, /id="export-status">done</, page.body)
      const download = await h.app.inject({
        method: 'GET',
        url: `${runUrl}/download`,
        headers: { cookie: shop.cookie },
      })
      assert.equal(download.statusCode, 200, download.body)
      assert.match(String(download.headers['content-disposition']), /^attachment; filename="/)
      writeFileSync(file, download.rawPayload)
      return { runUrl, page: page.body, download }
    }

    test('the export page lists the formats of the chosen cash box: its country’s and the journal', async () => {
      const page = await h.app.inject({
        method: 'GET',
        url: `/dashboard/exports?cashbox=${at.box.cashboxId}`,
        headers: { cookie: shop.cookie },
      })
      assert.equal(page.statusCode, 200)
      assert.match(page.body, /Start DEP7/)
      assert.match(page.body, /Start Journal export/)
      assert.doesNotMatch(page.body, /Start TSS TAR/)
      const german = await h.app.inject({
        method: 'GET',
        url: `/dashboard/exports?cashbox=${de.box.cashboxId}`,
        headers: { cookie: shop.cookie },
      })
      assert.match(german.body, /Start TSS TAR export/)
      assert.match(german.body, /Start DSFinV-K/)
      assert.doesNotMatch(german.body, /Start DEP7/)
    })

    test('a DEP7 export is started, watched, downloaded, and fiscalbox verify accepts the download', async () => {
      const file = join(downloads, 'dep7.json')
      const { page, download } = await exportThrough(
        { cashboxId: at.box.cashboxId, format: 'at-dep7', from: '', to: '' },
        file,
      )
      assert.match(String(download.headers['content-type']), /^application\/json/)
      assert.match(page, /id="verify-result" class="ok">OK: DEP7 with 4 receipts/)
      // The key material comes from the CLI, as an auditor gets it; the check runs in its own process.
      const keys = await dep7KeysFromCli(env(), at.box.cashboxId, downloads)
      const verified = await runCli(['verify', file, '--keys', keys, '--json'], env())
      assert.equal(verified.code, 0, `${verified.stdout}${verified.stderr}`)
      const report = JSON.parse(verified.stdout)
      assert.deepEqual(report.problems, [])
      assert.equal(report.receipts, 4)
      // A changed receipt in the download is caught by the same command.
      const dep = JSON.parse(download.body)
      const group = dep['Belege-Gruppe'][0]['Belege-kompakt']
      group[1] = group[2]
      const tampered = join(downloads, 'tampered.json')
      writeFileSync(tampered, JSON.stringify(dep))
      const refused = await runCli(['verify', tampered, '--keys', keys], env())
      assert.equal(refused.code, 1, refused.stdout)
    })

    test('a TSS TAR export of a German cash box is downloaded and passes fiscalbox verify', async () => {
      const file = join(downloads, 'tss.tar')
      const { page, download } = await exportThrough({ cashboxId: de.box.cashboxId, format: 'de-tar' }, file)
      assert.equal(download.headers['content-type'], 'application/x-tar')
      assert.match(page, /id="verify-result" class="ok">OK: TSS export verified/)
      const verified = await runCli(['verify', file, '--json'], env())
      assert.equal(verified.code, 0, `${verified.stdout}${verified.stderr}`)
      const report = JSON.parse(verified.stdout)
      assert.equal(report.problemCount, 0)
      assert.ok(report.logMessages >= 6, `the start and two sales are logged (${report.logMessages})`)
    })

    test('a DSFinV-K export of a German cash box shows the verdict of fiscalbox verify', async () => {
      await de.signOk(deReceipt(DE_CASE.daily))
      const file = join(downloads, 'dsfinvk.tar')
      const { page } = await exportThrough({ cashboxId: de.box.cashboxId, format: 'de-dsfinvk' }, file)
      const shown =
        /id="verify-result" class="ok">OK: DSFinV-K export verified: .* (\d+) TSE signatures valid/.exec(page)
      assert.ok(shown, 'the page shows the verdict')
      const verified = await runCli(['verify', file, '--json'], env())
      assert.equal(verified.code, 0, `${verified.stdout}${verified.stderr}`)
      const report = JSON.parse(verified.stdout)
      assert.ok(report.signaturesVerified >= 2, 'the two sales are signed')
      assert.equal(Number(shown[1]), report.signaturesVerified)
    })

    test('bad input is refused with 400 naming the field, and starts nothing', async () => {
      const before = (
        await h.runtime.exportRuns.list((await h.runtime.cashboxes.find(at.box.cashboxId))!.accountId, 100)
      ).length
      const badMoment = await start(shop, {
        cashboxId: at.box.cashboxId,
        format: 'at-dep7',
        from: 'yesterday',
      })
      assert.equal(badMoment.statusCode, 400, badMoment.body)
      assert.match(badMoment.body, /from/)
      assert.match(badMoment.body, /ISO 8601/)
      const foreignFormat = await start(shop, { cashboxId: at.box.cashboxId, format: 'de-tar' })
      assert.equal(foreignFormat.statusCode, 400, foreignFormat.body)
      assert.match(foreignFormat.body, /format/)
      const after = await h.runtime.exportRuns.list(
        (await h.runtime.cashboxes.find(at.box.cashboxId))!.accountId,
        100,
      )
      assert.equal(after.length, before)
    })

    test('a run whose node stopped is shown failed as interrupted, with what to do; a beating one runs on', async () => {
      const accountId = (await h.runtime.cashboxes.find(at.box.cashboxId))!.accountId
      const run = (heartbeatAt: string) => ({
        id: crypto.randomUUID(),
        accountId,
        cashboxId: at.box.cashboxId,
        cashboxLabel: 'Wien 1',
        format: 'at-dep7',
        formatLabel: 'DEP7',
        period: {},
        status: 'exporting' as const,
        done: 3,
        total: 10,
        startedAt: heartbeatAt,
        heartbeatAt,
        finishedAt: null,
        files: [],
        bytes: 0,
        error: null,
        verdict: null,
      })
      // Rows as a node leaves them in the shared database: one that died ten minutes ago, one beating.
      const dead = run(new Date(Date.now() - 10 * 60_000).toISOString())
      const alive = run(new Date().toISOString())
      await h.runtime.exportRuns.insert(dead)
      await h.runtime.exportRuns.insert(alive)
      const page = await h.app.inject({
        method: 'GET',
        url: `/dashboard/exports/${dead.id}`,
        headers: { cookie: shop.cookie },
      })
      assert.equal(page.statusCode, 200, page.body)
      assert.match(page.body, /interrupted: the node that ran it stopped/)
      assert.match(page.body, /start the export again/)
      assert.equal((await h.runtime.exportRuns.find(dead.id))?.status, 'failed', 'recorded, not only shown')
      const running = await h.app.inject({
        method: 'GET',
        url: `/dashboard/exports/${alive.id}`,
        headers: { cookie: shop.cookie },
      })
      assert.doesNotMatch(running.body, /interrupted/)
      assert.equal((await h.runtime.exportRuns.find(alive.id))?.status, 'exporting')
    })

    test("another account's operator gets 404 for the run, its download and its cash box", async () => {
      const { runUrl } = await exportThrough(
        { cashboxId: at.box.cashboxId, format: 'journal' },
        join(downloads, 'journal.jsonl'),
      )
      for (const url of [runUrl, `${runUrl}/download`]) {
        const reply = await h.app.inject({ method: 'GET', url, headers: { cookie: other.cookie } })
        assert.equal(reply.statusCode, 404, url)
        assert.match(reply.body, /no such export in your account/)
      }
      const list = await h.app.inject({
        method: 'GET',
        url: '/dashboard/exports',
        headers: { cookie: other.cookie },
      })
      assert.match(list.body, /No exports yet/)
      const foreign = await start(other, { cashboxId: at.box.cashboxId, format: 'at-dep7' })
      assert.equal(foreign.statusCode, 404, foreign.body)
    })

    test('runs are in the database: a second dashboard on the same database and folder lists and serves them', async () => {
      const second = await buildApp(h.runtime, {
        bodyLimit: 1024 * 1024,
        logger: false,
        dashboard: { exportsDir },
      })
      try {
        const signed = await signIn(second, 'shop@example.com', 'shop-correct-horse-battery')
        const list = await second.inject({
          method: 'GET',
          url: '/dashboard/exports',
          headers: { cookie: signed.cookie },
        })
        const runs = [...list.body.matchAll(/href="(\/dashboard\/exports\/[0-9a-f-]{36})"/g)].map((m) => m[1])
        assert.ok(runs.length >= 3, `the runs started on the first dashboard are listed (${runs.length})`)
        const download = await second.inject({
          method: 'GET',
          url: `${runs[0]}/download`,
          headers: { cookie: signed.cookie },
        })
        assert.equal(download.statusCode, 200, download.body)
      } finally {
        await second.close()
      }
    })
  })
}
