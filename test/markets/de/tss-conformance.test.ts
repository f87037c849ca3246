import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { contentOf, readChildren, readTlv } from '../../../src/verify/tss-export/der.ts'
import { createCredentials, setUpTss, signDeClient } from '../../api/sign-de-v2/support.ts'
import { cliEnv, runCli } from '../../cli/cli-process.ts'
import { engines } from '../../helpers/engines.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'

/**
 * What independent tools check on a TSS's export. The certificate chain: `openssl verify -x509_strict`
 * and `fiscalbox verify`. Every system log type the TSS writes, decoded from its TAR export and compared field by field with
 * TR-03151's systemOperationData (the table in docs/tar-export.md) and with the BSI TSE simulator: its
 * export in shared/vectors/de for initialize and authenticateUser, and for the types that export lacks,
 * the encoder of the simulator (TSE-Simulator 1.5.5, ERSSpecificModule: logOut writes 81 userId,
 * 82 logOutCause; unblockUser 81 userId, 82 unblockResult; disableSecureElement 81 timeOfDeactivation,
 * all enumerations as INTEGER content).
 */

const VECTOR = '/work/shared/vectors/de/bsi-tse-simulator-export.tar'

interface Field {
  tag: number
  hex: string
}

/** operationType and the context-tagged fields inside systemOperationData [1]. */
function systemLog(der: Buffer): { operationType: string; fields: Field[] } {
  const outer = readTlv(der, 0)
  const items = readChildren(der, outer.contentStart, outer.end)
  const [operation, data] = items.filter((t) => (t.tag & 0xc0) === 0x80)
  assert.ok(operation && data, 'certifiedData [0] and [1]')
  assert.equal(operation.tag, 0x80)
  assert.ok(data.tag === 0x81 || data.tag === 0xa1, `systemOperationData tag 0x${data.tag.toString(16)}`)
  const fields = readChildren(der, data.contentStart, data.end).map((f) => ({
    tag: f.tag,
    hex: Buffer.from(contentOf(der, f)).toString('hex'),
  }))
  return { operationType: Buffer.from(contentOf(der, operation)).toString('latin1'), fields }
}

const hexOf = (text: string) => Buffer.from(text, 'latin1').toString('hex')
const member = (tar: string, name: string) => execFileSync('tar', ['-xOf', tar, name], { maxBuffer: 1 << 20 })
const members = (tar: string) => execFileSync('tar', ['-tf', tar], { encoding: 'utf8' }).trim().split('\n')

for (const engine of await engines()) {
  describe(`TSS conformance: certificate chain, system log messages field by field (${engine})`, () => {
    let harness: Harness
    let env: NodeJS.ProcessEnv
    let out: string
    let logs: { name: string; operationType: string; fields: Field[] }[]

    before(async () => {
      harness = await startHarness(engine)
      env = cliEnv({ DATABASE_URL: harness.databaseUrl, FISCALBOX_DATA_DIR: harness.dataDir })
      const api = await signDeClient(harness.app, await createCredentials(harness))
      // unblockUser ok, authenticateUser ok, initialize, registerClient x2, logOut
      const { tssId, puk, pin, clientIds } = await setUpTss(api, { clients: 2 })
      const call = async (method: string, url: string, body: unknown, status: number) => {
        const response = await api.call(method, `/tss/${tssId}${url}`, body)
        assert.equal(response.status, status, JSON.stringify(response.body))
      }
      await call('POST', '/admin/auth', { admin_pin: 'wrong-pin' }, 401)
      await call('PATCH', '/admin', { admin_puk: `${puk}x`, new_admin_pin: '654321' }, 400)
      await call('POST', '/admin/auth', { admin_pin: pin }, 200)
      await call('PATCH', `/client/${clientIds[1]}`, { state: 'DEREGISTERED' }, 200)
      await call('PATCH', '', { state: 'DISABLED' }, 200)

      out = join(harness.dataDir, 'conformance.tar')
      const written = await runCli(['export', 'tar', '--tss', tssId, '--out', out], env)
      assert.equal(written.code, 0, written.stderr)
      logs = members(out)
        .filter((name) => name.includes('_Log-Sys_'))
        .map((name) => ({ name, ...systemLog(member(out, name)) }))
    })
    after(async () => harness.close())

    it('the certificate chain passes openssl verify -x509_strict (pathLen, key identifiers, CA flags)', () => {
      // The export writes the chain as TSS certificate, sub-CA, root.
      const [leaf, sub, root] = members(out)
        .filter((name) => name.endsWith('_X509.der'))
        .map((name) => {
          const pem = join(harness.dataDir, name.replace(/der$/, 'pem'))
          writeFileSync(
            pem,
            execFileSync('openssl', ['x509', '-inform', 'DER', '-outform', 'PEM'], {
              input: member(out, name),
            }),
          )
          return pem
        })
      const verified = execFileSync(
        'openssl',
        ['verify', '-x509_strict', '-CAfile', root as string, '-untrusted', sub as string, leaf as string],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      )
      assert.equal(verified, `${leaf}: OK\n`)
    })

    it('fiscalbox verify accepts the export without problems or warnings', async () => {
      const verified = await runCli(['verify', out, '--json'], env)
      assert.equal(verified.code, 0, verified.stdout + verified.stderr)
      const report = JSON.parse(verified.stdout)
      assert.deepEqual([report.problems, report.warnings], [[], []])
      assert.equal(report.systemLogs, logs.length)
    })

    const ofType = (operationType: string) => logs.filter((l) => l.operationType === operationType)
    const admin = { tag: 0x81, hex: hexOf('Admin') }

    it('writes the system log types of its life cycle, in order', () => {
      assert.deepEqual(
        logs.map((l) => l.operationType),
        [
          'unblockUser',
          'authenticateUser',
          'initialize',
          'registerClient',
          'registerClient',
          'logOut',
          'authenticateUser',
          'unblockUser',
          'authenticateUser',
          'deregisterClient',
          'disableSecureElement',
        ],
      )
      for (const log of logs) assert.match(log.name, new RegExp(`_Log-Sys_${log.operationType}\\.log$`))
    })

    it('authenticateUser: [1] userId, [2] role as an INTEGER (admin = 0), [3] authenticationResult BOOLEAN', () => {
      const [ok, failed] = ofType('authenticateUser')
      assert.deepEqual(ok?.fields, [admin, { tag: 0x82, hex: '00' }, { tag: 0x83, hex: 'ff' }])
      assert.deepEqual(failed?.fields, [admin, { tag: 0x82, hex: '00' }, { tag: 0x83, hex: '00' }])
      // The simulator's AuthenticateUser logs have the same layout: a text, a one-byte role, a boolean.
      for (const name of [
        'Unixt_1795289450_Sig-1_Log-Sys_AuthenticateUser.log',
        'Unixt_1795289450_Sig-3_Log-Sys_AuthenticateUser.log',
      ]) {
        const simulator = systemLog(member(VECTOR, name))
        assert.deepEqual(
          simulator.fields.map((f) => f.tag),
          ok?.fields.map((f) => f.tag),
        )
        assert.equal(simulator.fields[1]?.hex.length, 2, 'role: one INTEGER content byte')
        assert.equal(simulator.fields[2]?.hex, 'ff')
      }
    })

    it('logOut: [1] userId, [2] logOutCause (user = 0)', () => {
      assert.deepEqual(ofType('logOut')[0]?.fields, [admin, { tag: 0x82, hex: '00' }])
    })

    it('unblockUser: [1] userId, [2] unblockResult (ok = 0, failed = 1), no [3] BOOLEAN', () => {
      const [ok, failed] = ofType('unblockUser')
      assert.deepEqual(ok?.fields, [admin, { tag: 0x82, hex: '00' }])
      assert.deepEqual(failed?.fields, [admin, { tag: 0x82, hex: '01' }])
    })

    it('initialize: [1] description, as the simulator writes it', () => {
      assert.deepEqual(ofType('initialize')[0]?.fields, [{ tag: 0x81, hex: hexOf('Kasse 1') }])
      const simulator = systemLog(member(VECTOR, 'Unixt_1795289450_Sig-2_Log-Sys_Initialize.log'))
      assert.deepEqual(simulator.fields, [{ tag: 0x81, hex: hexOf('research-sim') }])
    })

    it('registerClient and deregisterClient: [1] clientId', () => {
      assert.deepEqual(
        ofType('registerClient').map((l) => l.fields),
        [[{ tag: 0x81, hex: hexOf('POS-1') }], [{ tag: 0x81, hex: hexOf('POS-2') }]],
      )
      assert.deepEqual(ofType('deregisterClient')[0]?.fields, [{ tag: 0x81, hex: hexOf('POS-2') }])
    })

    it('disableSecureElement: [1] timeOfDeactivation, the unix time of its log', () => {
      const [log] = ofType('disableSecureElement')
      const logTime = Number(/^Unixt_(\d+)_/.exec(log?.name ?? '')?.[1])
      assert.deepEqual(log?.fields, [{ tag: 0x81, hex: logTime.toString(16).padStart(8, '0') }])
    })
  })
}
