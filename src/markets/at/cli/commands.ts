import { writeFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { dep7Export } from '../exports.ts'
import { atServicesOf } from '../index.ts'
import type { DeviceSpec } from '../provisioning.ts'
import { withCountryCashbox } from '../../../cli/country-cashbox.ts'
import { progress } from '../../../cli/progress.ts'

/** "0", "1:AT0:K1", "2:AT1", "3:AT2:82424e8077297aa3" -> a device spec. */
function deviceSpec(text: string, previous: DeviceSpec[] = []): DeviceSpec[] {
  const [number, provider = 'AT0', id] = text.split(':')
  if (!/^\d{1,3}$/.test(number ?? '')) {
    throw new Error(`--device ${text}: expected NUMBER[:PROVIDER[:KEYID|SERIAL]], e.g. 1, 1:AT0:K1 or 2:AT1`)
  }
  const spec: DeviceSpec = { number: Number(number), provider }
  if (id) {
    if (provider === 'AT0') spec.keyId = id
    else spec.serial = id
  }
  return [...previous, spec]
}

const print = (value: unknown, json: boolean | undefined, text: string) =>
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : text)

/** `fiscalbox at ...` (provisioning, device status) and `fiscalbox export dep7`. */
export function registerAtCommands(program: Command, exporter: Command): void {
  const at = program
    .command('at')
    .description('Austria (RKSV): provision cash boxes and report signature devices')
  at.command('provision')
    .description(
      'set the Kassen-ID, AES key and signature devices of an AT cash box (once, before its start receipt); prints the AES key check value and the device keys to register with FinanzOnline',
    )
    .requiredOption('--cashbox <id>', 'cash box id (created with `fiscalbox cashbox create --country AT`)')
    .requiredOption('--kassen-id <id>', 'Kassen-ID as registered with FinanzOnline')
    .option('--aes-key <base64>', 'AES-256 key in base64 (generated and printed once when absent)')
    .option('--counter-size <bytes>', 'turnover counter size, 5..16 bytes', '8')
    .option('--company <id>', 'Ordnungsbegriff for closed-system devices, e.g. U:ATU12345678')
    .requiredOption(
      '--device <spec>',
      'signature device NUMBER[:PROVIDER[:KEYID|SERIAL]], repeatable: 0 (closed system, key id K0), 1:AT0:K1, 2:AT1 (test certificate), 3:AT1:82424e80',
      deviceSpec,
    )
    .option('--json', 'print JSON for scripts')
    .action(
      async (o: {
        cashbox: string
        kassenId: string
        aesKey?: string
        counterSize: string
        company?: string
        device: DeviceSpec[]
        json?: boolean
      }) => {
        const summary = await withCountryCashbox('AT', o.cashbox, (runtime, { queueId }) =>
          atServicesOf(runtime.marketFor).provisioning.provision(queueId, {
            kassenId: o.kassenId,
            ...(o.aesKey ? { aesKey: o.aesKey } : {}),
            counterSize: Number(o.counterSize),
            ...(o.company ? { companyId: o.company } : {}),
            devices: o.device,
          }),
        )
        print(
          summary,
          o.json,
          `Kassen-ID:        ${summary.kassenId}\nAES key check:    ${summary.aesKeyCheckValue}\n${summary.aesKey ? `AES key:          ${summary.aesKey}  (shown only now: register it with FinanzOnline)\n` : ''}counter size:     ${summary.counterSize} bytes\n${summary.devices.map((d) => `device ${d.number}: ${d.provider} ${d.certificateField}\n  ${d.signatureDeviceType === 'CERTIFICATE' ? `certificate ${d.certificate}` : `public key ${d.publicKey}`}\n`).join('')}`,
        )
      },
    )

  at.command('show')
    .description('print the Austrian configuration of a cash box (no secrets) and its devices')
    .requiredOption('--cashbox <id>', 'cash box id')
    .option('--json', 'print JSON for scripts')
    .action(async (o: { cashbox: string; json?: boolean }) => {
      const summary = await withCountryCashbox('AT', o.cashbox, (runtime, { queueId }) =>
        atServicesOf(runtime.marketFor).provisioning.describe(queueId),
      )
      print(
        summary,
        o.json,
        `Kassen-ID ${summary.kassenId}, AES key check ${summary.aesKeyCheckValue}, counter ${summary.counterSize} bytes\n${summary.devices.map((d) => `device ${d.number}: ${d.provider} ${d.certificateField} ${d.inService ? 'in service' : `OUT OF SERVICE since ${d.outOfServiceSince}`}\n`).join('')}`,
      )
    })

  at.command('device')
    .description(
      'report a signature device out of service (receipts then carry "Sicherheitseinrichtung ausgefallen") or back in service',
    )
    .requiredOption('--cashbox <id>', 'cash box id')
    .requiredOption('--number <n>', 'device number')
    .option('--out-of-service', 'the device failed')
    .option('--in-service', 'the device works again (then send a zero receipt to end the outage)')
    .action(async (o: { cashbox: string; number: string; outOfService?: boolean; inService?: boolean }) => {
      if (Boolean(o.outOfService) === Boolean(o.inService)) {
        throw new Error('give exactly one of --out-of-service and --in-service')
      }
      const device = await withCountryCashbox('AT', o.cashbox, (runtime, { queueId }) =>
        atServicesOf(runtime.marketFor).provisioning.setInService(
          queueId,
          Number(o.number),
          Boolean(o.inService),
        ),
      )
      process.stdout.write(
        `device ${device.number} (${device.certificateField}) is ${device.inService ? 'in service' : 'out of service'}\n`,
      )
    })

  exporter
    .command('dep7')
    .description(
      "write an AT cash box's DEP7 export (Datenerfassungsprotokoll) for RKSV verifiers and `fiscalbox verify`",
    )
    .requiredOption('--cashbox <id>', 'cash box id')
    .requiredOption('--out <file>', 'file to write the DEP7 JSON to')
    .option(
      '--keys <file>',
      'also write cryptographicMaterialContainer.json (AES key and device keys) for verifiers; it holds the AES key: keep it safe',
    )
    .option('--from <moment>', 'first receipt moment (ISO 8601, inclusive)')
    .option('--to <moment>', 'last receipt moment (ISO 8601, inclusive)')
    .action(async (o: { cashbox: string; out: string; keys?: string; from?: string; to?: string }) => {
      const count = await withCountryCashbox('AT', o.cashbox, async (runtime, cashbox) => {
        const shown = progress('exporting receipts')
        const { items } = await dep7Export.write(runtime, cashbox, o, o.out, shown.update)
        shown.done(items)
        if (o.keys) {
          const material = await atServicesOf(runtime.marketFor).dep7.cryptographicMaterial(cashbox.queueId)
          await writeFile(o.keys, `${JSON.stringify(material, null, 2)}\n`, { mode: 0o600 })
        }
        return items
      })
      process.stdout.write(
        `wrote ${count} receipts to ${o.out}${o.keys ? ` and the key material to ${o.keys}` : ''}\n`,
      )
    })
}
