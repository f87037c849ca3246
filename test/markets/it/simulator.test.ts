import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import {
  type DocumentReference,
  FpmateClient,
  type FpmateCommand,
  readFiscalReceiptAnswer,
  readZReportAnswer,
} from '../../../src/markets/it/fpmate/index.ts'
import { startItSimulator } from '../../../src/markets/it/simulator/app.ts'
import { answered, journalOf, putFaults, returnOf, sale, simulator, xReport, zReport } from './support.ts'

const SERIAL = '99IEZ000001'
const status = (statusType: number): FpmateCommand => ({
  root: 'printerCommand',
  steps: [{ kind: 'queryPrinterStatus', operator: '1', statusType }],
})

/** Sells and returns the document's numbers as a reference of the given kind. */
async function sold(
  client: Awaited<ReturnType<typeof simulator>>['client'],
  amount: number,
  kind: DocumentReference['kind'] = 'REFUND',
): Promise<DocumentReference> {
  const answer = readFiscalReceiptAnswer(answered(await client.send(sale([{ unitPrice: amount }]))))
  return {
    kind,
    zNumber: answer.zNumber,
    documentNumber: answer.documentNumber,
    date: answer.moment.slice(0, 10),
    serialNumber: answer.serialNumber,
  }
}

function refusal(response: { success: boolean; code: string; status: number }) {
  return { success: response.success, code: response.code, status: response.status }
}

describe('it-simulator: sales', () => {
  it('numbers documents within the Z, answers amount, moment and serial, and journals them', async () => {
    const { client, url } = await simulator({ clock: () => Date.parse('2026-03-02T09:15:30Z') })
    const first = answered(
      await client.send(
        sale([
          { unitPrice: 1250, quantity: 2000 },
          { unitPrice: 99, department: 2 },
        ]),
      ),
    )
    assert.equal(first.success, true)
    assert.deepEqual(readFiscalReceiptAnswer(first), {
      documentNumber: 1,
      zNumber: 1,
      amount: 2599,
      serialNumber: SERIAL,
      printerStatus: '00110',
      moment: '2026-03-02T10:15:30',
    })
    assert.equal(first.addInfo?.fiscalReceiptDate, '2/3/2026')
    assert.equal(first.addInfo?.fiscalReceiptTime, '10:15')
    const second = readFiscalReceiptAnswer(answered(await client.send(sale([{ unitPrice: 500 }]))))
    assert.equal(second.documentNumber, 2)
    const journal = await journalOf(url)
    assert.deepEqual(
      journal.map((entry) => [entry.type, entry.zNumber, entry.documentNumber, entry.amount, entry.vat]),
      [
        // VAT included: 2500 at 22 % is 451, 99 at 10 % is 9.
        ['SALE', 1, 1, 2599, 460],
        ['SALE', 1, 2, 500, 90],
      ],
    )
  })

  it('takes payments above the total (change) and refuses payments below it', async () => {
    const { client } = await simulator()
    assert.equal(answered(await client.send(sale([{ unitPrice: 730 }], [1000]))).success, true)
    const short = answered(await client.send(sale([{ unitPrice: 730 }], [500, 200])))
    assert.deepEqual(refusal(short), { success: false, code: 'PRINTER ERROR', status: 13 })
    assert.equal(short.addInfo?.printerStatus, '00110')
  })

  it('refuses a line or a total above the nine digits of its registers (20)', async () => {
    const { client } = await simulator()
    assert.equal(answered(await client.send(sale([{ unitPrice: 1_000_000_000 }]))).status, 20)
    assert.equal(
      answered(await client.send(sale([{ unitPrice: 600_000_000 }, { unitPrice: 400_000_000 }]))).status,
      20,
    )
    assert.equal(
      readFiscalReceiptAnswer(answered(await client.send(sale([{ unitPrice: 999_999_999 }])))).amount,
      999_999_999,
    )
  })

  it('applies item and subtotal adjustments to the total', async () => {
    const { client, url } = await simulator()
    const command = sale(
      [{ unitPrice: 1000 }],
      [850],
      [
        {
          kind: 'printRecItemAdjustment',
          adjustmentType: 3,
          description: 'Sconto',
          amount: 100,
          department: 1,
        },
        { kind: 'printRecSubtotalAdjustment', adjustmentType: 1, description: 'Sconto 5%', amount: 50 },
      ],
    )
    assert.equal(readFiscalReceiptAnswer(answered(await client.send(command))).amount, 850)
    const unknownType = sale(
      [{ unitPrice: 1000 }],
      [],
      [{ kind: 'printRecSubtotalAdjustment', adjustmentType: 4, description: 'x', amount: 1 }],
    )
    assert.equal(answered(await client.send(unknownType)).status, 16)
    assert.equal((await journalOf(url)).length, 1)
  })

  it('refuses commands out of order (11) and a document without its end (INCOMPLETE FILE), numbering nothing', async () => {
    const { client, url } = await simulator()
    const [begin, item, total, end] = sale([{ unitPrice: 100 }]).steps as FpmateCommand['steps']
    const send = (steps: unknown[]) => client.send({ root: 'printerFiscalReceipt', steps } as FpmateCommand)
    assert.equal(answered(await send([begin, total, item, end])).status, 11)
    assert.equal(answered(await send([item, total, end])).status, 11)
    assert.equal(answered(await send([begin, total, end])).status, 11)
    assert.equal(answered(await send([begin, item, total, end, item])).status, 11)
    assert.deepEqual(refusal(answered(await send([begin, item, total]))), {
      success: false,
      code: 'INCOMPLETE FILE',
      status: 0,
    })
    assert.deepEqual(await journalOf(url), [])
    assert.equal(
      readFiscalReceiptAnswer(answered(await client.send(sale([{ unitPrice: 100 }])))).documentNumber,
      1,
    )
  })

  it('answers malformed XML with PARSER_ERROR and an unknown command as the protocol says', async () => {
    const { client } = await simulator()
    assert.deepEqual(answered(await client.post('<printerFiscalReceipt>')), {
      success: false,
      code: 'PARSER_ERROR',
      status: 0,
    })
    assert.equal(answered(await client.post('<printerMagic/>')).code, 'Non valid XML command')
  })

  it('takes one document at a time: requests sent together get consecutive numbers', async () => {
    const { client } = await simulator({ latencyMs: 5 })
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => client.send(sale([{ unitPrice: 100 }])).then(answered)),
    )
    const numbers = answers
      .map((answer) => readFiscalReceiptAnswer(answer).documentNumber)
      .sort((a, b) => a - b)
    assert.deepEqual(numbers, [1, 2, 3, 4, 5, 6, 7, 8])
  })
})

describe('it-simulator: daily closure', () => {
  it('answers the closed Z and the takings, then Z + 1 starts again at document 1', async () => {
    const { client, url } = await simulator()
    const original = await sold(client, 2000)
    await sold(client, 500)
    answered(await client.send(returnOf(original, 300)))
    const x = answered(await client.send(xReport))
    assert.deepEqual(readZReportAnswer(x), { zNumber: 1, dailyAmount: 2200, printerStatus: '00110' })
    const z = answered(await client.send(zReport))
    assert.deepEqual(readZReportAnswer(z), { zNumber: 1, dailyAmount: 2200, printerStatus: '00110' })
    const next = readFiscalReceiptAnswer(answered(await client.send(sale([{ unitPrice: 100 }]))))
    assert.deepEqual([next.zNumber, next.documentNumber], [2, 1])
    const closures = (await journalOf(url)).filter((entry) => entry.type === 'ZREPORT')
    assert.deepEqual(
      closures.map(({ zNumber, dailyAmount, documents }) => ({ zNumber, dailyAmount, documents })),
      [{ zNumber: 1, dailyAmount: 2200, documents: 3 }],
    )
    const empty = readZReportAnswer(answered(await client.send(zReport)))
    assert.deepEqual([empty.zNumber, empty.dailyAmount], [2, 100])
  })

  it('reports the day open in the RT status until the Z report', async () => {
    const { client } = await simulator()
    const basic = answered(await client.send(status(0)))
    assert.deepEqual(basic.addInfo, {
      printerStatus: '00110',
      cpuRel: '07.00',
      mfRel: '04.3',
      mfStatus: '02',
      fpStatus: '00110',
    })
    assert.equal(answered(await client.send(status(1))).addInfo?.rtDailyOpen, '0')
    await sold(client, 100)
    assert.equal(answered(await client.send(status(1))).addInfo?.rtDailyOpen, '1')
    answered(await client.send(zReport))
    assert.equal(answered(await client.send(status(1))).addInfo?.rtDailyOpen, '0')
  })

  it('refuses documents and closures dated before the last Z (9)', async () => {
    let now = Date.parse('2026-03-02T20:00:00Z')
    const { client } = await simulator({ clock: () => now })
    answered(await client.send(zReport))
    now -= 3_600_000
    assert.equal(answered(await client.send(sale([{ unitPrice: 100 }]))).status, 9)
    assert.equal(answered(await client.send(zReport)).status, 9)
  })
})

describe('it-simulator: non-fiscal documents and the last document', () => {
  const nonFiscal = (steps: unknown[]) => ({ root: 'printerNonFiscal', steps }) as FpmateCommand
  const begin = { kind: 'beginNonFiscal', operator: '1' }
  const line = { kind: 'printNormal', operator: '1', font: 1, data: 'Buono omaggio' }
  const end = { kind: 'endNonFiscal', operator: '1' }

  it('prints a non-fiscal document, which 1387 then reports as not fiscal, leaving the fiscal numbers alone', async () => {
    const { client, url } = await simulator()
    const before = await client.lastDocument()
    assert.deepEqual(
      before.kind === 'document' && [
        before.document.fiscal,
        before.document.zNumber,
        before.document.documentNumber,
      ],
      [false, 0, 0],
    )
    await sold(client, 700)
    assert.equal(answered(await client.send(nonFiscal([begin, line, end]))).success, true)
    const last = await client.lastDocument()
    assert.deepEqual(
      last.kind === 'document' && [last.document.fiscal, last.document.amount, last.document.documentNumber],
      [false, 0, 1],
    )
    assert.equal(
      readFiscalReceiptAnswer(answered(await client.send(sale([{ unitPrice: 100 }])))).documentNumber,
      2,
    )
    assert.equal((await journalOf(url)).length, 2)
  })

  it('refuses a non-fiscal document that does not go from begin to end (11)', async () => {
    const { client } = await simulator()
    assert.equal(answered(await client.send(nonFiscal([line, end]))).status, 11)
    assert.equal(answered(await client.send(nonFiscal([begin, line]))).status, 11)
  })
})

describe('it-simulator: returns and voids', () => {
  it('prints a return of a sale once; a second return gets 40', async () => {
    const { client, url } = await simulator()
    const original = await sold(client, 1500)
    const first = answered(await client.send(returnOf(original, 1500)))
    assert.equal(readFiscalReceiptAnswer(first).documentNumber, 2)
    assert.deepEqual(refusal(answered(await client.send(returnOf(original, 1500)))), {
      success: false,
      code: 'PRINTER ERROR',
      status: 40,
    })
    assert.equal(answered(await client.send(returnOf({ ...original, kind: 'VOID' }, 1500))).status, 40)
    const journal = await journalOf(url)
    assert.equal(journal[0].refundedBy, '0001-0002')
    assert.deepEqual(journal[1].reference, original)
    assert.equal(journal[1].type, 'REFUND')
  })

  it('voids a sale once (39), refuses references to returns (42) and voids (41)', async () => {
    const { client } = await simulator()
    const original = await sold(client, 800, 'VOID')
    const voided = readFiscalReceiptAnswer(answered(await client.send(returnOf(original, 800))))
    assert.equal(answered(await client.send(returnOf(original, 800))).status, 39)
    assert.equal(answered(await client.send(returnOf({ ...original, kind: 'REFUND' }, 800))).status, 39)
    const voidReference = { ...original, documentNumber: voided.documentNumber }
    assert.equal(answered(await client.send(returnOf(voidReference, 800))).status, 41)
    const other = await sold(client, 300)
    const returned = readFiscalReceiptAnswer(answered(await client.send(returnOf(other, 300))))
    const returnReference = { ...other, documentNumber: returned.documentNumber }
    assert.equal(answered(await client.send(returnOf(returnReference, 300))).status, 42)
    assert.equal(answered(await client.send(returnOf({ ...returnReference, kind: 'VOID' }, 300))).status, 41)
  })

  it("accepts ND references and other devices' documents, refuses its own unknown ones (12)", async () => {
    const { client } = await simulator()
    const original = await sold(client, 100)
    const nd = {
      kind: 'REFUND',
      zNumber: 0,
      documentNumber: 0,
      date: '2026-01-15',
      serialNumber: 'ND',
    } as const
    assert.equal(answered(await client.send(returnOf(nd, 100))).success, true)
    assert.equal(answered(await client.send(returnOf(nd, 100))).success, true)
    assert.equal(
      answered(await client.send(returnOf({ ...original, serialNumber: '99IEZ999999' }, 100))).success,
      true,
    )
    assert.equal(answered(await client.send(returnOf({ ...original, documentNumber: 99 }, 100))).status, 12)
    assert.equal(answered(await client.send(returnOf({ ...original, date: '2020-01-01' }, 100))).status, 12)
  })

  it('refuses sale lines in a return and return lines in a sale (11)', async () => {
    const { client } = await simulator()
    const original = await sold(client, 100)
    const mixed = returnOf(original, 100)
    mixed.steps.splice(2, 1, {
      kind: 'printRecItem',
      description: 'x',
      quantity: 1000,
      unitPrice: 100,
      department: 1,
    })
    assert.equal(answered(await client.send(mixed)).status, 11)
    const refundInSale = sale(
      [{ unitPrice: 100 }],
      [],
      [{ kind: 'printRecRefund', description: 'x', quantity: 1000, unitPrice: 100, department: 1 }],
    )
    assert.equal(answered(await client.send(refundInSale)).status, 11)
  })
})

describe('it-simulator: lottery code and customer tax id', () => {
  const lottery = (code: string) => ({ kind: 'printRecLotteryID', code }) as const
  const taxId = (command: string, id: string) => ({ kind: 'directIO', command, data: `01${id}` }) as const

  it('prints valid ones and keeps them in the journal and the last document', async () => {
    const { client, url } = await simulator()
    answered(
      await client.send(
        sale([{ unitPrice: 100 }], [], [lottery('ABCD1234'), taxId('1061', 'RSSMRA80A01H501U')]),
      ),
    )
    answered(await client.send(sale([{ unitPrice: 100 }], [], [taxId('1060', '12345678903')])))
    const journal = await journalOf(url)
    assert.deepEqual(
      journal.map((entry) => [entry.lotteryCode, entry.customerId]),
      [
        ['ABCD1234', 'RSSMRA80A01H501U'],
        [undefined, '12345678903'],
      ],
    )
  })

  it('refuses a bad lottery code, partita IVA or codice fiscale with 30', async () => {
    const { client, url } = await simulator()
    for (const extra of [
      lottery('ABC-1234'),
      taxId('1060', '12345678904'),
      taxId('1061', 'RSSMRA80A01H501V'),
    ])
      assert.equal(
        answered(await client.send(sale([{ unitPrice: 100 }], [], [extra]))).status,
        30,
        JSON.stringify(extra),
      )
    assert.deepEqual(await journalOf(url), [])
  })
})

describe('it-simulator: printer conditions and faults', () => {
  it('answers EPTR_REC_EMPTY (3) with paper out or cover open, reports it in the status, and prints again after', async () => {
    const { client, url } = await simulator()
    for (const condition of ['paperOut', 'coverOpen']) {
      assert.equal((await putFaults(url, { [condition]: true })).status, 200)
      const refused = answered(await client.send(sale([{ unitPrice: 100 }])))
      assert.deepEqual(refusal(refused), { success: false, code: 'EPTR_REC_EMPTY', status: 3 })
      assert.equal(refused.addInfo?.printerStatus, '30110')
      assert.equal(answered(await client.send(status(0))).addInfo?.fpStatus, '30110')
      await putFaults(url, { [condition]: false })
    }
    assert.equal(
      readFiscalReceiptAnswer(answered(await client.send(sale([{ unitPrice: 100 }])))).documentNumber,
      1,
    )
  })

  it('answers PRINTER ERROR 17 while busy or at the error rate, printing nothing', async () => {
    const { client, url } = await simulator({ conditions: { busy: true } })
    assert.equal(answered(await client.send(zReport)).status, 17)
    await putFaults(url, { busy: false, errorRate: 1 })
    assert.deepEqual(refusal(answered(await client.send(sale([{ unitPrice: 100 }])))), {
      success: false,
      code: 'PRINTER ERROR',
      status: 17,
    })
    assert.deepEqual(await journalOf(url), [])
  })

  it('print then drop: the client gets no answer, the document is printed, 1387 tells which', async () => {
    const { client, url } = await simulator()
    await sold(client, 100)
    await putFaults(url, { dropAfterPrintRate: 1 })
    const lost = await client.send(sale([{ unitPrice: 4321 }]))
    assert.equal(lost.kind, 'no_answer')
    await putFaults(url, { dropAfterPrintRate: 0 })
    const last = await client.lastDocument()
    assert.equal(last.kind, 'document')
    assert.deepEqual(
      last.kind === 'document' && [
        last.document.zNumber,
        last.document.documentNumber,
        last.document.amount,
        last.document.fiscal,
      ],
      [1, 2, 4321, true],
    )
    assert.equal((await journalOf(url)).length, 2)
  })

  it('a hung firmware answers LAN_TIME_OUT after the request timeout, or the client gives up; nothing printed', async () => {
    const { url } = await simulator({ faults: { hangRate: 1 } })
    const quick = new FpmateClient({ url, deviceTimeoutMs: 10 })
    assert.deepEqual(answered(await quick.send(sale([{ unitPrice: 100 }]))), {
      success: false,
      code: 'LAN_TIME_OUT',
      status: 0,
    })
    const impatient = new FpmateClient({ url, deviceTimeoutMs: 600_000, timeoutMs: 50 })
    assert.equal((await impatient.send(sale([{ unitPrice: 100 }]))).kind, 'no_answer')
    await putFaults(url, { hangRate: 0 })
    assert.deepEqual(await journalOf(url), [])
  })

  it('offline: every fpmate connection is cut unprocessed; the control endpoint still answers', async () => {
    const { client, url } = await simulator({ faults: { offline: true } })
    assert.equal((await client.send(sale([{ unitPrice: 100 }]))).kind, 'no_answer')
    const state = (await (await fetch(`${url}/_sim/state`)).json()) as any
    assert.deepEqual([state.documentNumber, state.faults.offline], [0, true])
    await putFaults(url, { offline: false })
    assert.equal(
      readFiscalReceiptAnswer(answered(await client.send(sale([{ unitPrice: 100 }])))).documentNumber,
      1,
    )
  })

  it('directIO 4034 restarts the printer: the connection drops without an answer', async () => {
    const { client } = await simulator()
    const restart: FpmateCommand = {
      root: 'printerCommand',
      steps: [{ kind: 'directIO', command: '4034', data: `019800${' '.repeat(64)}` }],
    }
    assert.equal((await client.send(restart)).kind, 'no_answer')
    assert.equal(answered(await client.send(status(0))).success, true)
  })

  it('refuses a fault setting it cannot use with 400 naming the field', async () => {
    const { url } = await simulator()
    for (const [body, message] of [
      [{ errorRate: 2 }, /errorRate must be a fraction from 0 to 1/],
      [{ paperOut: 'yes' }, /paperOut must be true or false/],
      [{ jam: true }, /jam is not a fault or condition/],
    ] as const) {
      const response = await putFaults(url, body)
      assert.equal(response.status, 400)
      assert.match(((await response.json()) as { error: string }).error, message)
    }
  })
})

describe('it-simulator: state file', () => {
  it('keeps counters, journal and references across a restart', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'it-sim-')), 'device.json')
    const first = await simulator({ stateFile: file })
    const original = await sold(first.client, 1000)
    answered(await first.client.send(zReport))
    await sold(first.client, 200)
    await first.close()

    const second = await simulator({ stateFile: file })
    const next = readFiscalReceiptAnswer(answered(await second.client.send(sale([{ unitPrice: 300 }]))))
    assert.deepEqual([next.zNumber, next.documentNumber, next.serialNumber], [2, 2, SERIAL])
    assert.equal(answered(await second.client.send(returnOf(original, 1000))).success, true)
    assert.equal(answered(await second.client.send(returnOf(original, 1000))).status, 40)
    assert.deepEqual(
      (await journalOf(second.url)).map(
        (entry) => `${entry.type} ${entry.zNumber}-${entry.documentNumber ?? ''}`,
      ),
      ['SALE 1-1', 'ZREPORT 1-', 'SALE 2-1', 'SALE 2-2', 'REFUND 2-3'],
    )
    await assert.rejects(
      startItSimulator({ stateFile: file, serialNumber: '99IEZ000002' }),
      /belongs to device 99IEZ000001.*--serial/,
    )
  })

  it('refuses a 10000th document in one day: the number has four digits (21)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'it-sim-')), 'device.json')
    await (await simulator({ stateFile: file })).close()
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), documentNumber: 9998 }))
    const { client } = await simulator({ stateFile: file })
    assert.equal(
      readFiscalReceiptAnswer(answered(await client.send(sale([{ unitPrice: 100 }])))).documentNumber,
      9999,
    )
    assert.equal(answered(await client.send(sale([{ unitPrice: 100 }]))).status, 21)
    assert.equal(readZReportAnswer(answered(await client.send(zReport))).zNumber, 1)
    assert.equal(
      readFiscalReceiptAnswer(answered(await client.send(sale([{ unitPrice: 100 }])))).documentNumber,
      1,
    )
  })
})
