import { certificateFacts, type CredentialSource, type HeldCredential } from '../../core/credentials.ts'
import type { Runtime } from '../../runtime.ts'
import type { RemoteTssCertificate } from './remote/ports.ts'
import { deServicesOf } from './services.ts'

const USES = { leaf: 'TSS certificate', sub: 'TSS sub-CA certificate', root: 'TSS root CA certificate' }

/** A remote TSE's TSS certificate as the credential of the cash box on that TSE (docs/remote-tse.md). */
const remoteTssCredential = (remote: RemoteTssCertificate, cashboxId: string): HeldCredential => ({
  country: 'DE',
  kind: 'certificate',
  use: 'TSS certificate (remote TSE)',
  holder: `remote TSS ${remote.tssSerial}`,
  cashboxId,
  ...certificateFacts(Buffer.from(remote.certificate)),
})

/**
 * Every TSS in service with its chain: the leaf certificate (8 years), and the sub-CA (20) and root (25)
 * that its export and every verifier need as well. A TSS of a DE cash box belongs to the organization named
 * by the cash box id, so it is that cash box's; a TSS made through the SIGN DE API is the installation's.
 * A cash box on a remote TSE holds the certificate of its TSS there too: it expires on the TSE provider's
 * side, and the merchant has to know before it does; it is read from what set-up stored.
 */
export function deCredentials(runtime: Runtime): CredentialSource {
  return {
    async credentials() {
      const de = deServicesOf(runtime.marketFor)
      const [chains, remotes] = await Promise.all([
        de.tss.certificateChains(),
        de.remote.store.tssCertificates(),
      ])
      if (chains.length === 0 && remotes.length === 0) return []
      const cashboxes = await runtime.cashboxes.list()
      const cashboxIds = new Set(cashboxes.map((c) => c.id))
      // A remote TSE is set up per queue; a queue whose cash box is gone has no one to warn.
      const cashboxOfQueue = new Map(cashboxes.map((c) => [c.queueId, c.id]))
      const remote = remotes.flatMap((r) => {
        const cashboxId = cashboxOfQueue.get(r.queueId)
        return cashboxId && r.certificate !== '' ? [remoteTssCredential(r, cashboxId)] : []
      })
      const local = chains.flatMap((chain) =>
        (['leaf', 'sub', 'root'] as const).map(
          (part): HeldCredential => ({
            country: 'DE',
            kind: 'certificate',
            use: USES[part],
            holder: `TSS ${chain.tssId}`,
            cashboxId: cashboxIds.has(chain.organizationId) ? chain.organizationId : null,
            ...certificateFacts(chain[part]),
          }),
        ),
      )
      return [...local, ...remote]
    },
  }
}
