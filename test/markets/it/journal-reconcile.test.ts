import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { exportJournal } from '../../../src/cli/export-journal.ts'
import { JournalVerifier } from '../../../src/verify/journal-verifier.ts'
import { startHarness } from '../../helpers/harness.ts'
import { IT_CASE, itPos, itReceipt, itType, startSim } from './pos-support.ts'

/**
 * Audit: fiscalbox's journal export of an IT cash box, checked by the independent verifier, reconciled
 * document by document with the device's electronic journal (the simulator's): every receipt that names
 * a device document names one the device has, of the same kind and total, and every document the device
 * printed is on exactly one receipt.
 */
test('the journal export of an IT cash box reconciles with the device journal', async () => {
  const h = await startHarness('sqlite')
  const sim = await startSim()
  const dir = mkdtempSync(join(tmpdir(), 'fiscalbox-it-journal-'))
  try {
    const box = await h.runtime.cashboxes.create('IT')
    const pos = await itPos(h.app, box, sim)
    const sale = itReceipt(IT_CASE.pos, [
      { amount: '10.00', vat: 22 },
      { amount: '5.50', vat: 10 },
    ])
    await pos.signOk(sale)
    await pos.signOk(itReceipt(IT_CASE.pos, [{ amount: '3.00', vat: 4 }]))
    await pos.signOk(
      itReceipt(IT_CASE.refund, [{ amount: '-5.50', vat: 10, quantity: -1 }], {
        cbPreviousReceiptReference: sale.cbReceiptReference,
      }),
    )
    await pos.signOk(itReceipt(IT_CASE.daily, []))
    await pos.signOk(itReceipt(IT_CASE.training, [{ amount: '1.00', vat: 22 }]))
    await pos.signOk(itReceipt(IT_CASE.pos, [{ amount: '7.00', vat: 22 }]))

    const file = join(dir, 'journal.jsonl')
    await exportJournal(h.runtime, box.cashboxId, file)
    const lines = readFileSync(file, 'utf8').trim().split('\n')
    const verifier = new JournalVerifier()
    lines.forEach((line, i) => verifier.line(line, i + 1))
    assert.deepEqual(verifier.finish().problems, [])

    const KINDS: Record<string, string> = { POSRECEIPT: 'SALE', REFUND: 'REFUND', VOID: 'VOID' }
    const onReceipts = lines
      .map((line) => JSON.parse(line))
      .filter((entry) => typeof entry.response === 'string')
      .map((entry) => ({ total: entry.total as string, response: JSON.parse(entry.response) }))
      .filter(({ response }) => /#\d{4}-\d{4}$/.test(response.ftReceiptIdentification))
      .map(({ total, response }) => {
        const data = (code: bigint) =>
          response.ftSignatures.find((s: any) => s.ftSignatureType === itType(code))?.Data as string
        return {
          number: `${data(0x11n)}-${data(0x12n)}`,
          type: KINDS[data(0x14n)],
          cents: Math.abs(Math.round(Number(total) * 100)),
        }
      })
    const inDevice = sim.documents().map((d) => ({
      number: `${String(d.zNumber).padStart(4, '0')}-${String(d.documentNumber).padStart(4, '0')}`,
      type: d.type,
      cents: d.amount,
    }))
    assert.deepEqual(onReceipts, inDevice)
    assert.equal(inDevice.length, 4, 'three documents on day 1, one on day 2; the training receipt none')
  } finally {
    await h.close()
    await sim.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
