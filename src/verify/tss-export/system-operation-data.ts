import { contentOf, DerError, readChildren } from './der.ts'

/**
 * systemOperationData of the TR-03151 system log messages (its ASN.1 in Appendix A, the field tables
 * konfidas TTC checks, the encoder of the BSI TSE simulator): for each operation the context-tagged
 * fields inside certifiedData [1], with their types. Enumerations and times are the content of an
 * implicitly tagged INTEGER (`82 01 00`), as the simulator and certified TSEs write them. Operation types
 * are matched without regard to case: TR-03151 names them after the SE API functions (`logOut`), the
 * simulator writes `LogOut`. Operations not listed here (selfTest, configureLogging, ...) are not checked.
 */

type FieldType =
  | { kind: 'text'; emptyAllowed?: boolean }
  | { kind: 'boolean' }
  | { kind: 'time' }
  | { kind: 'enumerated'; max: number; emptyAllowed?: boolean }

interface FieldRule {
  tag: number
  name: string
  type: FieldType
  optional?: boolean
}

const TEXT = { kind: 'text' } as const
const TIME = { kind: 'time' } as const
const userId: FieldRule = { tag: 1, name: 'userId', type: TEXT }

const RULES: Record<string, FieldRule[]> = {
  // The simulator writes no systemOperationData when the description was set by the manufacturer.
  initialize: [{ tag: 1, name: 'description', type: { kind: 'text', emptyAllowed: true }, optional: true }],
  updatetime: [
    { tag: 1, name: 'timeBeforeUpdate', type: TIME },
    { tag: 2, name: 'timeAfterUpdate', type: TIME },
  ],
  disablesecureelement: [{ tag: 1, name: 'timeOfDeactivation', type: TIME }],
  authenticateuser: [
    userId,
    // Role ::= ENUMERATED { admin, timeAdmin }; the simulator leaves it empty for an unknown userId.
    { tag: 2, name: 'role', type: { kind: 'enumerated', max: 1, emptyAllowed: true } },
    { tag: 3, name: 'authenticationResult', type: { kind: 'boolean' } },
  ],
  // LogOutCause ::= ENUMERATED { user, timeout }
  logout: [userId, { tag: 2, name: 'logOutCause', type: { kind: 'enumerated', max: 1 } }],
  // UnblockResult ::= ENUMERATED { ok, failed, unknownUserId, error }
  unblockuser: [userId, { tag: 2, name: 'unblockResult', type: { kind: 'enumerated', max: 3 } }],
  registerclient: [{ tag: 1, name: 'clientId', type: TEXT }],
  deregisterclient: [{ tag: 1, name: 'clientId', type: TEXT }],
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

function typeProblem(type: FieldType, content: Uint8Array): string | undefined {
  switch (type.kind) {
    case 'text':
      return content.length === 0 && !type.emptyAllowed ? 'is empty' : undefined
    case 'boolean':
      return content.length === 1 && (content[0] === 0x00 || content[0] === 0xff)
        ? undefined
        : `is not a DER BOOLEAN (00 or ff): ${hex(content)}`
    case 'time':
      // unixTime INTEGER content, or the characters of a UTCTime/GeneralizedTime
      return content.length === 0 ? 'is empty' : undefined
    case 'enumerated': {
      if (content.length === 0 && type.emptyAllowed) return undefined
      const value = content.length === 1 ? (content[0] as number) : -1
      return value >= 0 && value <= type.max
        ? undefined
        : `is not an ENUMERATED value (0 to ${type.max}): ${hex(content)}`
    }
  }
}

/** What is wrong with the systemOperationData of one system log (empty when nothing is, or the type is unknown). */
export function systemOperationDataProblems(operationType: string, data: Uint8Array | undefined): string[] {
  const rules = RULES[operationType.toLowerCase()]
  if (!rules) return []
  const fields = new Map<number, Uint8Array>()
  if (data) {
    try {
      for (const field of readChildren(data, 0, data.length)) {
        if ((field.tag & 0xe0) !== 0x80)
          return [`systemOperationData has a field with tag 0x${field.tag.toString(16)}`]
        fields.set(field.tag & 0x1f, contentOf(data, field))
      }
    } catch (error) {
      if (!(error instanceof DerError)) throw error
      return [`systemOperationData is not a sequence of DER fields: ${error.message}`]
    }
  }
  const problems: string[] = []
  for (const rule of rules) {
    const content = fields.get(rule.tag)
    const label = `systemOperationData [${rule.tag}] ${rule.name}`
    if (content === undefined) {
      if (!rule.optional) problems.push(`${label} is missing`)
      continue
    }
    const problem = typeProblem(rule.type, content)
    if (problem) problems.push(`${label} ${problem}`)
  }
  return problems
}
