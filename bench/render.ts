import { mkdtempSync, rmSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseReceipt, type ReceiptRequestBody } from '../src/core/receipt.ts'
import { renderEscPos } from '../src/receipts/escpos.ts'
import { renderHtml } from '../src/receipts/html.ts'
import { renderPdf } from '../src/receipts/pdf.ts'
import { openRuntime, type Runtime } from '../src/runtime.ts'
import { step } from './terminal.ts'

export interface RenderRate {
  renders: number
  perSecond: number
  /** Process CPU (user + system) per render: what the render costs, whatever else the machine runs. */
  cpuMicros: number
  bytes: number
}

export interface RenderResult {
  measuredAt: string
  durationS: number
  html: RenderRate
  pdf: RenderRate
  escpos: RenderRate
  /** Load average (1, 5, 15 min) when the part started: the machine is shared. */
  loadAverage?: number[]
}

/** A café receipt of five lines at two VAT rates, paid in cash and by card: a typical digital receipt. */
function sampleReceipt(): ReceiptRequestBody {
  const charges = [
    ['Cappuccino grande', '4.20', 7],
    ['Croissant', '2.80', 7],
    ['Orange juice 0.3 l', '3.90', 19],
    ['Club sandwich', '8.50', 7],
    ['Mineral water', '2.60', 19],
  ] as const
  return {
    cbReceiptReference: `bench-${randomUUID()}`,
    cbReceiptMoment: new Date().toISOString(),
    ftReceiptCase: '0x4445200000000001',
    cbChargeItems: charges.map(([Description, Amount, VATRate]) => ({
      Quantity: 1,
      Description,
      Amount,
      VATRate,
    })),
    cbPayItems: [
      { Description: 'Bar', Amount: '10.00', ftPayItemCase: '0x4445200000000001' },
      { Description: 'Karte', Amount: '12.00', ftPayItemCase: '0x4445200000000005' },
    ],
  }
}

async function signed(runtime: Runtime): Promise<string> {
  const box = await runtime.cashboxes.create('DE', 'Café Beispiel')
  const cashbox = await runtime.cashboxes.authenticate(box.cashboxId, box.accessToken)
  const sign = (body: ReceiptRequestBody) =>
    runtime.signService.sign({
      cashbox,
      operationId: randomUUID(),
      lifetimeMs: 15_000,
      body,
      receipt: parseReceipt(body),
    })
  await sign({ ...sampleReceipt(), ftReceiptCase: '0x4445200000004001', cbChargeItems: [], cbPayItems: [] })
  const body = sampleReceipt()
  const response = JSON.parse(await sign(body)) as Record<string, unknown>
  const { issued } = await runtime.receipts.issue(cashbox, {
    ReceiptRequest: body,
    ReceiptResponse: response,
  })
  return issued.id
}

/** Renders as fast as one event loop can for `durationS`, after a second of warm-up. */
async function measure(durationS: number, render: () => Promise<number>): Promise<RenderRate> {
  const until = (ms: number) => {
    const end = performance.now() + ms
    return () => performance.now() < end
  }
  for (const going = until(1000); going(); ) await render()
  const cpu = process.cpuUsage()
  const start = performance.now()
  let renders = 0
  let bytes = 0
  for (const going = until(durationS * 1000); going(); renders++) bytes = await render()
  const seconds = (performance.now() - start) / 1000
  const used = process.cpuUsage(cpu)
  return { renders, perSecond: renders / seconds, cpuMicros: (used.user + used.system) / renders, bytes }
}

/**
 * Digital receipts rendered per second, each the whole path of a GET of its link minus HTTP: read the
 * receipt from the journal (SQLite), build the document model, encode the QR code, render.
 */
export async function renderBench(durationS: number): Promise<RenderResult> {
  const dir = mkdtempSync(join(tmpdir(), 'fiscalbox-bench-render-'))
  const runtime = await openRuntime({
    DATABASE_URL: `sqlite:${join(dir, 'fiscalbox.db')}`,
    FISCALBOX_DATA_DIR: dir,
    PG_POOL_SIZE: 1,
  })
  try {
    const id = await signed(runtime)
    const links = {
      pdf: `/r/${id}/receipt.pdf`,
      text: `/r/${id}/receipt.txt`,
      delivered: `/r/${id}/delivered`,
    }
    step(`render: HTML for ${durationS} s`)
    const html = await measure(durationS, async () => {
      const { document } = await runtime.receipts.document(id)
      return Buffer.byteLength(renderHtml(document, links))
    })
    step(`  ${Math.round(html.perSecond)} HTML renders/s, ${Math.round(html.cpuMicros)} µs CPU each`)
    step(`render: PDF for ${durationS} s`)
    const pdf = await measure(durationS, async () => {
      const { document, moment } = await runtime.receipts.document(id)
      return (await renderPdf(document, moment)).length
    })
    step(`  ${Math.round(pdf.perSecond)} PDF renders/s, ${Math.round(pdf.cpuMicros)} µs CPU each`)
    step(`render: ESC/POS for ${durationS} s`)
    const escpos = await measure(durationS, async () => {
      const { document } = await runtime.receipts.document(id)
      return renderEscPos(document, 48).length
    })
    step(`  ${Math.round(escpos.perSecond)} ESC/POS renders/s, ${Math.round(escpos.cpuMicros)} µs CPU each`)
    return { measuredAt: new Date().toISOString(), durationS, html, pdf, escpos }
  } finally {
    await runtime.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
