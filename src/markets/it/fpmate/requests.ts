import { parseXml, XmlSyntaxError } from '../../es/xml/parse.ts'
import { attribute, childElements, el, localName, type XmlElement } from '../../es/xml/tree.ts'
import { DeviceNumberError, formatAmount, formatQuantity, parseAmount, parseQuantity } from './amounts.ts'
import {
  type ElementName,
  elementsOf,
  type FpmateCommand,
  fieldsOf,
  isRootName,
  type Step,
} from './commands.ts'
import { envelope, payloadOf } from './envelope.ts'

/**
 * A request the device refuses before doing anything, with the `code` and `status` it answers with
 * (the protocol's own values: PARSER_ERROR for malformed XML, "Non valid XML command" for an unknown
 * or misplaced element, PRINTER ERROR 13 for a missing or wrong attribute value).
 */
export class FpmateRequestError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message)
    this.name = 'FpmateRequestError'
  }
}

const INTEGER = /^-?\d{1,15}$/

/** The SOAP envelope of a command, ready to POST to fpmate.cgi. */
export function serializeRequest(command: FpmateCommand): string {
  return envelope(
    el(
      command.root,
      null,
      command.steps.map((step) => stepElement(step)),
    ),
  )
}

function stepElement(step: Step): XmlElement {
  const values = step as unknown as Record<string, string | number | undefined>
  const attributes: Record<string, string> = {}
  for (const [name, spec] of Object.entries(fieldsOf(step.kind))) {
    const value = values[name]
    if (value === undefined) continue
    attributes[name] =
      spec.type === 'amount'
        ? formatAmount(value as number)
        : spec.type === 'quantity'
          ? formatQuantity(value as number)
          : String(value)
  }
  return el(step.kind, attributes)
}

/** Reads a request as the device does: a SOAP envelope around one root command, or the bare root. */
export function parseRequest(xml: string): FpmateCommand {
  if (xml.trim() === '') throw new FpmateRequestError('NO_DATA', 0, 'the request body is empty')
  let document: XmlElement
  try {
    document = parseXml(xml)
  } catch (error) {
    if (error instanceof XmlSyntaxError) throw new FpmateRequestError('PARSER_ERROR', 0, error.message)
    throw error
  }
  const root = payloadOf(document)
  if (!root) throw new FpmateRequestError('PARSER_ERROR', 0, 'the SOAP Body must hold exactly one command')
  const rootName = localName(root.name)
  if (!isRootName(rootName))
    throw new FpmateRequestError('Non valid XML command', 0, `unknown command <${rootName}>`)
  const allowed = new Set<string>(elementsOf(rootName))
  const steps = childElements(root).map((child) => {
    const kind = localName(child.name)
    if (!allowed.has(kind))
      throw new FpmateRequestError('Non valid XML command', 0, `<${kind}> is not allowed in <${rootName}>`)
    return readStep(kind as ElementName, child)
  })
  return { root: rootName, steps } as FpmateCommand
}

function readStep(kind: ElementName, element: XmlElement): Step {
  const step: Record<string, string | number> = { kind }
  for (const [name, spec] of Object.entries(fieldsOf(kind))) {
    const raw = attribute(element, name)
    if (raw === undefined) {
      if (spec.required)
        throw new FpmateRequestError('PRINTER ERROR', 13, `<${kind}> lacks its ${name} attribute`)
      continue
    }
    try {
      if (spec.type === 'amount') step[name] = parseAmount(raw)
      else if (spec.type === 'quantity') step[name] = parseQuantity(raw)
      else if (spec.type === 'int') {
        if (!INTEGER.test(raw.trim())) throw new DeviceNumberError(raw, 'is not an integer')
        step[name] = Number(raw.trim())
      } else step[name] = raw
    } catch (error) {
      if (!(error instanceof DeviceNumberError)) throw error
      throw new FpmateRequestError('PRINTER ERROR', 13, `<${kind}> ${name}: ${error.message}`)
    }
  }
  return step as unknown as Step
}
