import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runTool } from './system-tools.ts'

/** The module of the Debian package softhsm2. */
export const SOFTHSM2_MODULE = '/usr/lib/softhsm/libsofthsm2.so'

export interface SoftToken {
  /** The SOFTHSM2_CONF file of this token's own directory. */
  conf: string
  label: string
  pin: string
  /** FISCALBOX_PKCS11_* for a runtime or `fiscalbox serve` on this token. */
  settings: Record<string, string>
  /** `pkcs11-tool` on this token, logged in: its output. */
  tool(args: readonly string[]): string
  remove(): void
}

/**
 * A fresh SoftHSM2 token in a temporary directory: its own softhsm2.conf (SOFTHSM2_CONF) and token
 * directory, initialised with `softhsm2-util --init-token --free`. Not a test file itself.
 */
export function freshSoftToken(label = 'fiscalbox-test'): SoftToken {
  const dir = mkdtempSync(join(tmpdir(), 'fiscalbox-softhsm-'))
  const tokens = join(dir, 'tokens')
  mkdirSync(tokens)
  const conf = join(dir, 'softhsm2.conf')
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`)
  const pin = '81726354'
  const env = { ...process.env, SOFTHSM2_CONF: conf }
  const init = runTool(
    'softhsm2-util',
    ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', '19283746'],
    { env },
  )
  if (!init.ok) throw new Error(`softhsm2-util --init-token failed: ${init.output}`)
  return {
    conf,
    label,
    pin,
    settings: {
      FISCALBOX_PKCS11_MODULE: SOFTHSM2_MODULE,
      FISCALBOX_PKCS11_TOKEN_LABEL: label,
      FISCALBOX_PKCS11_PIN: pin,
    },
    tool(args) {
      const run = runTool(
        'pkcs11-tool',
        ['--module', SOFTHSM2_MODULE, '--token-label', label, '--login', '--pin', pin, ...args],
        { env },
      )
      if (!run.ok) throw new Error(`pkcs11-tool ${args.join(' ')} failed: ${run.output}`)
      return run.stdout
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}
