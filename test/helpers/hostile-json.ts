/**
 * What the fuzz suites share: the places of a /v2/sign receipt they attack, and how one attack is applied
 * to a parsed body (replace or remove the value at a path; a path that runs into a non-object does nothing).
 */

export type BodyPath = Array<string | number>

/** Every field of a receipt request a fuzzer attacks; an index beyond the items just adds to the array. */
export const RECEIPT_FIELD_PATHS: BodyPath[] = [
  ['cbReceiptReference'],
  ['cbReceiptMoment'],
  ['ftReceiptCase'],
  ['ftReceiptCaseData'],
  ['cbTerminalID'],
  ['cbPreviousReceiptReference'],
  ['cbChargeItems'],
  ['cbPayItems'],
  ['cbChargeItems', 0],
  ['cbChargeItems', 1],
  ['cbPayItems', 0],
  ['cbChargeItems', 0, 'Amount'],
  ['cbChargeItems', 0, 'Quantity'],
  ['cbChargeItems', 0, 'VATRate'],
  ['cbChargeItems', 0, 'VATAmount'],
  ['cbChargeItems', 0, 'Description'],
  ['cbChargeItems', 0, 'ftChargeItemCase'],
  ['cbChargeItems', 1, 'Amount'],
  ['cbPayItems', 0, 'Amount'],
  ['cbPayItems', 0, 'Quantity'],
  ['cbPayItems', 0, 'Description'],
  ['cbPayItems', 0, 'ftPayItemCase'],
  ['ftCashBoxID'],
  ['ftQueueID'],
  ['cbCustomer'],
  ['__proto__'],
  ['constructor'],
]

/** Sets (as an own property, even `__proto__`) or removes the value at `path` inside `body`. */
export function attackAt(
  body: Record<string, unknown>,
  path: BodyPath,
  value: unknown,
  remove: boolean,
): void {
  let target: any = body
  for (const key of path.slice(0, -1)) {
    if (target === null || typeof target !== 'object') return
    target = target[key as keyof typeof target]
  }
  if (target === null || typeof target !== 'object') return
  const last = path.at(-1) as string | number
  if (remove) {
    if (Array.isArray(target) && typeof last === 'number') target.splice(last, 1)
    else delete target[last]
  } else {
    Object.defineProperty(target, last, { value, enumerable: true, writable: true, configurable: true })
  }
}
