import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { fetchDocument, htmlText, pdfText, readEscPos, signAndIssue } from '../../api/issue-support.ts'
import { startedPos } from '../../api/support.ts'
import { type Harness, startHarness } from '../../helpers/harness.ts'
import { FR_CASE, frReceipt } from './support.ts'

/**
 * What a French receipt shows on /v2/issue's HTML page, PDF (read back by pdftotext), text and ESC/POS
 * renderings: the signature (QR code and its printed extract), the duplicate and training markings.
 */
describe('French receipt documents', () => {
  let h: Harness
  before(async () => {
    h = await startHarness('sqlite')
  })
  after(() => h.close())

  const renderings = async (pos: Awaited<ReturnType<typeof startedPos>>, path: string) => {
    const fetched: Record<string, Buffer> = {}
    for (const [name, suffix] of [
      ['html', ''],
      ['pdf', '/receipt.pdf'],
      ['text', '/receipt.txt?width=48'],
      ['escpos', '/receipt.escpos?width=48'],
    ]) {
      const document = await fetchDocument(pos, `${path}${suffix}`)
      assert.equal(document.status, 200, `${name}: ${document.body.toString('utf8')}`)
      fetched[name as string] = document.body
    }
    const escpos = readEscPos(fetched.escpos as Buffer)
    return {
      qrPayloads: escpos.qrPayloads,
      texts: {
        html: htmlText((fetched.html as Buffer).toString('utf8')),
        pdf: pdfText(fetched.pdf as Buffer),
        text: (fetched.text as Buffer).toString('utf8'),
        escpos: escpos.text,
      },
    }
  }

  const assertShows = (texts: Record<string, string>, words: readonly string[]) => {
    for (const [name, content] of Object.entries(texts)) {
      const flat = content.replace(/\s+/g, ' ')
      for (const word of words) assert.ok(flat.includes(word), `${name} lacks ${word}:\n${content}`)
    }
  }

  test('a ticket, its duplicate, a training ticket and a closing print their signatures and markings', async () => {
    const pos = await startedPos(h, 'FR')
    const sale = frReceipt(FR_CASE.pos, [['12.50', 20]])
    const ticket = await signAndIssue(pos, sale)
    const jws = ticket.signed.ftSignatures.find((s: any) => BigInt(s.ftSignatureFormat) === 0x3n).Data
    const extract = jws.split('.')[2].slice(0, 8)
    const shown = await renderings(pos, ticket.path)
    assert.deepEqual(shown.qrPayloads, [jws], 'the QR code is the JWS exactly')
    assertShows(shown.texts, [ticket.signed.ftReceiptIdentification, 'Signature', extract])
    for (const content of Object.values(shown.texts)) assert.ok(!content.includes('DUPLICATA'))

    const copy = await signAndIssue(
      pos,
      frReceipt(FR_CASE.copy, [], { cbPreviousReceiptReference: sale.cbReceiptReference }),
    )
    const copied = await renderings(pos, copy.path)
    assertShows(copied.texts, ['DUPLICATA', `Duplicata n° 1 de ${sale.cbReceiptReference}`])
    assert.match(copied.texts.text, /\*\*\* DUPLICATA \*\*\*/, 'the banner of a duplicate')

    const training = await signAndIssue(pos, frReceipt(FR_CASE.trainingPos, [['3.00', 10]]))
    assertShows((await renderings(pos, training.path)).texts, [
      'FORMATION - sans valeur fiscale',
      'MODE ÉCOLE',
    ])

    // A closing after sales at every French rate: its JWS outgrows a QR code, so it is answered, not printed.
    for (const rate of [13, 10, 8.5, 5.5, 2.1, 1.75, 1.05, 0.9, 0])
      await pos.signOk(frReceipt(FR_CASE.pos, [['1.00', rate]]))
    const closing = await signAndIssue(pos, frReceipt(FR_CASE.daily))
    const closingJws = closing.signed.ftSignatures.find((s: any) => BigInt(s.ftSignatureFormat) === 0x3n)
    assert.ok(closingJws.Data.length > 2331, 'longer than a QR code at level M holds')
    assert.equal(BigInt(closingJws.ftSignatureType) & 0x20_0000n, 0x20_0000n, 'flagged "do not print"')
    const closed = await renderings(pos, closing.path)
    assert.deepEqual(closed.qrPayloads, [])
    assertShows(closed.texts, [
      'Grand total perpétuel',
      '21.50 (10 documents)',
      closingJws.Data.split('.')[2].slice(0, 8),
    ])
  })
})
