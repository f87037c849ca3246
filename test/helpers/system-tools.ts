import { type SpawnSyncOptionsWithStringEncoding, spawnSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

/**
 * The programs outside npm that some suites drive, as independent references (a real browser, libxml2,
 * xmlsec, poppler, openssl), with the Debian package of each. Not a test file itself.
 */
export const SYSTEM_TOOLS = [
  { command: 'chromium', debian: 'chromium', use: 'the browser suites (playwright-core drives it)' },
  { command: 'pdftotext', debian: 'poppler-utils', use: 'the PDF receipts, read back' },
  { command: 'pdftoppm', debian: 'poppler-utils', use: 'the PDF receipts, rasterized' },
  { command: 'xmllint', debian: 'libxml2-utils', use: 'XSD validation and the C14N reference' },
  { command: 'xmlsec1', debian: 'xmlsec1', use: 'XML signatures (TicketBAI XAdES)' },
  { command: 'openssl', debian: 'openssl', use: 'certificates of the TSS exports' },
  { command: 'softhsm2-util', debian: 'softhsm2', use: 'the PKCS#11 token of the HSM suite (SoftHSM2)' },
  { command: 'pkcs11-tool', debian: 'opensc', use: 'the HSM suite, reading public keys from the token' },
] as const

export type SystemTool = (typeof SYSTEM_TOOLS)[number]['command']

/** Where the command is on PATH, or undefined. */
export function findTool(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    const file = join(dir, command)
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {}
  }
  return undefined
}

/** The one command that installs the given tools' Debian packages. */
export function installCommand(commands: readonly string[]): string {
  const packages = new Set(
    SYSTEM_TOOLS.filter((tool) => commands.includes(tool.command)).map((t) => t.debian),
  )
  return `sudo apt-get install -y --no-install-recommends ${[...packages].join(' ')}`
}

export const missingTools = (): SystemTool[] =>
  SYSTEM_TOOLS.map((tool) => tool.command).filter((command) => !findTool(command))

function missingToolError(command: SystemTool): Error {
  const tool = SYSTEM_TOOLS.find((t) => t.command === command)
  return new Error(
    `${command} is not installed: this test needs it for ${tool?.use}. Install it with: ${installCommand([command])}`,
  )
}

/** The path of a tool, or an error that names it and its install command. */
export function requireTool(command: SystemTool): string {
  const file = findTool(command)
  if (!file) throw missingToolError(command)
  return file
}

/**
 * spawnSync of a system tool that fails with the tool's name when it is not installed (spawnSync alone
 * returns null output, which used to reach the assertions as "nullnull").
 */
export function runTool(
  command: SystemTool,
  args: readonly string[],
  options: Omit<SpawnSyncOptionsWithStringEncoding, 'encoding'> = {},
): { ok: boolean; stdout: string; stderr: string; output: string } {
  const run = spawnSync(requireTool(command), args, { maxBuffer: 1 << 26, ...options, encoding: 'utf8' })
  if (run.error) throw new Error(`${command} could not run: ${run.error.message}`, { cause: run.error })
  return {
    ok: run.status === 0,
    stdout: run.stdout,
    stderr: run.stderr,
    output: `${run.stdout}${run.stderr}`,
  }
}
