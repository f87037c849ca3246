import { InvalidArgumentError } from 'commander'

/** Commander parsers of option values; a bad value is refused with the rule it breaks. */
export function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`)
    return n
  }
}

export function fraction(value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new InvalidArgumentError('must be a fraction from 0 to 1, e.g. 0.3')
  return n
}
