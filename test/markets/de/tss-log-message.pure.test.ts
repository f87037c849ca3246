import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { generateKeyPairSync, sign, verify } from 'node:crypto'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { integer, readTlvs } from '../../../src/markets/de/tss/der.ts'
import { type LogBody, logMessage, signedPart } from '../../../src/markets/de/tss/log-message.ts'

const VECTOR = '/work/shared/vectors/de/bsi-tse-simulator-export.tar'
const member = (name: string) => execFileSync('tar', ['-xOf', VECTOR, name], { maxBuffer: 1 << 20 })

/** The signed part of a real log message: the outer SEQUENCE's content without its last TLV. */
function realSignedPart(der: Buffer) {
  const [outer] = readTlvs(der)
  const fields = readTlvs(outer?.content as Buffer)
  const last = fields[fields.length - 1] as { start: number }
  return { signed: (outer?.content as Buffer).subarray(0, last.start), fields }
}

const SIM_SERIAL = Buffer.from('613E0EAFA452986B1B682D52AC03DA8AAE1770EE77B1E52223095AE27F448519', 'hex')
const SIM_ALGORITHM = '0.4.0.127.0.7.1.1.4.4.8'

describe('TR-03151 log messages byte for byte against the BSI TSE simulator export', () => {
  it('StartTransaction and FinishTransaction', () => {
    const start = realSignedPart(member('Unixt_1795289451_Sig-11_Log-Tra_No-4_Start_Client-POS-1.log'))
    const body: LogBody = {
      kind: 'transaction',
      data: {
        operationType: 'StartTransaction',
        clientId: 'POS-1',
        processData: Buffer.alloc(0),
        processType: '',
        additionalExternalData: Buffer.alloc(0),
        transactionNumber: 4,
      },
    }
    const header = {
      serialNumber: SIM_SERIAL,
      algorithmOid: SIM_ALGORITHM,
      signatureCounter: 11,
      logTime: 1795289451,
    }
    assert.equal(signedPart(body, header).toString('hex'), start.signed.toString('hex'))

    const finish = realSignedPart(member('Unixt_1795289451_Sig-10_Log-Tra_No-3_Finish_Client-POS-1.log'))
    const finishBody: LogBody = {
      kind: 'transaction',
      data: {
        operationType: 'FinishTransaction',
        clientId: 'POS-1',
        processData: Buffer.from('Beleg^10.00_0.00_0.00_0.00_0.00^10.00:Bar'),
        processType: 'Kassenbeleg-V1',
        additionalExternalData: Buffer.alloc(0),
        transactionNumber: 3,
      },
    }
    assert.equal(
      signedPart(finishBody, { ...header, signatureCounter: 10 }).toString('hex'),
      finish.signed.toString('hex'),
    )
  })

  it('system logs: AuthenticateUser and Initialize with context-tagged systemOperationData', () => {
    const auth = realSignedPart(member('Unixt_1795289450_Sig-1_Log-Sys_AuthenticateUser.log'))
    const header = {
      serialNumber: SIM_SERIAL,
      algorithmOid: SIM_ALGORITHM,
      signatureCounter: 1,
      logTime: 1795289450,
    }
    const body: LogBody = {
      kind: 'system',
      data: {
        operationType: 'AuthenticateUser',
        fields: [
          { tag: 1, text: 'root' },
          { tag: 2, int: 0 },
          { tag: 3, bool: true },
        ],
      },
    }
    assert.equal(signedPart(body, header).toString('hex'), auth.signed.toString('hex'))
    const init = realSignedPart(member('Unixt_1795289450_Sig-2_Log-Sys_Initialize.log'))
    const initBody: LogBody = {
      kind: 'system',
      data: { operationType: 'Initialize', fields: [{ tag: 1, text: 'research-sim' }] },
    }
    assert.equal(
      signedPart(initBody, { ...header, signatureCounter: 2 }).toString('hex'),
      init.signed.toString('hex'),
    )
  })

  it('property: every message parses back, and its r||s signature verifies over the signed part', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    fc.assert(
      fc.property(
        fc.nat({ max: 2 ** 40 }),
        fc.nat({ max: 2 ** 33 }),
        fc.string({ maxLength: 300 }),
        fc.integer({ min: 1, max: 2 ** 31 }),
        (counter, time, data, number) => {
          const signed = signedPart(
            {
              kind: 'transaction',
              data: {
                operationType: 'UpdateTransaction',
                clientId: 'C',
                processData: Buffer.from(data),
                processType: 'Bestellung-V1',
                transactionNumber: number,
              },
            },
            {
              serialNumber: Buffer.alloc(32, 1),
              algorithmOid: '0.4.0.127.0.7.1.1.4.1.3',
              signatureCounter: counter,
              logTime: time,
            },
          )
          const signature = sign('sha256', signed, { key: privateKey, dsaEncoding: 'ieee-p1363' })
          const message = logMessage(signed, signature)
          const { signed: reread, fields } = realSignedPart(message)
          assert.ok(reread.equals(signed))
          assert.equal(fields[fields.length - 1]?.content.length, 64)
          assert.ok(verify('sha256', reread, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature))
          assert.ok(
            (fields[fields.length - 3] as { content: Buffer }).content.equals(integer(counter).subarray(2)),
          )
        },
      ),
      { numRuns: 200 },
    )
  })
})
