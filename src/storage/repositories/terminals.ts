import type { Selectable } from 'kysely'
import type { TerminalRecord, TerminalStore } from '../../core/ports.ts'
import type { Storage } from '../database.ts'
import type { TerminalTable } from '../schema.ts'

const toRecord = (row: Selectable<TerminalTable>): TerminalRecord => ({
  cashboxId: row.cashbox_id,
  terminalId: row.terminal_id,
  description: row.description,
  pairedAt: row.paired_at,
})

export function terminalRepository(storage: Storage): TerminalStore {
  const { db } = storage
  return {
    insert: async (terminal) => {
      await storage.transact((trx) =>
        trx
          .insertInto('terminals')
          .values({
            cashbox_id: terminal.cashboxId,
            terminal_id: terminal.terminalId,
            description: terminal.description,
            paired_at: terminal.pairedAt,
          })
          .onConflict((c) => c.columns(['cashbox_id', 'terminal_id']).doNothing())
          .execute(),
      )
    },
    find: (cashboxId, terminalId) =>
      db
        .selectFrom('terminals')
        .selectAll()
        .where('cashbox_id', '=', cashboxId)
        .where('terminal_id', '=', terminalId)
        .executeTakeFirst()
        .then((row) => (row ? toRecord(row) : undefined)),
    list: (cashboxId) =>
      db
        .selectFrom('terminals')
        .selectAll()
        .where('cashbox_id', '=', cashboxId)
        .orderBy('paired_at')
        .orderBy('terminal_id')
        .execute()
        .then((rows) => rows.map(toRecord)),
    count: (cashboxId) =>
      db
        .selectFrom('terminals')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('cashbox_id', '=', cashboxId)
        .executeTakeFirstOrThrow()
        .then((row) => Number(row.n)),
  }
}
