/** The signature algorithms a TSS can be created with (BSI TR-03111 ecdsa-plain, OIDs 0.4.0.127.0.7.1.1.4.1.x). */
export const TSS_ALGORITHMS = {
  'ecdsa-plain-SHA256': { curve: 'P-256', hash: 'sha256', oid: '0.4.0.127.0.7.1.1.4.1.3', size: 32 },
  'ecdsa-plain-SHA384': { curve: 'P-384', hash: 'sha384', oid: '0.4.0.127.0.7.1.1.4.1.4', size: 48 },
} as const

export type TssAlgorithm = keyof typeof TSS_ALGORITHMS
export const DEFAULT_TSS_ALGORITHM: TssAlgorithm = 'ecdsa-plain-SHA256'

export const isTssAlgorithm = (value: string): value is TssAlgorithm => value in TSS_ALGORITHMS
