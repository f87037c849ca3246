import { ErrorCode, FiscalError, invalid } from '../../../core/errors.ts'
import { BASIS_POINTS, netOf, VAT_DESCRIPTIONS, VAT_KEYS, type VatKey } from '../market/items.ts'
import type { DeCashboxRecord, DeStore } from '../market/ports.ts'
import type { RemoteTseStore } from '../remote/ports.ts'
import { callerOf } from '../market/caller.ts'
import type { TssService } from '../tss/tss-service.ts'
import { type Cell, cents, csvFile, divideRounded, fixed } from './csv.ts'
import { indexXml } from './index-xml.ts'
import { certificateText } from './limits.ts'
import type { ClosingRecord, VorgangRecord } from './records.ts'
import { CERTIFICATE_COLUMNS, TABLES, type TableSpec } from './tables.ts'

export interface DsfinvkFile {
  name: string
  data: Buffer
}

/** A range of cash point closings: Z numbers, or business days (YYYY-MM-DD); both ends inclusive, open if absent. */
export interface ClosingRange {
  from?: string
  to?: string
}

export interface DsfinvkExport {
  files: DsfinvkFile[]
  closings: number[]
  receipts: number
}

const TAXONOMY_VERSION = '2.3'

const byName = (file: string) => TABLES.find((t) => t.file === file) as TableSpec

const Z_NUMBER = /^\d{1,9}$/
const DAY = /^\d{4}-\d{2}-\d{2}$/

function rangeBound(value: string | undefined, field: 'from' | 'to'): { z?: number; day?: string } {
  if (value === undefined || value === '') return {}
  if (Z_NUMBER.test(value)) return { z: Number(value) }
  if (DAY.test(value)) return { day: value }
  throw invalid(field, 'must be a closing number (Z_NR, e.g. 3) or a business day (YYYY-MM-DD)')
}

/**
 * The DSFinV-K export of a German cash box for a range of its cash point closings (daily closings on
 * /v2/sign): index.xml and the CSV files of every module, built from the receipts the DE market kept.
 */
export class DsfinvkExporter {
  constructor(
    private readonly store: DeStore,
    private readonly tss: TssService,
    private readonly remote: RemoteTseStore,
  ) {}

  /** What tse.csv says of the cash box's TSS: the software TSS's record, or what the remote TSE gave at set-up. */
  private async tseOf(cashboxId: string, box: DeCashboxRecord) {
    const remote = await this.remote.remote(box.queueId)
    if (!remote) return this.tss.getTss(callerOf(cashboxId), box.tssId)
    return {
      serialNumber: remote.tssSerial,
      algorithm: remote.algorithm,
      publicKey: remote.publicKey,
      certificate: certificateText(remote.certificate),
    }
  }

  async export(cashbox: { queueId: string; cashboxId: string }, range: ClosingRange): Promise<DsfinvkExport> {
    const box = await this.store.cashbox(cashbox.queueId)
    if (!box)
      throw new FiscalError(
        ErrorCode.MarketNotConfigured,
        'this German cash box has no TSS yet: send its start receipt first',
      )
    const from = rangeBound(range.from, 'from')
    const to = rangeBound(range.to, 'to')
    const closings = (await this.store.closings(cashbox.queueId))
      .map((r) => JSON.parse(r.data) as ClosingRecord)
      .filter(
        (c) =>
          (from.z === undefined || c.zNr >= from.z) &&
          (to.z === undefined || c.zNr <= to.z) &&
          (from.day === undefined || c.businessDay >= from.day) &&
          (to.day === undefined || c.businessDay <= to.day),
      )
    if (closings.length === 0)
      throw new FiscalError(
        ErrorCode.NotFound,
        'no cash point closing in this range: DSFinV-K exports closed days, send a daily closing (0x4445200000002011) first',
      )
    const first = (closings[0] as ClosingRecord).zNr
    const last = (closings[closings.length - 1] as ClosingRecord).zNr
    const records = await this.store.receiptsOfClosings(cashbox.queueId, first, last)
    const tss = await this.tseOf(cashbox.cashboxId, box)
    const kasseId = box.clientSerial
    const rows = new Map<string, Cell[][]>(TABLES.map((t) => [t.file, []]))
    const add = (file: string, row: Cell[]) => rows.get(file)?.push(row)
    const wanted = new Set(closings.map((c) => c.zNr))
    const byZ = new Map<number, VorgangRecord[]>()
    const referenced = new Map<string, { zNr: number; bonId: string; start: string }>()
    for (const record of records) {
      if (record.kind !== 'receipt' || !wanted.has(record.zNr)) continue
      const vorgang = JSON.parse(record.data) as VorgangRecord
      byZ.set(record.zNr, [...(byZ.get(record.zNr) ?? []), vorgang])
      referenced.set(vorgang.reference, { zNr: record.zNr, bonId: vorgang.bonId, start: vorgang.start })
    }
    let receipts = 0
    for (const closing of closings) {
      const key: Cell[] = [kasseId, closing.createdAt, closing.zNr]
      const vorgaenge = byZ.get(closing.zNr) ?? []
      receipts += vorgaenge.length
      const counted = vorgaenge.filter((v) => v.bonTyp !== 'AVTraining')
      const payments = counted.flatMap((v) => v.payments)
      const total = (list: bigint[]) => list.reduce((a, b) => a + b, 0n)
      add('cashpointclosing.csv', [
        ...key,
        closing.businessDay,
        TAXONOMY_VERSION,
        vorgaenge[0]?.bonId ?? null,
        vorgaenge[vorgaenge.length - 1]?.bonId ?? null,
        '',
        '',
        '',
        '',
        'DEU',
        '',
        '',
        cents(total(payments.map((p) => BigInt(p.baseCents)))),
        cents(total(payments.filter((p) => p.kind === 'Bar').map((p) => BigInt(p.baseCents)))),
      ])
      add('location.csv', [...key, '', '', '', '', 'DEU', ''])
      add('cashregister.csv', [...key, 'fiscalbox', 'fiscalbox', kasseId, 'fiscalbox', '1', 'EUR', false])
      for (const terminal of new Set(vorgaenge.flatMap((v) => (v.terminalId ? [v.terminalId] : [])))) {
        add('slaves.csv', [...key, terminal, 'fiscalbox', 'POS', terminal, '', ''])
      }
      for (const vatKey of VAT_KEYS) {
        add('vat.csv', [...key, vatKey, fixed(BASIS_POINTS[vatKey], 2), VAT_DESCRIPTIONS[vatKey]])
      }
      const certificate = tss.certificate
      add('tse.csv', [
        ...key,
        1,
        tss.serialNumber,
        tss.algorithm,
        'unixTime',
        'UTF-8',
        tss.publicKey,
        // Split over TSE_ZERTIFIKAT_I to _VII at their MaxLength (1000 characters each).
        ...CERTIFICATE_COLUMNS.map((column, i) => {
          const size = column.maxLength as number
          return certificate.slice(i * size, (i + 1) * size)
        }),
      ])
      const cases = new Map<string, { gvTyp: string; vatKey: VatKey; gross: bigint }>()
      const paymentTypes = new Map<string, { typ: string; name: string; amount: bigint }>()
      const cash = new Map<string, bigint>()
      for (const v of vorgaenge) {
        const bon = [...key, v.bonId]
        const gross = total(v.lines.map((l) => BigInt(l.grossCents)))
        add('transactions.csv', [
          ...bon,
          v.bonNr,
          v.bonTyp,
          '',
          v.terminalId ?? '',
          v.storno,
          v.start,
          v.end,
          '',
          '',
          cents(gross),
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          v.reference,
        ])
        const perVat = new Map<VatKey, bigint>()
        v.lines.forEach((line) => {
          const vatKey = line.vatKey as VatKey
          const lineGross = BigInt(line.grossCents)
          const lineNet = netOf(lineGross, BASIS_POINTS[vatKey])
          perVat.set(vatKey, (perVat.get(vatKey) ?? 0n) + lineGross)
          const quantity = BigInt(line.quantityMicros)
          add('lines.csv', [
            ...bon,
            String(line.position),
            '',
            line.text,
            v.terminalId ?? '',
            line.businessCase,
            '',
            false,
            line.storno,
            0,
            line.productNumber ?? '',
            '',
            '',
            '',
            fixed(quantity, 6),
            fixed(1n, 0),
            '',
            // Unit price at the column's 5 decimals: gross (cents, 10^-2) / quantity (10^-6).
            quantity === 0n
              ? cents(lineGross)
              : fixed(divideRounded(lineGross * 1_000_000_000n, quantity), 5),
          ])
          add('lines_vat.csv', [
            ...bon,
            String(line.position),
            vatKey,
            cents(lineGross),
            cents(lineNet),
            cents(lineGross - lineNet),
          ])
          if (v.bonTyp !== 'AVTraining') {
            const caseKey = `${line.businessCase}|${vatKey}`
            const sum = cases.get(caseKey) ?? { gvTyp: line.businessCase, vatKey, gross: 0n }
            sum.gross += lineGross
            cases.set(caseKey, sum)
          }
        })
        for (const [vatKey, vatGross] of perVat) {
          const net = netOf(vatGross, BASIS_POINTS[vatKey])
          add('transactions_vat.csv', [...bon, vatKey, cents(vatGross), cents(net), cents(vatGross - net)])
        }
        const perPayment = new Map<
          string,
          { kind: string; name: string; currency: string; cents: bigint; base: bigint }
        >()
        for (const p of v.payments) {
          const pk = `${p.kind}|${p.name}|${p.currency}`
          const sum = perPayment.get(pk) ?? {
            kind: p.kind,
            name: p.name,
            currency: p.currency,
            cents: 0n,
            base: 0n,
          }
          sum.cents += BigInt(p.cents)
          sum.base += BigInt(p.baseCents)
          perPayment.set(pk, sum)
          if (v.bonTyp !== 'AVTraining') {
            const tk = `${p.kind}|${p.name}`
            const t = paymentTypes.get(tk) ?? { typ: p.kind, name: p.name, amount: 0n }
            t.amount += BigInt(p.baseCents)
            paymentTypes.set(tk, t)
            if (p.kind === 'Bar') cash.set(p.currency, (cash.get(p.currency) ?? 0n) + BigInt(p.cents))
          }
        }
        for (const p of perPayment.values()) {
          add('datapayment.csv', [...bon, p.kind, p.name, p.currency, cents(p.cents), cents(p.base)])
        }
        v.references.forEach((reference) => {
          const found = referenced.get(reference)
          add(
            'references.csv',
            found
              ? [...bon, '', 'Transaktion', '', found.start, kasseId, found.zNr, found.bonId]
              : [...bon, '', 'ExterneSonstige', reference, null, null, null, null],
          )
        })
        const tse = v.tse
        add(
          'transactions_tse.csv',
          tse
            ? [
                ...bon,
                1,
                tse.number,
                tse.start,
                tse.end,
                tse.processType,
                tse.signatureCounter,
                tse.signature,
                '',
                tse.processData,
              ]
            : [...bon, 1, null, null, null, null, null, '', v.tseError ?? 'TSE nicht verfügbar', ''],
        )
      }
      for (const c of cases.values()) {
        const net = netOf(c.gross, BASIS_POINTS[c.vatKey])
        add('businesscases.csv', [
          ...key,
          c.gvTyp,
          '',
          0,
          c.vatKey,
          cents(c.gross),
          cents(net),
          cents(c.gross - net),
        ])
      }
      for (const p of paymentTypes.values()) add('payment.csv', [...key, p.typ, p.name, cents(p.amount)])
      for (const [currency, amount] of cash) add('cash_per_currency.csv', [...key, currency, cents(amount)])
    }
    const files: DsfinvkFile[] = [
      {
        name: 'index.xml',
        data: Buffer.from(
          indexXml(TABLES, {
            from: (closings[0] as ClosingRecord).businessDay,
            to: (closings[closings.length - 1] as ClosingRecord).businessDay,
          }),
        ),
      },
      ...TABLES.map((t) => ({
        name: t.file,
        data: Buffer.from(csvFile(byName(t.file), rows.get(t.file) ?? [])),
      })),
    ]
    return { files, closings: closings.map((c) => c.zNr), receipts }
  }
}
