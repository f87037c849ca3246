import type { MasterKey } from '../../core/secrets.ts'
import { notProvisioned } from './provisioning.ts'
import type { AtDeviceRecord, AtStore, ReceiptRange } from './ports.ts'

const PAGE = 2_000

/** cryptographicMaterialContainer.json: what a verifier needs besides the DEP7 export itself. */
export interface CryptographicMaterial {
  base64AESKey: string
  certificateOrPublicKeyMap: Record<
    string,
    { id: string; signatureDeviceType: 'CERTIFICATE' | 'PUBLIC_KEY'; signatureCertificateOrPublicKey: string }
  >
}

/**
 * The Datenerfassungsprotokoll (DEP7) of a cash box: every RKSV receipt in order, grouped by the
 * certificate that signed it (closed-system devices have none: their group's certificate is empty).
 */
export class Dep7Exporter {
  constructor(
    private readonly store: AtStore,
    private readonly master: MasterKey,
  ) {}

  /** The export as JSON text chunks, streamed page by page; `counted` learns the number of receipts. */
  async *chunks(queueId: string, range: ReceiptRange, counted?: (n: number) => void): AsyncGenerator<string> {
    if (!(await this.store.config(queueId))) throw notProvisioned()
    const devices = new Map((await this.store.devices(queueId)).map((d) => [d.number, d]))
    const certificateOf = (number: number) => devices.get(number)?.certificate ?? ''
    yield '{"Belege-Gruppe":['
    let group: string | undefined
    let count = 0
    let after = 0
    for (;;) {
      const rows = await this.store.receipts(queueId, after, PAGE, range)
      for (const row of rows) {
        const certificate = certificateOf(row.deviceNumber)
        if (certificate !== group) {
          yield `${group === undefined ? '' : ']},'}{"Signaturzertifikat":${JSON.stringify(certificate)},"Zertifizierungsstellen":[],"Belege-kompakt":[${JSON.stringify(row.jws)}`
          group = certificate
        } else yield `,${JSON.stringify(row.jws)}`
        count += 1
        after = row.seq
      }
      if (rows.length < PAGE) break
    }
    yield group === undefined ? ']}' : ']}]}'
    counted?.(count)
  }

  async cryptographicMaterial(queueId: string): Promise<CryptographicMaterial> {
    const config = await this.store.config(queueId)
    if (!config) throw notProvisioned()
    const devices = await this.store.devices(queueId)
    return {
      base64AESKey: this.master.decrypt(config.aesKeyEncrypted).toString('base64'),
      certificateOrPublicKeyMap: Object.fromEntries(devices.map((d) => [d.certificateField, entryOf(d)])),
    }
  }
}

const entryOf = (d: AtDeviceRecord): CryptographicMaterial['certificateOrPublicKeyMap'][string] => ({
  id: d.certificateField,
  signatureDeviceType: d.certificate ? 'CERTIFICATE' : 'PUBLIC_KEY',
  signatureCertificateOrPublicKey: d.certificate ?? d.publicKey,
})
