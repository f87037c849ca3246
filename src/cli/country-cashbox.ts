import { loadConfig } from '../config.ts'
import type { CashboxRecord } from '../core/ports.ts'
import { openRuntime, type Runtime } from '../runtime.ts'

/** Opens the runtime for a country's command on one of its cash boxes, and closes it after `use`. */
export async function withCountryCashbox<T>(
  country: string,
  cashboxId: string,
  use: (runtime: Runtime, cashbox: CashboxRecord) => Promise<T>,
): Promise<T> {
  const runtime = await openRuntime(loadConfig())
  try {
    const cashbox = await runtime.cashboxes.find(cashboxId)
    if (!cashbox) throw new Error(`no cash box ${cashboxId}: see \`fiscalbox cashbox list\``)
    if (cashbox.country !== country)
      throw new Error(
        `cash box ${cashboxId} is a ${cashbox.country} cash box: create one with --country ${country}`,
      )
    return await use(runtime, cashbox)
  } finally {
    await runtime.close()
  }
}

/** A record as `name:  value` lines, or one JSON line for scripts (--json). */
export const printFields = (value: unknown, json: boolean | undefined) =>
  process.stdout.write(
    json
      ? `${JSON.stringify(value)}\n`
      : `${Object.entries(value as Record<string, unknown>)
          .map(
            ([k, v]) =>
              `${`${k}:`.padEnd(18)}${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`,
          )
          .join('\n')}\n`,
  )
