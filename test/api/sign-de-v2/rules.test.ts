import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { engines } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import { createCredentials, receipt, type SignDeClient, setUpTss, signDeClient } from './support.ts'

const expectError = (response: { status: number; body: any }, status: number, code: string) => {
  assert.equal(response.status, status, JSON.stringify(response.body))
  assert.equal(response.body.code, code, JSON.stringify(response.body))
  assert.equal(response.body.status_code, status)
  assert.equal(typeof response.body.error, 'string')
  assert.equal(typeof response.body.message, 'string')
}

for (const engine of await engines()) {
  describe(`SIGN DE v2 rules of the TSS (${engine})`, () => {
    let harness: Harness
    let api: SignDeClient

    before(async () => {
      harness = await startHarness(engine)
      api = await signDeClient(harness.app, await createCredentials(harness))
    })
    after(async () => harness.close())

    const counterOf = async (tssId: string) =>
      Number((await api.call('GET', `/tss/${tssId}`)).body.signature_counter)

    it('lifecycle: PUK only while CREATED, legal transitions only, admin needed, DISABLED is final', async () => {
      const tssId = randomUUID()
      const created = await api.call('PUT', `/tss/${tssId}`, {})
      const puk = created.body.admin_puk
      // A retried create while CREATED shows the same PUK; a GET never does.
      assert.equal((await api.call('PUT', `/tss/${tssId}`, {})).body.admin_puk, puk)
      assert.equal((await api.call('GET', `/tss/${tssId}`)).body.admin_puk, undefined)
      expectError(
        await api.call('PATCH', `/tss/${tssId}`, { state: 'INITIALIZED' }),
        400,
        'E_ILLEGAL_TSS_STATE_CHANGE',
      )
      expectError(await api.call('PATCH', `/tss/${tssId}`, { state: 'CREATED' }), 400, 'E_VALIDATION')
      expectError(
        await api.call('PATCH', `/tss/${tssId}`, { state: 'UNINITIALIZED', other: 1 }),
        400,
        'E_VALIDATION',
      )
      assert.equal((await api.call('PATCH', `/tss/${tssId}`, { state: 'UNINITIALIZED' })).status, 200)
      assert.equal((await api.call('PUT', `/tss/${tssId}`, {})).body.admin_puk, undefined)
      // PIN blocked right after creation: initializing needs it.
      expectError(
        await api.call('PATCH', `/tss/${tssId}`, { state: 'INITIALIZED' }),
        423,
        'E_ADMIN_PIN_BLOCKED',
      )
      expectError(
        await api.call('POST', `/tss/${tssId}/admin/auth`, { admin_pin: '123456' }),
        423,
        'E_ADMIN_PIN_BLOCKED',
      )
      expectError(
        await api.call('PATCH', `/tss/${tssId}/admin`, { admin_puk: 'WRONGWRONG', new_admin_pin: '123456' }),
        400,
        'E_CHANGE_ADMIN_PIN_FAILED',
      )
      expectError(
        await api.call('PATCH', `/tss/${tssId}/admin`, { admin_puk: puk, new_admin_pin: '12345' }),
        400,
        'E_VALIDATION',
      )
      assert.equal(
        (await api.call('PATCH', `/tss/${tssId}/admin`, { admin_puk: puk, new_admin_pin: '246810' })).status,
        200,
      )
      expectError(
        await api.call('PATCH', `/tss/${tssId}`, { state: 'INITIALIZED' }),
        401,
        'E_ADMIN_NOT_AUTHENTICATED',
      )
      // Five wrong PINs block it, even for the right PIN; the PUK unblocks it.
      for (let i = 0; i < 5; i++)
        expectError(
          await api.call('POST', `/tss/${tssId}/admin/auth`, { admin_pin: 'wrong-pin' }),
          401,
          'E_ADMIN_LOGIN_FAILED',
        )
      expectError(
        await api.call('POST', `/tss/${tssId}/admin/auth`, { admin_pin: '246810' }),
        423,
        'E_ADMIN_PIN_BLOCKED',
      )
      assert.equal(
        (await api.call('PATCH', `/tss/${tssId}/admin`, { admin_puk: puk, new_admin_pin: '135791' })).status,
        200,
      )
      assert.equal((await api.call('POST', `/tss/${tssId}/admin/auth`, { admin_pin: '135791' })).status, 200)
      const init = await api.call('PATCH', `/tss/${tssId}`, { state: 'INITIALIZED' })
      assert.equal(init.body.state, 'INITIALIZED')
      assert.ok(init.body.time_init >= init.body.time_uninit)
      // Logout twice: the second one is a no-op.
      assert.equal((await api.call('POST', `/tss/${tssId}/admin/logout`, {})).status, 200)
      const counter = await counterOf(tssId)
      assert.equal((await api.call('POST', `/tss/${tssId}/admin/logout`, {})).status, 200)
      assert.equal(await counterOf(tssId), counter)
      // Every attempt was logged: audit, 2 unblockUser, 7 authenticateUser, initialize, logOut.
      assert.equal(counter, 12)
      assert.equal((await api.call('POST', `/tss/${tssId}/admin/auth`, { admin_pin: '135791' })).status, 200)
      const disabled = await api.call('PATCH', `/tss/${tssId}`, { state: 'DISABLED' })
      assert.equal(disabled.body.state, 'DISABLED')
      expectError(
        await api.call('PATCH', `/tss/${tssId}`, { state: 'INITIALIZED' }),
        400,
        'E_ILLEGAL_TSS_STATE_CHANGE',
      )
      expectError(
        await api.call('PUT', `/tss/${tssId}/client/${randomUUID()}`, { serial_number: 'X' }),
        400,
        'E_TSS_DISABLED',
      )
      // Reads, metadata and exports still work.
      assert.equal((await api.call('PATCH', `/tss/${tssId}/metadata`, { k: 'v' })).body.k, 'v')
      assert.equal((await api.call('PUT', `/tss/${tssId}/export/${randomUUID()}`, {})).status, 200)
    })

    it('clients: serial rules, admin, conflicts, deregistration', async () => {
      const { tssId, pin, clientIds } = await setUpTss(api)
      const clientId = randomUUID()
      expectError(
        await api.call('PUT', `/tss/${tssId}/client/${clientId}`, { serial_number: 'POS-9' }),
        401,
        'E_ADMIN_NOT_AUTHENTICATED',
      )
      await api.call('POST', `/tss/${tssId}/admin/auth`, { admin_pin: pin })
      for (const bad of ['a/b', 'a_b', '', 'ü', 'x'.repeat(71)])
        assert.equal(
          (await api.call('PUT', `/tss/${tssId}/client/${clientId}`, { serial_number: bad })).status,
          400,
          bad,
        )
      expectError(
        await api.call('PUT', `/tss/${tssId}/client/${clientId}`, { serial_number: 'a/b' }),
        400,
        'E_ILLEGAL_CLIENT_SERIAL',
      )
      const ok = await api.call('PUT', `/tss/${tssId}/client/${clientId}`, {
        serial_number: "Kasse (2) +=:?.,'-",
      })
      assert.equal(ok.status, 200, JSON.stringify(ok.body))
      assert.equal(ok.body._type, 'CLIENT')
      assert.equal(ok.body.state, 'REGISTERED')
      const counter = await counterOf(tssId)
      assert.deepEqual(
        (await api.call('PUT', `/tss/${tssId}/client/${clientId}`, { serial_number: "Kasse (2) +=:?.,'-" }))
          .body,
        ok.body,
      )
      assert.equal(await counterOf(tssId), counter)
      expectError(
        await api.call('PUT', `/tss/${tssId}/client/${clientId}`, { serial_number: 'other' }),
        409,
        'E_CLIENT_CONFLICT',
      )
      expectError(
        await api.call('PUT', `/tss/${tssId}/client/${randomUUID()}`, { serial_number: 'POS-1' }),
        409,
        'E_CLIENT_CONFLICT',
      )
      const first = clientIds[0] as string
      assert.equal(
        (await api.call('PATCH', `/tss/${tssId}/client/${first}`, { state: 'DEREGISTERED' })).body.state,
        'DEREGISTERED',
      )
      expectError(
        await api.call('PUT', `/tss/${tssId}/tx/${randomUUID()}?tx_revision=1`, {
          state: 'ACTIVE',
          client_id: first,
        }),
        400,
        'E_CLIENT_DEREGISTERED',
      )
      assert.equal(
        (await api.call('PATCH', `/tss/${tssId}/client/${first}`, { state: 'REGISTERED' })).body.state,
        'REGISTERED',
      )
      assert.equal((await api.call('GET', `/tss/${tssId}`)).body.number_registered_clients, 2)
      expectError(await api.call('GET', `/tss/${tssId}/client/${randomUUID()}`), 404, 'E_CLIENT_NOT_FOUND')
    })

    it('clients: at most 199 per TSS', async () => {
      const { tssId, pin } = await setUpTss(api)
      await api.call('POST', `/tss/${tssId}/admin/auth`, { admin_pin: pin })
      for (let i = 2; i <= 199; i++) {
        const r = await api.call('PUT', `/tss/${tssId}/client/${randomUUID()}`, { serial_number: `C${i}` })
        assert.equal(r.status, 200, JSON.stringify(r.body))
      }
      expectError(
        await api.call('PUT', `/tss/${tssId}/client/${randomUUID()}`, { serial_number: 'C200' }),
        403,
        'E_CLIENT_LIMIT_REACHED',
      )
      const page = await api.call('GET', `/tss/${tssId}/client?limit=100&offset=100`)
      assert.equal(page.body.count, 199)
      assert.equal(page.body.data.length, 99)
    })

    it('transactions: revisions, types, conflicts and errors write nothing', async () => {
      const { tssId, clientIds } = await setUpTss(api)
      const client_id = clientIds[0] as string
      const txId = randomUUID()
      const before = await counterOf(tssId)
      expectError(
        await api.call('PUT', `/tss/${tssId}/tx/${txId}?tx_revision=1`, {
          state: 'ACTIVE',
          client_id: randomUUID(),
        }),
        400,
        'E_CLIENT_NOT_FOUND',
      )
      expectError(
        await api.call('PUT', `/tss/${tssId}/tx/${txId}?tx_revision=2`, { state: 'ACTIVE', client_id }),
        400,
        'E_TX_UPSERT',
      )
      expectError(
        await api.call('PUT', `/tss/${tssId}/tx/${txId}?tx_revision=1`, {
          state: 'ACTIVE',
          client_id,
          schema: receipt('1.00'),
        }),
        400,
        'E_TX_UPSERT',
      )
      expectError(
        await api.call('PUT', `/tss/${tssId}/tx/${txId}`, { state: 'ACTIVE', client_id }),
        400,
        'E_VALIDATION',
      )
      expectError(
        await api.call('PUT', `/tss/${tssId}/tx/${txId}?tx_revision=1`, { state: 'ACTIVE', client_id: 'x' }),
        400,
        'E_VALIDATION',
      )
      const badAmount = { ...receipt('1.00') }
      badAmount.standard_v1.receipt.amounts_per_vat_rate[0] = { vat_rate: 'NORMAL', amount: '1.5' }
      assert.equal(await counterOf(tssId), before)
      assert.equal(
        (await api.call('PUT', `/tss/${tssId}/tx/${txId}?tx_revision=1`, { state: 'ACTIVE', client_id }))
          .status,
        200,
      )
      expectError(
        await api.call('PUT', `/tss/${tssId}/tx/${txId}?tx_revision=2`, {
          state: 'FINISHED',
          client_id,
          schema: badAmount,
        }),
        400,
        'E_VALIDATION',
      )
      expectError(
        await api.call('PUT', `/tss/${tssId}/tx/${txId}?tx_revision=2`, { state: 'FINISHED', client_id }),
        409,
        'E_TX_NO_TYPE_DEFINED',
      )
      expectError(
        await api.call('PUT', `/tss/${tssId}/tx/${txId}?tx_revision=1`, { state: 'CANCELLED', client_id }),
        409,
        'E_PENDING_TX_CONFLICT',
      )
      const update = await api.call('PUT', `/tss/${tssId}/tx/${txId}?tx_revision=2`, {
        state: 'ACTIVE',
        client_id,
        schema: {
          raw: {
            process_type: 'Kassenbeleg-V1',
            process_data: Buffer.from('Beleg^1.00_0.00_0.00_0.00_0.00^1.00:Bar').toString('base64'),
          },
        },
      })
      assert.equal(update.status, 200, JSON.stringify(update.body))
      expectError(
        await api.call('PUT', `/tss/${tssId}/tx/${txId}?tx_revision=3`, {
          state: 'FINISHED',
          client_id,
          schema: receipt('1.00'),
        }),
        409,
        'E_TX_ILLEGAL_TYPE_CHANGE',
      )
      const finish = await api.call('PUT', `/tss/${tssId}/tx/${txId}?tx_revision=3`, {
        state: 'FINISHED',
        client_id,
        schema: {
          raw: {
            process_type: 'Kassenbeleg-V1',
            process_data: Buffer.from('Beleg^2.00_0.00_0.00_0.00_0.00^2.00:Unbar').toString('base64'),
          },
        },
        metadata: { receipt: 'R-1' },
      })
      assert.equal(finish.status, 200, JSON.stringify(finish.body))
      assert.match(
        finish.body.qr_code_data,
        /^V0;POS-1;Kassenbeleg-V1;Beleg\^2\.00_0\.00_0\.00_0\.00_0\.00\^2\.00:Unbar;1;/,
      )
      assert.deepEqual(finish.body.metadata, { receipt: 'R-1' })
      expectError(
        await api.call('PUT', `/tss/${tssId}/tx/${txId}?tx_revision=4`, {
          state: 'ACTIVE',
          client_id,
          schema: receipt('1.00'),
        }),
        400,
        'E_TX_UPSERT',
      )
      expectError(
        await api.call('GET', `/tss/${tssId}/tx/${txId}?tx_revision=9`),
        400,
        'E_TX_REVISION_NOT_FOUND',
      )
      expectError(await api.call('GET', `/tss/${tssId}/tx/${randomUUID()}`), 404, 'E_TX_NOT_FOUND')
      assert.equal(
        (await api.call('PATCH', `/tss/${tssId}/tx/${txId}/metadata`, { note: 'x' })).body.note,
        'x',
      )
      // VAT rates in their fixed order, several payments, foreign currency.
      const tx2 = randomUUID()
      await api.call('PUT', `/tss/${tssId}/tx/${tx2}?tx_revision=1`, { state: 'ACTIVE', client_id })
      const mixed = await api.call('PUT', `/tss/${tssId}/tx/${tx2}?tx_revision=2`, {
        state: 'FINISHED',
        client_id,
        schema: {
          standard_v1: {
            receipt: {
              receipt_type: 'TRAINING',
              amounts_per_vat_rate: [
                { vat_rate: 'NULL', amount: '0.50' },
                { vat_rate: 'REDUCED_1', amount: '67.89' },
                { vat_rate: 'NORMAL', amount: '123.45' },
                { vat_rate: 'NORMAL', amount: '0.005' },
              ],
              amounts_per_payment_type: [
                { payment_type: 'CASH', amount: '111.11' },
                { payment_type: 'NON_CASH', amount: '80.73' },
                { payment_type: 'CASH', amount: '5.00', currency_code: 'CHF' },
              ],
            },
          },
        },
      })
      assert.equal(
        mixed.body.qr_code_data.split(';')[3],
        'AVTraining^123.46_67.89_0.00_0.00_0.50^111.11:Bar_80.73:Unbar_5.00:Bar:CHF',
      )
    })

    it('transactions: at most 2000 ACTIVE per TSS; UNINITIALIZED and other organizations are refused', async () => {
      const { tssId, clientIds } = await setUpTss(api)
      const client_id = clientIds[0] as string
      for (let i = 0; i < 2000; i++) {
        const r = await api.call('PUT', `/tss/${tssId}/tx/${randomUUID()}?tx_revision=1`, {
          state: 'ACTIVE',
          client_id,
        })
        assert.equal(r.status, 200)
      }
      expectError(
        await api.call('PUT', `/tss/${tssId}/tx/${randomUUID()}?tx_revision=1`, {
          state: 'ACTIVE',
          client_id,
        }),
        400,
        'E_TX_LIMIT_REACHED',
      )
      const tss = (await api.call('GET', `/tss/${tssId}`)).body
      assert.equal(tss.number_active_transactions, 2000)
      assert.equal(tss.transaction_counter, '2000')

      const fresh = randomUUID()
      await api.call('PUT', `/tss/${fresh}`, {})
      await api.call('PATCH', `/tss/${fresh}`, { state: 'UNINITIALIZED' })
      expectError(
        await api.call('PUT', `/tss/${fresh}/tx/${randomUUID()}?tx_revision=1`, {
          state: 'ACTIVE',
          client_id,
        }),
        400,
        'E_TSS_NOT_INITIALIZED',
      )
      expectError(
        await api.call('PUT', `/tss/${fresh}/export/${randomUUID()}`, {}),
        409,
        'E_TSS_ILLEGAL_STATE_TO_PERFORM_EXPORT',
      )

      const other = await signDeClient(harness.app, await createCredentials(harness, 'TEST'))
      expectError(await other.call('GET', `/tss/${tssId}`), 404, 'E_TSS_NOT_FOUND')
      expectError(await other.call('PUT', `/tss/${tssId}`, {}), 409, 'E_TSS_CONFLICT')
      const list = await other.call('GET', '/tss')
      assert.equal(list.body.count, 0)
      assert.equal(list.body._env, 'TEST')
    })

    it('transport errors use the SIGN DE body: 413, unknown route, bad path id', async () => {
      const tssId = randomUUID()
      const big = await api.call('PUT', `/tss/${tssId}`, { metadata: { k: 'x'.repeat(1_100_000) } })
      expectError(big, 413, 'E_PAYLOAD_TOO_LARGE')
      expectError(await api.call('GET', '/nothing-here'), 404, 'E_NOT_FOUND')
      expectError(await api.call('GET', '/tss/not-a-uuid'), 400, 'E_VALIDATION')
      assert.match((await api.call('GET', '/tss/not-a-uuid')).body.message, /tss_id/)
      expectError(
        await api.call('PUT', `/tss/${tssId}`, { metadata: { k: 'x'.repeat(501) } }),
        400,
        'E_VALIDATION',
      )
      expectError(await api.call('GET', `/tss/${tssId}`), 404, 'E_TSS_NOT_FOUND')
    })

    it('authentication attempts from one address are rate limited with Retry-After', async () => {
      let answer: any
      for (let i = 0; i < 40; i++) {
        answer = await harness.app.inject({
          method: 'POST',
          url: '/api/v2/auth',
          remoteAddress: '192.0.2.7',
          payload: { api_key: 'guess', api_secret: `guess-${i}` },
        })
        if (answer.statusCode === 429) break
        assert.equal(answer.statusCode, 401)
      }
      assert.equal(answer.statusCode, 429)
      assert.equal(answer.json().code, 'E_RATE_LIMITED')
      assert.ok(Number(answer.headers['retry-after']) >= 1)
    })

    it('exports: too many records is an ERROR; its file answers 404 with Retry-After', async () => {
      const { tssId } = await setUpTss(api)
      const exportId = randomUUID()
      const put = await api.call('PUT', `/tss/${tssId}/export/${exportId}?maximum_number_records=2`, {})
      assert.equal(put.status, 200)
      let record: any
      for (let poll = 0; poll < 200; poll++) {
        record = (await api.call('GET', `/tss/${tssId}/export/${exportId}`)).body
        if (record.state !== 'PENDING' && record.state !== 'WORKING') break
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      assert.equal(record.state, 'ERROR')
      assert.equal(record.exception, 'E_TOO_MANY_RECORDS')
      const file = await api.call('GET', `/tss/${tssId}/export/${exportId}/file`)
      expectError(file, 404, 'E_EXPORT_NOT_COMPLETED')
      assert.equal(file.headers['retry-after'], '60')
      expectError(
        await api.call('PUT', `/tss/${tssId}/export/${randomUUID()}?maximum_number_records=0`, {}),
        400,
        'E_VALIDATION',
      )
      const list = await api.call('GET', `/tss/${tssId}/export`)
      assert.equal(list.body._type, 'EXPORT_LIST')
      assert.equal(list.body.count, 1)
    })

    it('exports: metadata merges; DELETE cancels an export but leaves an ERROR one as it is', async () => {
      const { tssId } = await setUpTss(api)
      const failed = randomUUID()
      assert.equal(
        (await api.call('PUT', `/tss/${tssId}/export/${failed}?maximum_number_records=1`, {})).status,
        200,
      )
      let state = 'PENDING'
      for (let poll = 0; poll < 200 && (state === 'PENDING' || state === 'WORKING'); poll++) {
        await new Promise((resolve) => setTimeout(resolve, 20))
        state = (await api.call('GET', `/tss/${tssId}/export/${failed}`)).body.state
      }
      assert.equal(state, 'ERROR')
      const first = await api.call('PATCH', `/tss/${tssId}/export/${failed}/metadata`, { a: '1' })
      assert.deepEqual(first.body, { a: '1' })
      const second = await api.call('PATCH', `/tss/${tssId}/export/${failed}/metadata`, { b: '2' })
      assert.deepEqual(second.body, { a: '1', b: '2' })
      assert.equal((await api.call('DELETE', `/tss/${tssId}/export/${failed}`)).body.state, 'ERROR')
      const cancelled = randomUUID()
      assert.equal((await api.call('PUT', `/tss/${tssId}/export/${cancelled}`, {})).status, 200)
      const answer = await api.call('DELETE', `/tss/${tssId}/export/${cancelled}`)
      assert.equal(answer.status, 200)
      assert.equal(answer.body.state, 'CANCELLED')
      assert.equal((await api.call('GET', `/tss/${tssId}/export/${cancelled}`)).body.state, 'CANCELLED')
      const unknown = await api.call('DELETE', `/tss/${tssId}/export/${randomUUID()}`)
      expectError(unknown, 404, 'E_EXPORT_NOT_FOUND')
    })
  })
}
