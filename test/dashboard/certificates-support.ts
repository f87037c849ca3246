import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { Runtime } from '../../src/runtime.ts'
import { runTool } from '../helpers/system-tools.ts'
import { AtPos } from '../markets/at/support.ts'
import { DE_CASE, DePos, deReceipt } from '../markets/de/support.ts'

/** What openssl (not fiscalbox) reads from a certificate. */
export function opensslFacts(pem: string): { notAfter: Date; serial: string; subject: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fiscalbox-cert-'))
  try {
    const file = join(dir, 'cert.pem')
    writeFileSync(file, pem)
    const run = runTool('openssl', ['x509', '-in', file, '-noout', '-enddate', '-serial', '-subject'])
    assert.ok(run.ok, run.output)
    const field = (name: string) => (new RegExp(`^${name}=(.*)$`, 'm').exec(run.stdout)?.[1] ?? '').trim()
    return {
      notAfter: new Date(field('notAfter')),
      serial: field('serial').toLowerCase(),
      subject: field('subject'),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** A P-256 key and a certificate valid for `days` days, made by openssl, as AT provisioning imports them. */
export function opensslDevice(days: number, serial: string) {
  const dir = mkdtempSync(join(tmpdir(), 'fiscalbox-device-'))
  try {
    const key = join(dir, 'key.pem')
    const cert = join(dir, 'cert.pem')
    const made = runTool('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      String(days),
      '-subj',
      `/CN=RKSV device ${serial}/O=Test trust provider`,
      '-set_serial',
      `0x${serial}`,
      '-keyout',
      key,
      '-out',
      cert,
    ])
    assert.ok(made.ok, made.output)
    const pkcs8 = runTool('openssl', [
      'pkcs8',
      '-topk8',
      '-nocrypt',
      '-in',
      key,
      '-outform',
      'DER',
      '-out',
      `${key}.der`,
    ])
    assert.ok(pkcs8.ok, pkcs8.output)
    const der = runTool('openssl', ['x509', '-in', cert, '-outform', 'DER', '-out', `${cert}.der`])
    assert.ok(der.ok, der.output)
    const pem = readFileSync(cert, 'utf8')
    return {
      privateKey: readFileSync(`${key}.der`).toString('base64'),
      certificate: readFileSync(`${cert}.der`).toString('base64'),
      facts: opensslFacts(pem),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * An account's German till (its start receipt makes its TSS) and Austrian till, whose signature device 1
 * has an openssl-made certificate that ends in `days` days and device 2 one fiscalbox makes (10 years).
 */
export async function certifiedTills(
  app: FastifyInstance,
  runtime: Runtime,
  accountId: string,
  options: { days: number; serial: string; kassenId: string },
) {
  const de = new DePos(app, await runtime.cashboxes.create('DE', 'Berlin till', accountId))
  await de.signOk(deReceipt(DE_CASE.start))
  const device = opensslDevice(options.days, options.serial)
  const at = new AtPos(app, await runtime.cashboxes.create('AT', 'Wien till', accountId))
  await at.provision({
    kassenId: options.kassenId,
    devices: [
      { number: 1, provider: 'AT1', privateKey: device.privateKey, certificate: device.certificate },
      { number: 2, provider: 'AT1' },
    ],
  })
  return { de, at, device }
}
