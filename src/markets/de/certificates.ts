import { certificateFacts, type CredentialSource, type HeldCredential } from '../../core/credentials.ts'
import type { Runtime } from '../../runtime.ts'
import { deServicesOf } from './services.ts'

const USES = { leaf: 'TSS certificate', sub: 'TSS sub-CA certificate', root: 'TSS root CA certificate' }

/**
 * Every TSS in service with its chain: the leaf certificate (8 years), and the sub-CA (20) and root (25)
 * that its export and every verifier need as well. A TSS of a DE cash box belongs to the organization named
 * by the cash box id, so it is that cash box's; a TSS made through the SIGN DE API is the installation's.
 */
export function deCredentials(runtime: Runtime): CredentialSource {
  return {
    async credentials() {
      const chains = await deServicesOf(runtime.marketFor).tss.certificateChains()
      if (chains.length === 0) return []
      const cashboxIds = new Set((await runtime.cashboxes.list()).map((c) => c.id))
      return chains.flatMap((chain) =>
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
    },
  }
}
