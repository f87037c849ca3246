import type { ReceiptDocument } from './document.ts'
import { qrMatrix, qrSvg } from './qr.ts'

const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** CSS pixels per QR module: whole pixels keep the code sharp on screen and in print. */
const QR_SCALE = 4

export interface HtmlLinks {
  pdf: string
  text: string
  /** Where the customer marks it received; absent where nobody is the customer (the operators' dashboard). */
  delivered?: string
}

const STYLE = `
*{box-sizing:border-box}body{margin:0;background:#eee;font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111}
main{max-width:26rem;margin:0 auto;padding:1rem;background:#fff;min-height:100vh}
h1{font-size:1.2rem;text-align:center;margin:.5rem 0 0}.title{text-align:center;margin:0 0 .5rem;color:#444}
.mark{text-align:center;font-weight:700;border:2px solid #111;padding:.2rem;margin:.4rem 0}
dl{display:grid;grid-template-columns:auto 1fr;gap:.1rem .8rem;margin:.6rem 0;font-size:.9rem}dt{color:#555}dd{margin:0;text-align:right;word-break:break-all}
table{width:100%;border-collapse:collapse;font-size:.9rem}th{text-align:left;font-weight:600;border-bottom:1px solid #999}
td{padding:.15rem 0;vertical-align:top}.num{text-align:right;white-space:nowrap;padding-left:.5rem}
.total{display:flex;justify-content:space-between;font-size:1.3rem;font-weight:700;border-top:2px solid #111;border-bottom:2px solid #111;margin:.6rem 0;padding:.3rem 0}
section{margin:.8rem 0}h2{font-size:.95rem;margin:0 0 .2rem}.detail{color:#555;font-size:.8rem}
figure{margin:.8rem 0;text-align:center}figure svg{max-width:100%;height:auto}figcaption{font-size:.8rem;color:#444}
.sigtext{font:.75rem/1.3 ui-monospace,monospace;word-break:break-all}
footer{font-size:.75rem;color:#666;text-align:center;margin-top:1rem}
.actions{display:flex;gap:.5rem;justify-content:center;margin:1rem 0}.actions a,.actions button{font:inherit;padding:.4rem .8rem;border:1px solid #333;border-radius:.3rem;background:#fff;color:#111;text-decoration:none;cursor:pointer}
@media print{body{background:#fff}main{max-width:none;min-height:0;padding:0}.actions{display:none}}
`

/**
 * The digital receipt: one self-contained page (no script, no external resource) that reads well on a
 * phone and prints on paper. The QR codes are inline SVG drawn from their module matrix.
 */
export function renderHtml(doc: ReceiptDocument, links: HtmlLinks): string {
  const l = doc.labels
  const facts = doc.facts.map((f) => `<dt>${escape(f.label)}</dt><dd>${escape(f.value)}</dd>`).join('')
  const lines = doc.lines
    .map(
      (line) =>
        `<tr><td>${escape(line.description)}</td><td class="num">${escape(line.quantity)}</td><td class="num">${escape(line.amount)}</td><td class="num">${line.vatLetter}</td></tr>`,
    )
    .join('')
  const vat = doc.vat
    .map(
      (v) =>
        `<tr><td>${v.letter}</td><td>${escape(v.rate)}</td><td class="num">${v.net}</td><td class="num">${v.vat}</td><td class="num">${v.gross}</td></tr>`,
    )
    .join('')
  const payments = doc.payments
    .map(
      (p) =>
        `<tr><td>${escape(p.description)}${p.detail ? `<div class="detail">${escape(p.detail)}</div>` : ''}</td><td class="num">${escape(p.amount)}</td></tr>`,
    )
    .join('')
  const qrCodes = doc.qrCodes
    .map(
      (qr) =>
        `<figure>${qrSvg(qrMatrix(qr.payload), QR_SCALE)}<figcaption>${escape(qr.caption)}</figcaption></figure>`,
    )
    .join('')
  const texts = doc.texts
    .map(
      (t) => `<p><strong>${escape(t.caption)}</strong><br><span class="sigtext">${escape(t.data)}</span></p>`,
    )
    .join('')
  const receiptNumber = doc.facts[0]?.value ?? ''
  return `<!doctype html>
<html lang="${doc.language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${escape(doc.title)} ${escape(receiptNumber)} - ${escape(doc.issuer)}</title><style>${STYLE}</style></head>
<body><main>
<h1>${escape(doc.issuer)}</h1><p class="title">${escape(doc.title)}</p>
${doc.marks.map((m) => `<p class="mark">${escape(m)}</p>`).join('')}
<dl>${facts}</dl>
${doc.customer.length > 0 ? `<section><h2>${escape(l.customer)}</h2>${doc.customer.map((c) => `<div>${escape(c)}</div>`).join('')}</section>` : ''}
<table class="items"><thead><tr><th>${escape(l.item)}</th><th class="num">${escape(l.quantity)}</th><th class="num">${escape(l.amount)}</th><th></th></tr></thead><tbody>${lines}</tbody></table>
<p class="total"><span>${escape(l.total)}</span><span id="total">${escape(doc.total)} ${escape(doc.currency)}</span></p>
${vat ? `<table class="vat"><thead><tr><th></th><th>${escape(l.vat)}</th><th class="num">${escape(l.net)}</th><th class="num">${escape(l.vat)}</th><th class="num">${escape(l.gross)}</th></tr></thead><tbody>${vat}</tbody></table>` : ''}
${payments ? `<section><h2>${escape(l.payments)}</h2><table class="payments"><tbody>${payments}</tbody></table></section>` : ''}
<section class="signatures">${qrCodes}${texts}</section>
<footer>${doc.footer.map(escape).join('<br>')}</footer>
<div class="actions"><a href="${escape(links.pdf)}">${escape(l.pdf)}</a>${links.delivered ? `<form method="post" action="${escape(links.delivered)}"><button type="submit">${escape(l.markReceived)}</button></form>` : ''}</div>
</main></body></html>
`
}
