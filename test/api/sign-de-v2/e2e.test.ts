import assert from 'node:assert/strict'
import { createHash, createPublicKey, randomUUID, verify } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import tar from 'tar-stream'
import { cliEnv, runCli } from '../../cli/cli-process.ts'
import { engines } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import { createCredentials, receipt, type SignDeClient, setUpTss, signDeClient } from './support.ts'

/** Reads the TLVs of one DER level (test-side reader, independent of the producer's). */
function tlvs(der: Buffer): Array<{ tag: number; start: number; end: number; value: Buffer }> {
  const out = []
  let at = 0
  while (at < der.length) {
    const start = at
    const tag = der[at++] as number
    let length = der[at++] as number
    if (length & 0x80) {
      const n = length & 0x7f
      length = 0
      for (let i = 0; i < n; i++) length = length * 256 + (der[at++] as number)
    }
    out.push({ tag, start, end: at + length, value: der.subarray(at, at + length) })
    at += length
  }
  return out
}

function publicKeyOf(pointBase64: string) {
  const point = Buffer.from(pointBase64, 'base64')
  return createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33).toString('base64url'),
    },
    format: 'jwk',
  })
}

/** Verifies a TR-03151 log message: r||s over the content of the outer SEQUENCE without its last TLV. */
function verifyLog(der: Buffer, publicKey: string): { counter: number; fields: ReturnType<typeof tlvs> } {
  const [outer] = tlvs(der)
  assert.equal(outer?.tag, 0x30)
  const fields = tlvs(outer.value)
  const last = fields[fields.length - 1] as { start: number; value: Buffer; tag: number }
  assert.equal(last.tag, 0x04)
  const signed = outer.value.subarray(0, last.start)
  assert.ok(
    verify('sha256', signed, { key: publicKeyOf(publicKey), dsaEncoding: 'ieee-p1363' }, last.value),
    'log signature',
  )
  const counter = fields[fields.length - 3] as { value: Buffer }
  return { counter: Number.parseInt(counter.value.toString('hex'), 16), fields }
}

async function untar(buffer: Buffer): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>()
  const extract = tar.extract()
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = []
      stream.on('data', (c: unknown) => {
        chunks.push(c as Buffer)
      })
      stream.on('end', () => {
        files.set(header.name, Buffer.concat(chunks))
        next()
      })
    })
    extract.on('finish', resolve)
    extract.on('error', reject)
  })
  Readable.from([buffer]).pipe(extract)
  await done
  return files
}

for (const engine of await engines()) {
  describe(`SIGN DE v2 drop-in: set-up order and a day of transactions over HTTP (${engine})`, () => {
    let harness: Harness
    let api: SignDeClient
    let credentials: { api_key: string; api_secret: string; organization_id: string }

    before(async () => {
      harness = await startHarness(engine)
      credentials = await createCredentials(harness)
      api = await signDeClient(harness.app, credentials)
    })
    after(async () => harness.close())

    it('auth: api_key/api_secret and refresh_token give a JWT with expiry; wrong ones get 401', async () => {
      const auth = await harness.app.inject({ method: 'POST', url: '/api/v2/auth', payload: credentials })
      const grant = auth.json()
      assert.equal(grant.access_token_expires_in, 86400)
      assert.equal(grant.refresh_token_expires_in, 172800)
      assert.deepEqual(grant.access_token_claims, {
        env: 'LIVE',
        organization_id: credentials.organization_id,
      })
      assert.equal(grant.access_token.split('.').length, 3)
      const refreshed = await harness.app.inject({
        method: 'POST',
        url: '/api/v2/auth',
        payload: { refresh_token: grant.refresh_token },
      })
      assert.equal(refreshed.statusCode, 200)
      const bad = await harness.app.inject({
        method: 'POST',
        url: '/api/v2/auth',
        payload: { refresh_token: 'nope' },
      })
      assert.equal(bad.statusCode, 401)
      assert.deepEqual(Object.keys(bad.json()).sort(), ['code', 'error', 'message', 'status_code'])
      assert.equal(bad.json().status_code, 401)
      const wrong = await harness.app.inject({
        method: 'POST',
        url: '/api/v2/auth',
        payload: { api_key: credentials.api_key, api_secret: 'x' },
      })
      assert.equal(wrong.statusCode, 401)
      const noToken = await harness.app.inject({ method: 'GET', url: '/api/v2/tss' })
      assert.equal(noToken.statusCode, 401)
      assert.equal(noToken.json().code, 'E_UNAUTHORIZED')
    })

    it('documented set-up, a day of receipts, lists, export TAR with every log message verified', async () => {
      const { tssId, clientIds } = await setUpTss(api, { clients: 2 })
      const tss = (await api.call('GET', `/tss/${tssId}`)).body
      assert.equal(tss.state, 'INITIALIZED')
      assert.equal(tss._type, 'TSS')
      assert.equal(tss._env, 'LIVE')
      assert.equal(tss.signature_algorithm, 'ecdsa-plain-SHA256')
      assert.equal(tss.signature_timestamp_format, 'unixTime')
      assert.equal(tss.number_registered_clients, 2)
      assert.equal(tss.admin_puk, undefined)
      assert.match(tss.certificate, /^-----BEGIN CERTIFICATE-----/)
      // serial number = SHA-256 of the uncompressed public point
      assert.equal(
        tss.serial_number,
        createHash('sha256').update(Buffer.from(tss.public_key, 'base64')).digest('hex'),
      )
      const setupLogs = Number(tss.signature_counter)
      assert.equal(setupLogs, 7) // audit, unblockUser, authenticateUser, initialize, registerClient x2, logOut

      // A day: 40 receipts over two tills, one order update in between, every fifth one cancelled.
      let lastCounter = setupLogs
      const finished: any[] = []
      for (let i = 1; i <= 40; i++) {
        const txId = randomUUID()
        const clientId = clientIds[i % 2] as string
        const start = await api.call('PUT', `/tss/${tssId}/tx/${txId}?tx_revision=1`, {
          state: 'ACTIVE',
          client_id: clientId,
        })
        assert.equal(start.status, 200, JSON.stringify(start.body))
        assert.equal(start.body.number, i)
        assert.equal(start.body.log.operation, 'Start')
        assert.equal(start.body.signature.counter, ++lastCounter)
        // a retried start answers the same and signs nothing
        const retry = await api.call('PUT', `/tss/${tssId}/tx/${txId}?tx_revision=1`, {
          state: 'ACTIVE',
          client_id: clientId,
        })
        assert.deepEqual(retry.body, start.body)
        let revision = 1
        if (i % 3 === 0) {
          const update = await api.call('PUT', `/tss/${tssId}/tx/${txId}?tx_revision=${++revision}`, {
            state: 'ACTIVE',
            client_id: clientId,
            schema: {
              standard_v1: {
                order: { line_items: [{ quantity: '2', text: 'Kaffee', price_per_unit: '2.50' }] },
              },
            },
          })
          assert.equal(update.status, 200, JSON.stringify(update.body))
          assert.equal(update.body.log.operation, 'Update')
          assert.equal(update.body.signature.counter, ++lastCounter)
        }
        const cancel = i % 5 === 0
        const end = await api.call('PUT', `/tss/${tssId}/tx/${txId}?tx_revision=${++revision}`, {
          state: cancel ? 'CANCELLED' : 'FINISHED',
          client_id: clientId,
          ...(cancel ? {} : { schema: receipt(`${i}.90`, i % 2 ? 'CASH' : 'NON_CASH') }),
        })
        assert.equal(end.status, 200, JSON.stringify(end.body))
        assert.equal(end.body.state, cancel ? 'CANCELLED' : 'FINISHED')
        assert.equal(end.body.log.operation, 'Finish')
        assert.equal(end.body.signature.counter, ++lastCounter)
        assert.equal(end.body.revision, revision)
        assert.equal(end.body.latest_revision, revision)
        assert.ok(end.body.time_end >= end.body.time_start)
        finished.push(end.body)
      }

      // qr_code_data: V0;client;processType;processData;number;counter;start;end;alg;unixTime;signature;public key
      const sample = finished[0]
      const qr = (sample.qr_code_data as string).split(';')
      assert.equal(qr.length, 12)
      assert.deepEqual(qr.slice(0, 6), [
        'V0',
        'POS-2',
        'Kassenbeleg-V1',
        'Beleg^1.90_0.00_0.00_0.00_0.00^1.90:Bar',
        '1',
        String(setupLogs + 2),
      ])
      assert.match(qr[6] as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/)
      assert.deepEqual(qr.slice(8), [
        'ecdsa-plain-SHA256',
        'unixTime',
        sample.signature.value,
        tss.public_key,
      ])

      // The log message of a finish verifies against the TSS key and carries the data of the QR code.
      const log = await api.call('GET', `/tss/${tssId}/tx/${sample._id}/log`)
      assert.equal(log.status, 200)
      const { counter, fields } = verifyLog(log.raw, tss.public_key)
      assert.equal(counter, sample.signature.counter)
      assert.equal(fields[2]?.value.toString(), 'FinishTransaction')
      assert.equal(fields[3]?.value.toString(), 'POS-2')
      assert.equal(fields[4]?.value.toString(), qr[3])
      assert.equal(fields[5]?.value.toString(), 'Kassenbeleg-V1')

      // Earlier revisions stay readable; lists page with counts.
      const rev1 = await api.call('GET', `/tss/${tssId}/tx/${sample._id}?tx_revision=1`)
      assert.equal(rev1.body.state, 'ACTIVE')
      assert.equal(rev1.body.latest_revision, 2)
      const byNumber = await api.call('GET', `/tss/${tssId}/tx/1`)
      assert.equal(byNumber.body._id, sample._id)
      const page = await api.call('GET', `/tss/${tssId}/tx?limit=10&offset=30&order=asc`)
      assert.equal(page.body._type, 'TRANSACTION_LIST')
      assert.equal(page.body.count, 40)
      assert.deepEqual(
        page.body.data.map((t: any) => t.number),
        [31, 32, 33, 34, 35, 36, 37, 38, 39, 40],
      )
      const cancelled = await api.call('GET', `/tss/${tssId}/tx?states[]=CANCELLED`)
      assert.equal(cancelled.body.count, 8)
      const clientTx = await api.call('GET', `/tss/${tssId}/client/${clientIds[0]}/tx`)
      assert.equal(clientTx.body.count, 20)
      const clients = await api.call('GET', `/tss/${tssId}/client`)
      assert.equal(clients.body._type, 'CLIENT_LIST')
      assert.equal(clients.body.count, 2)
      const tssList = await api.call('GET', '/tss')
      assert.equal(tssList.body._type, 'TSS_LIST')
      assert.ok(tssList.body.data.some((t: any) => t._id === tssId))
      assert.equal((await api.call('GET', `/tss/${tssId}`)).body.number_active_transactions, 0)

      // Export: asynchronous job, then the TAR holds info.csv, the chain, and every log message.
      const exportId = randomUUID()
      const triggered = await api.call('PUT', `/tss/${tssId}/export/${exportId}`, {})
      assert.equal(triggered.status, 200, JSON.stringify(triggered.body))
      assert.equal(triggered.body._type, 'EXPORT')
      let state = triggered.body.state
      for (let poll = 0; poll < 200 && (state === 'PENDING' || state === 'WORKING'); poll++) {
        await new Promise((resolve) => setTimeout(resolve, 20))
        state = (await api.call('GET', `/tss/${tssId}/export/${exportId}`)).body.state
      }
      assert.equal(state, 'COMPLETED')
      const file = await api.call('GET', `/tss/${tssId}/export/${exportId}/file`)
      assert.equal(file.status, 200)
      assert.equal(file.headers['content-type'], 'application/x-tar')
      const entries = await untar(file.raw)
      const names = [...entries.keys()]
      assert.equal(names[0], 'info.csv')
      assert.equal(names.filter((n) => n.endsWith('_X509.der')).length, 3)
      assert.ok(names.includes(`${tss.serial_number.toUpperCase()}_X509.der`))
      const logs = names.filter((n) => n.endsWith('.log'))
      assert.equal(logs.length, lastCounter)
      const counters = logs.map((name) => verifyLog(entries.get(name) as Buffer, tss.public_key).counter)
      assert.deepEqual(
        counters,
        Array.from({ length: lastCounter }, (_, i) => i + 1),
      )
      assert.ok(logs.some((n) => /_Sig-1_Log-Aud\.log$/.test(n)))
      assert.ok(logs.some((n) => /_Log-Sys_authenticateUser\.log$/.test(n)))
      assert.ok(logs.some((n) => /_Log-Tra_No-40_Finish_Client-POS-1\.log$/.test(n)))
      // The independent verifier accepts the downloaded archive as it is.
      const downloaded = join(harness.dataDir, 'export.tar')
      writeFileSync(downloaded, file.raw)
      const verified = await runCli(
        ['verify', downloaded],
        cliEnv({ DATABASE_URL: harness.databaseUrl, FISCALBOX_DATA_DIR: harness.dataDir }),
      )
      assert.equal(verified.code, 0, verified.stdout + verified.stderr)
      assert.match(verified.stdout, new RegExp(`^OK: TSS export verified: ${lastCounter} log messages`))

      // Filters: one client's transaction logs only.
      const filteredId = randomUUID()
      await api.call(
        'PUT',
        `/tss/${tssId}/export/${filteredId}?client_id=${clientIds[0]}&start_transaction_number=1&end_transaction_number=10`,
        {},
      )
      let filtered: any
      for (let poll = 0; poll < 200; poll++) {
        filtered = (await api.call('GET', `/tss/${tssId}/export/${filteredId}`)).body
        if (filtered.state !== 'PENDING' && filtered.state !== 'WORKING') break
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      assert.equal(filtered.state, 'COMPLETED')
      const filteredFile = await untar((await api.call('GET', `/tss/${tssId}/export/${filteredId}/file`)).raw)
      const filteredLogs = [...filteredFile.keys()].filter((n) => n.endsWith('.log'))
      assert.ok(filteredLogs.length > 0)
      assert.ok(filteredLogs.every((n) => /_Log-Tra_No-(\d+)_\w+_Client-POS-1\.log$/.test(n)))
    })
  })
}
