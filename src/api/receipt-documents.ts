import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import { Type } from 'typebox'
import type { ReceiptDocument } from '../receipts/document.ts'
import { renderEscPos } from '../receipts/escpos.ts'
import { renderHtml } from '../receipts/html.ts'
import { renderPdf } from '../receipts/pdf.ts'
import { type PrinterWidth, renderText } from '../receipts/printout.ts'
import type { Runtime } from '../runtime.ts'

const Params = Type.Object({ id: Type.String({ maxLength: 64 }) })
const WidthQuery = Type.Object({
  width: Type.Optional(
    Type.Union([Type.Literal('42'), Type.Literal('48')], { description: 'columns, default 48' }),
  ),
})

/**
 * Whoever holds the link may read the receipt, nobody else may find it: no caching by proxies, no
 * indexing, no referrer that would carry the token to another site, nothing loaded from elsewhere.
 */
function privateDocument(reply: FastifyReply, contentType: string): FastifyReply {
  return reply
    .type(contentType)
    .header('cache-control', 'private, no-store')
    .header('x-robots-tag', 'noindex')
    .header('referrer-policy', 'no-referrer')
    .header('x-content-type-options', 'nosniff')
}

/** The public side of /v2/issue: the receipt behind its unguessable link, in four renderings. */
export function receiptDocuments(runtime: Runtime): FastifyPluginAsyncTypebox {
  return async (app) => {
    // The page's "received" button posts an empty form.
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_r, _body, done) =>
      done(null, {}),
    )
    const common = { hide: false, tags: ['receipt documents'], security: [] }

    app.get(
      '/r/:id',
      { schema: { ...common, summary: 'The digital receipt (HTML)', params: Params } },
      async (request, reply) => {
        const { id } = request.params
        const { document } = await runtime.receipts.document(id)
        const html = renderHtml(document, {
          pdf: `/r/${id}/receipt.pdf`,
          text: `/r/${id}/receipt.txt`,
          delivered: `/r/${id}/delivered`,
        })
        return privateDocument(reply, 'text/html; charset=utf-8')
          .header(
            'content-security-policy',
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'",
          )
          .send(html)
      },
    )

    app.get(
      '/r/:id/receipt.pdf',
      { schema: { ...common, summary: 'The receipt as a PDF (80 mm roll)', params: Params } },
      async (request, reply) => {
        const { document, moment } = await runtime.receipts.document(request.params.id)
        return privateDocument(reply, 'application/pdf').send(await renderPdf(document, moment))
      },
    )

    /** The renderings for a receipt printer: the same document laid out for 42 or 48 columns. */
    const printerRendering = (
      path: string,
      summary: string,
      contentType: string,
      render: (document: ReceiptDocument, width: PrinterWidth) => string | Buffer,
    ) =>
      app.get(
        path,
        { schema: { ...common, summary, params: Params, querystring: WidthQuery } },
        async (request, reply) => {
          const { document } = await runtime.receipts.document(request.params.id)
          const width = Number(request.query.width ?? 48) as PrinterWidth
          return privateDocument(reply, contentType).send(render(document, width))
        },
      )
    printerRendering(
      '/r/:id/receipt.txt',
      'The receipt as plain text for 42 or 48 columns',
      'text/plain; charset=utf-8',
      renderText,
    )
    printerRendering(
      '/r/:id/receipt.escpos',
      'ESC/POS printer bytes (code page 16, QR code), 42 or 48 columns',
      'application/octet-stream',
      renderEscPos,
    )

    app.post(
      '/r/:id/delivered',
      { schema: { ...common, summary: 'The customer marks the receipt received', params: Params } },
      async (request, reply) => {
        const issued = await runtime.receipts.markDeliveredByViewer(request.params.id)
        const { document } = await runtime.receipts.document(request.params.id)
        return privateDocument(reply, 'text/html; charset=utf-8').send(
          `<!doctype html><html lang="${document.language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${document.labels.received}</title></head><body style="font:16px system-ui;text-align:center;padding:2rem"><p id="received">${document.labels.received} ✓</p><p>${String(issued.deliveredAt)}</p><p><a href="/r/${request.params.id}">${document.title}</a></p></body></html>`,
        )
      },
    )
  }
}
