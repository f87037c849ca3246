import assert from 'node:assert/strict'
import { createPublicKey, randomUUID, verify, X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import pkcs11 from 'pkcs11js'
import { buildApp } from '../../src/api/app.ts'
import { openRuntime, type Runtime } from '../../src/runtime.ts'
import { verifyDep7 } from '../../src/verify/dep7-verifier.ts'
import { cliEnv, runCli, startServe } from '../cli/cli-process.ts'
import { freshSoftToken, SOFTHSM2_MODULE, type SoftToken } from '../helpers/softhsm.ts'
import { AT_CASE, AtPos, atReceipt } from '../markets/at/support.ts'
import { DE_CASE, DePos, deReceipt, VAT } from '../markets/de/support.ts'

const EU_SALE = {
  cbReceiptReference: 'hsm-1',
  cbReceiptMoment: new Date().toISOString(),
  ftReceiptCase: '0x4555200000000001',
  cbChargeItems: [
    { Quantity: 1, Description: 'Tea', Amount: 3.5, VATRate: 20, ftChargeItemCase: '0x4555200000000013' },
  ],
  cbPayItems: [{ Description: 'Cash', Amount: 3.5, ftPayItemCase: '0x4555200000000001' }],
}

const EU_START = '0x4555200000004001'

/** The token's public key object with this label, read by pkcs11-tool (not by fiscalbox): SPKI DER. */
function publicKeyInToken(token: SoftToken, label: string, dir: string): Buffer {
  const listing = token.tool(['--list-objects', '--type', 'pubkey'])
  const objects = listing.split(/^(?=Public Key Object)/m)
  const object = objects.find((text) => new RegExp(`^\\s+label:\\s+${label}$`, 'm').test(text))
  assert.ok(object, `no public key labelled "${label}" in the token:\n${listing}`)
  const id = /^\s+ID:\s+([0-9a-f]+)$/m.exec(object)?.[1] as string
  const file = join(dir, `${id}.der`)
  token.tool(['--read-object', '--type', 'pubkey', '--id', id, '--output-file', file])
  return readFileSync(file)
}

/** Every private key object of the token, found through pkcs11js directly: handle and label. */
function privateKeysOf(library: pkcs11.PKCS11, session: Buffer) {
  library.C_FindObjectsInit(session, [{ type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PRIVATE_KEY }])
  const handles = library.C_FindObjects(session, 100)
  library.C_FindObjectsFinal(session)
  return handles.map((handle) => ({
    handle,
    label: String(library.C_GetAttributeValue(session, handle, [{ type: pkcs11.CKA_LABEL }])[0]?.value),
  }))
}

describe('signing keys in a PKCS#11 token (SoftHSM2)', () => {
  let token: SoftToken
  let dir: string
  let runtime: Runtime
  let app: Awaited<ReturnType<typeof buildApp>>
  let databaseUrl: string
  const settings = () => ({
    DATABASE_URL: databaseUrl,
    FISCALBOX_DATA_DIR: dir,
    PG_POOL_SIZE: 10,
    ...token.settings,
  })
  const start = async () => {
    runtime = await openRuntime(settings())
    app = await buildApp(runtime, { bodyLimit: 1024 * 1024, logger: false })
    await app.ready()
  }
  const stop = async () => {
    await app.close()
    await runtime.close()
  }

  before(async () => {
    token = freshSoftToken()
    // SoftHSM2 reads its configuration when the module is initialized: this process's token is this one.
    process.env.SOFTHSM2_CONF = token.conf
    dir = mkdtempSync(join(tmpdir(), 'fiscalbox-hsm-'))
    databaseUrl = `sqlite:${join(dir, 'fiscalbox.db')}`
    await start()
  })
  after(async () => {
    await stop()
    token.remove()
    rmSync(dir, { recursive: true, force: true })
  })

  test('a generic cash box: its queue key is made in the token and signs the chain, across a restart', async () => {
    const box = await runtime.cashboxes.create('EU')
    const publicKey = publicKeyInToken(token, `fiscalbox queue ${box.queueId}`, dir)
    assert.equal(publicKey.toString('base64'), box.publicKey, 'the published key is the token key')
    const post = async (payload: Record<string, unknown>) => {
      const reply = await app.inject({
        method: 'POST',
        url: '/v2/sign',
        headers: {
          'x-cashbox-id': box.cashboxId,
          'x-cashbox-accesstoken': box.accessToken,
          'x-operation-id': randomUUID(),
          'content-type': 'application/json',
        },
        payload,
      })
      assert.equal(reply.statusCode, 200, reply.payload)
      return reply
    }
    await post({
      ...EU_SALE,
      cbReceiptReference: 'hsm-start',
      ftReceiptCase: EU_START,
      cbChargeItems: [],
      cbPayItems: [],
    })
    const sign = async (reference: string) => {
      const reply = await post({ ...EU_SALE, cbReceiptReference: reference })
      const data = reply.json().ftSignatures.find((s: any) => s.Data.startsWith('FB1_'))?.Data as string
      assert.ok(data, reply.payload)
      const fields = data.split('_')
      return { signed: fields.slice(0, 6).join('_'), signature: fields.slice(6).join('_') }
    }
    const key = createPublicKey({ key: publicKey, format: 'der', type: 'spki' })
    const first = await sign('hsm-1')
    assert.ok(
      verify(
        'sha256',
        Buffer.from(first.signed),
        { key, dsaEncoding: 'ieee-p1363' },
        Buffer.from(first.signature, 'base64url'),
      ),
      'the receipt signature verifies with the public key read from the token',
    )
    // A new process finds the key again in the token by its id.
    await stop()
    await start()
    const second = await sign('hsm-2')
    assert.ok(
      verify(
        'sha256',
        Buffer.from(second.signed),
        { key, dsaEncoding: 'ieee-p1363' },
        Buffer.from(second.signature, 'base64url'),
      ),
    )
    const env = cliEnv({ DATABASE_URL: databaseUrl, FISCALBOX_DATA_DIR: dir })
    const journal = join(dir, 'journal.jsonl')
    const exported = await runCli(['export', 'journal', '--cashbox', box.cashboxId, '--out', journal], env)
    assert.equal(exported.code, 0, exported.stderr)
    const checked = await runCli(['verify', journal], env)
    assert.equal(checked.code, 0, checked.stdout + checked.stderr)
  })

  test('a DE cash box: the TSS key is in the token, and its TAR export passes fiscalbox verify', async () => {
    const pos = new DePos(app, await runtime.cashboxes.create('DE'))
    await pos.signOk(deReceipt(DE_CASE.start))
    await pos.signOk(
      deReceipt(DE_CASE.posImplicit, [{ amount: '11.90', vat: VAT.normal }], [{ amount: '11.90' }]),
    )
    const tss = (await pos.request('GET', '/de/v1/tss')).json()
    const inToken = createPublicKey({
      key: publicKeyInToken(token, `fiscalbox TSS ${tss.tss_id}`, dir),
      format: 'der',
      type: 'spki',
    }).export({ format: 'jwk' })
    const point = Buffer.from(tss.public_key, 'base64')
    assert.equal(
      point.subarray(1, 33).toString('base64url'),
      inToken.x,
      'the TSS public key is the token key',
    )
    assert.equal(point.subarray(33).toString('base64url'), inToken.y)
    const tar = join(dir, 'tss.tar')
    const env = cliEnv({ DATABASE_URL: databaseUrl, FISCALBOX_DATA_DIR: dir })
    const exported = await runCli(['export', 'tar', '--tss', tss.tss_id, '--out', tar], env)
    assert.equal(exported.code, 0, exported.stderr)
    const verified = await runCli(['verify', tar], env)
    assert.equal(verified.code, 0, verified.stdout + verified.stderr)
  })

  test('an AT cash box: signature devices in the token, the certificate made with it, DEP7 verifies', async () => {
    const pos = new AtPos(app, await runtime.cashboxes.create('AT'))
    const aesKey = 'WQRtiiya3hYh/Uz44Bv3x8ETl1nrH6nCdErn69g5/lU='
    // Refused input writes nothing, in the token either: device 0's key, made before device 1 was refused, goes.
    const refused = await pos.request('PUT', '/at/v1/cashbox', {
      kassenId: 'KASSE-HSM',
      aesKey,
      companyId: 'U:ATU12345678',
      devices: [{ number: 0 }, { number: 1, provider: 'AT1', serial: 'not-hex' }],
    })
    assert.equal(refused.status, 400, refused.payload)
    assert.equal(refused.json().details.field, 'devices[1].serial')
    assert.ok(
      !token.tool(['--list-objects']).includes(`fiscalbox AT device ${pos.box.queueId}/`),
      'no key of the refused devices is left in the token',
    )
    const provisioned = await pos.provision({
      kassenId: 'KASSE-HSM',
      aesKey,
      companyId: 'U:ATU12345678',
      devices: [{ number: 0 }, { number: 1, provider: 'AT1', serial: '1a2b3c' }],
    })
    for (const device of provisioned.devices) {
      const label = `fiscalbox AT device ${pos.box.queueId}/${device.number}`
      assert.equal(publicKeyInToken(token, label, dir).toString('base64'), device.publicKey)
    }
    const certificate = new X509Certificate(Buffer.from(provisioned.devices[1].certificate, 'base64'))
    assert.ok(
      certificate.verify(certificate.publicKey),
      'the self-signed certificate is signed by the token key',
    )
    await pos.signOk(
      atReceipt({ reference: 'A-1', moment: new Date().toISOString(), caseCode: AT_CASE.start }),
    )
    await pos.signOk(
      atReceipt({
        reference: 'A-2',
        moment: new Date().toISOString(),
        caseCode: AT_CASE.pos,
        sets: [1200n, 550n],
      }),
    )
    await pos.signOk(
      atReceipt({
        reference: 'A-3',
        moment: new Date().toISOString(),
        caseCode: AT_CASE.pos,
        sets: [300n],
        device: 1,
      }),
    )
    const report = verifyDep7(await pos.dep7(), {
      base64AESKey: aesKey,
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
    })
    assert.deepEqual(report.problems, [])
    assert.equal(report.receipts, 3)
  })

  test('the private keys are sensitive and not extractable: the token refuses CKA_VALUE', () => {
    const library = new pkcs11.PKCS11()
    library.load(SOFTHSM2_MODULE)
    // The runtime of this suite has initialized the module in this process already.
    try {
      library.C_Initialize()
    } catch (error) {
      assert.match((error as Error).message, /CKR_CRYPTOKI_ALREADY_INITIALIZED/)
    }
    const slot = library
      .C_GetSlotList(true)
      .find((s) => library.C_GetTokenInfo(s).label.trim() === token.label) as Buffer
    const session = library.C_OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
    try {
      library.C_Login(session, pkcs11.CKU_USER, token.pin)
    } catch (error) {
      assert.match((error as Error).message, /CKR_USER_ALREADY_LOGGED_IN/)
    }
    const keys = privateKeysOf(library, session)
    assert.ok(keys.length >= 4, `queue, TSS and AT device keys expected, found ${keys.map((k) => k.label)}`)
    for (const key of keys) {
      assert.throws(
        () => library.C_GetAttributeValue(session, key.handle, [{ type: pkcs11.CKA_VALUE }]),
        /CKR_ATTRIBUTE_SENSITIVE/,
        `${key.label}: CKA_VALUE must not come out`,
      )
      const [sensitive, extractable, neverExtractable] = library.C_GetAttributeValue(session, key.handle, [
        { type: pkcs11.CKA_SENSITIVE },
        { type: pkcs11.CKA_EXTRACTABLE },
        { type: pkcs11.CKA_NEVER_EXTRACTABLE },
      ])
      assert.deepEqual(
        [sensitive?.value, extractable?.value, neverExtractable?.value].map((v) => (v as Buffer)[0]),
        [1, 0, 1],
        `${key.label}: sensitive, not extractable, never extractable`,
      )
    }
    library.C_CloseSession(session)
  })

  test('`fiscalbox serve` with the token settings says where new keys go', async () => {
    const env = cliEnv({
      DATABASE_URL: databaseUrl,
      FISCALBOX_DATA_DIR: dir,
      PORT: '0',
      HOST: '127.0.0.1',
      SOFTHSM2_CONF: token.conf,
      ...token.settings,
    })
    const outcome = await startServe(env)
    assert.ok(outcome.started, outcome.started ? '' : outcome.stderr)
    const { stdout, stderr } = outcome.server.output()
    await outcome.server.stop()
    assert.match(
      stdout,
      new RegExp(`new signing keys .*: PKCS#11 token "${token.label}" \\(${SOFTHSM2_MODULE}\\)`),
    )
    assert.ok(!(stdout + stderr).includes(token.pin), 'the PIN appears in the output')
  })

  test('a wrong PIN stops `fiscalbox serve` with the setting named and the PIN not shown', async () => {
    const wrong = 'X9wrongpin7'
    for (const pin of [{ FISCALBOX_PKCS11_PIN: wrong }, { FISCALBOX_PKCS11_PIN_FILE: join(dir, 'pin') }]) {
      writeFileSync(join(dir, 'pin'), `${wrong}\n`)
      const env = cliEnv({
        DATABASE_URL: databaseUrl,
        FISCALBOX_DATA_DIR: dir,
        PORT: '0',
        HOST: '127.0.0.1',
        SOFTHSM2_CONF: token.conf,
        ...token.settings,
        FISCALBOX_PKCS11_PIN: undefined,
        ...pin,
      })
      const outcome = await startServe(env)
      assert.equal(outcome.started, false, 'serve must not start')
      if (outcome.started) return
      const output = outcome.stdout + outcome.stderr
      assert.notEqual(outcome.code, 0)
      assert.match(
        output,
        new RegExp(`${Object.keys(pin)[0]}: the token refused the user PIN \\(CKR_PIN_INCORRECT\\)`),
      )
      assert.ok(!output.includes(wrong), `the PIN appears in the output:\n${output}`)
      assert.ok(!output.includes(token.pin), 'the right PIN appears in the output')
    }
  })

  test('a missing module, or token settings without a module, stop start-up naming FISCALBOX_PKCS11_MODULE', async () => {
    const cases = [
      {
        settings: { ...token.settings, FISCALBOX_PKCS11_MODULE: join(dir, 'no-such-module.so') },
        says: /FISCALBOX_PKCS11_MODULE: no PKCS#11 module at/,
      },
      {
        settings: { ...token.settings, FISCALBOX_PKCS11_MODULE: undefined },
        says: /FISCALBOX_PKCS11_MODULE is not set, but the token settings FISCALBOX_PKCS11_TOKEN_LABEL, FISCALBOX_PKCS11_PIN are/,
      },
    ]
    for (const { settings: hsm, says } of cases) {
      const env = cliEnv({
        DATABASE_URL: databaseUrl,
        FISCALBOX_DATA_DIR: dir,
        PORT: '0',
        HOST: '127.0.0.1',
        SOFTHSM2_CONF: token.conf,
        ...hsm,
      })
      const outcome = await startServe(env)
      assert.equal(outcome.started, false, 'serve must not start')
      if (outcome.started) return
      assert.match(outcome.stderr, says)
      assert.ok(!(outcome.stdout + outcome.stderr).includes(token.pin), 'the PIN appears in the output')
    }
  })
})
