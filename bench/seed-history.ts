import type { BenchCashbox } from './fiscalbox.ts'
export async function seedHistory(_o: { dataDir: string; receipts: number }): Promise<{ seconds: number; databaseMiB: number; cashbox: BenchCashbox }> { throw new Error('todo') }
