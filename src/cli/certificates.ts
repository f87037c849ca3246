import { readFile } from 'node:fs/promises'
import { text } from 'node:stream/consumers'
import { type Command, InvalidArgumentError, Option } from 'commander'
import { CERTIFICATE_USES, type CertificateInput, type CertificateUse } from '../core/certificates/bundle.ts'
import type { ImportRequest } from '../core/certificates/certificates.ts'
import { loadConfig } from '../config.ts'
import { openRuntime, type Runtime } from '../runtime.ts'

interface ImportOptions {
  account: string
  file: string
  key?: string
  passwordFile?: string
  passwordStdin?: boolean
  passwordEnv?: string
  name?: string
  uses?: CertificateUse[]
  replace?: string
  json?: boolean
}

function usesOption(value: string): CertificateUse[] {
  const uses = value.split(',').map((u) => u.trim())
  const unknown = uses.filter((u) => !(CERTIFICATE_USES as readonly string[]).includes(u))
  if (unknown.length > 0 || uses.length === 0)
    throw new InvalidArgumentError(`must be a comma-separated list of ${CERTIFICATE_USES.join(', ')}`)
  return uses as CertificateUse[]
}

/** The password never comes from the command line itself (shell history, `ps`): a file, stdin or a variable. */
async function passwordOf(options: ImportOptions): Promise<string | undefined> {
  const given = [options.passwordFile, options.passwordStdin, options.passwordEnv].filter(
    (o) => o !== undefined,
  )
  if (given.length > 1)
    throw new Error('give the password one way: --password-file, --password-stdin or --password-env')
  if (options.passwordFile) return (await readFile(options.passwordFile, 'utf8')).replace(/\r?\n$/, '')
  if (options.passwordStdin) return (await text(process.stdin)).replace(/\r?\n$/, '')
  if (options.passwordEnv) {
    const value = process.env[options.passwordEnv]
    if (value === undefined) throw new Error(`--password-env: the variable ${options.passwordEnv} is not set`)
    return value
  }
  return undefined
}

async function importRequestOf(options: ImportOptions): Promise<ImportRequest> {
  const data = await readFile(options.file)
  const password = await passwordOf(options)
  const isPem = data.subarray(0, 256).toString('latin1').includes('-----BEGIN')
  let input: CertificateInput
  if (isPem) {
    const key = options.key ? await readFile(options.key, 'utf8') : ''
    input = { format: 'pem', pem: `${key}\n${data.toString('utf8')}`, ...(password ? { password } : {}) }
  } else {
    if (options.key) throw new Error('--key is for a PEM certificate chain: a PKCS#12 file holds its key')
    if (password === undefined)
      throw new Error(
        'a PKCS#12 file needs its password: --password-file, --password-stdin or --password-env',
      )
    input = { format: 'pkcs12', data, password }
  }
  return {
    input,
    ...(options.name ? { name: options.name } : {}),
    ...(options.uses ? { uses: options.uses } : {}),
  }
}

async function withRuntime<T>(work: (runtime: Runtime) => Promise<T>): Promise<T> {
  const runtime = await openRuntime(loadConfig())
  try {
    return await work(runtime)
  } finally {
    await runtime.close()
  }
}

function describe(
  c: {
    id: string
    name: string
    active: {
      version: number
      subject: string
      issuer: string
      serialNumber: string
      notBefore: string
      notAfter: string
      uses: string[]
    }
  },
  usedBy: string[],
): string {
  const v = c.active
  return [
    `${c.id}  ${c.name} (version ${v.version})`,
    `  subject:  ${v.subject}`,
    `  issuer:   ${v.issuer}`,
    `  serial:   ${v.serialNumber}`,
    `  valid:    ${v.notBefore} to ${v.notAfter}`,
    `  uses:     ${v.uses.join(', ') || 'none'}`,
    `  used by:  ${usedBy.length > 0 ? usedBy.map((l) => `location ${l}`).join(', ') : 'nothing yet'}`,
  ].join('\n')
}

/** `fiscalbox certificates import | list | remove`: an account's certificates, straight in DATABASE_URL. */
export function addCertificateCommands(program: Command): void {
  const certificates = program
    .command('certificates')
    .description("manage an account's certificates (a taxpayer's TLS client and signing certificate)")
  certificates
    .command('import')
    .description('store a certificate and its private key (sealed by the master key, never shown again)')
    .requiredOption('--account <id>', 'the account that owns it')
    .requiredOption(
      '--file <path>',
      'a PKCS#12 file (.p12 / .pfx), or PEM with the certificate chain (and the key)',
    )
    .option('--key <path>', 'the PEM private key, when --file holds only the chain')
    .option('--password-file <path>', "a file holding the PKCS#12 (or encrypted PEM key's) password")
    .option('--password-stdin', 'read the password from standard input')
    .option('--password-env <variable>', 'read the password from this environment variable')
    .option('--name <name>', "a name for it (default: the subject's CN)")
    .addOption(
      new Option(
        '--uses <list>',
        `what it must allow: ${CERTIFICATE_USES.join(',')} (default both)`,
      ).argParser(usesOption),
    )
    .option('--replace <certificate-id>', 'make it the new version of this certificate (e.g. a renewal)')
    .option('--json', 'print the stored certificate as JSON')
    .action(async (options: ImportOptions) => {
      const request = await importRequestOf(options)
      await withRuntime(async (runtime) => {
        const service = runtime.v1.certificates
        await runtime.v1.accounts.account(options.account)
        const stored = options.replace
          ? { certificate: await service.replace(options.account, options.replace, request), created: true }
          : await service.import(options.account, request)
        const usedBy = await service.usedBy(options.account, stored.certificate.id)
        if (options.json) {
          const { certificateView } = await import('../api/transactions-v1/certificates.ts')
          process.stdout.write(`${JSON.stringify(certificateView(stored.certificate, usedBy))}\n`)
        } else {
          const verb = options.replace ? 'replaced' : stored.created ? 'imported' : 'already stored'
          process.stdout.write(`${verb}: ${describe(stored.certificate, usedBy)}\n`)
        }
      })
    })
  certificates
    .command('list')
    .description("list an account's certificates with what uses each")
    .requiredOption('--account <id>', 'the account')
    .action(async (options: { account: string }) => {
      await withRuntime(async (runtime) => {
        const listed = await runtime.v1.certificates.list(options.account)
        if (listed.length === 0) process.stdout.write('no certificates\n')
        for (const { certificate, usedBy } of listed)
          process.stdout.write(`${describe(certificate, usedBy)}\n`)
      })
    })
  certificates
    .command('remove')
    .description('remove a certificate that no location uses')
    .requiredOption('--account <id>', 'the account')
    .argument('<certificate-id>')
    .action(async (id: string, options: { account: string }) => {
      await withRuntime(async (runtime) => {
        await runtime.v1.certificates.remove(options.account, id)
        process.stdout.write(`removed ${id}\n`)
      })
    })
}
