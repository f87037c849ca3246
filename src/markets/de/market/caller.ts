import type { Caller } from '../tss/tss-service.ts'

/** The TSS of a DE cash box belongs to an organization named by the cash box id (see docs/country-de.md). */
export const callerOf = (cashboxId: string): Caller => ({ organizationId: cashboxId, env: 'LIVE' })
