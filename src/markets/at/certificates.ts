import { certificateFacts, type CredentialSource } from '../../core/credentials.ts'
import type { Runtime } from '../../runtime.ts'
import { atServicesOf } from './index.ts'

/**
 * The certificates of the signature devices that have one (a trust provider's, AT1, AT2, ...;
 * closed-system devices, AT0, sign with a registered key that has no certificate and no expiry).
 */
export function atCredentials(runtime: Runtime): CredentialSource {
  return {
    async credentials() {
      const devices = await atServicesOf(runtime.marketFor).provisioning.certifiedDevices()
      if (devices.length === 0) return []
      const cashboxOf = new Map((await runtime.cashboxes.list()).map((c) => [c.queueId, c.id]))
      return devices.flatMap((device) => {
        const cashboxId = cashboxOf.get(device.queueId)
        if (!cashboxId || !device.certificate) return []
        return [
          {
            country: 'AT',
            kind: 'certificate' as const,
            use: `signature device certificate (${device.provider})`,
            holder: `signature device ${device.number}`,
            cashboxId,
            ...certificateFacts(Buffer.from(device.certificate, 'base64')),
          },
        ]
      })
    },
  }
}
