import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  DeviceNumberError,
  decodeLastDocument,
  decodePrinterStatus,
  describeFailure,
  ELEMENTS,
  type ElementName,
  encodeLastDocument,
  type FpmateCommand,
  FpmateRequestError,
  FpmateResponseError,
  formatAmount,
  formatQuantity,
  formatReferenceLine,
  LAST_DOCUMENT_LENGTH,
  type LastDocument,
  parseAmount,
  parseQuantity,
  parseReferenceLine,
  parseRequest,
  parseResponse,
  ROOTS,
  type RootName,
  readDirectIoData,
  readFiscalReceiptAnswer,
  readZReportAnswer,
  ReferenceLineError,
  referenceMessage,
  serializeRequest,
  serializeResponse,
  type Step,
} from '../../../src/markets/it/fpmate/index.ts'

describe('fpmate amounts and quantities', () => {
  it('writes cents with a decimal comma and no thousands separator', () => {
    assert.equal(formatAmount(1250), '12,50')
    assert.equal(formatAmount(5), '0,05')
    assert.equal(formatAmount(123456789), '1234567,89')
    assert.equal(formatAmount(-1250), '-12,50')
    assert.equal(formatQuantity(1000), '1,000')
    assert.equal(formatQuantity(1500), '1,500')
  })

  it('reads a comma or a dot, and pads missing decimals', () => {
    assert.equal(parseAmount('12,50'), 1250)
    assert.equal(parseAmount('12.5'), 1250)
    assert.equal(parseAmount('12'), 1200)
    assert.equal(parseAmount('210,56'), 21056)
    assert.equal(parseAmount('12,500'), 1250)
    assert.equal(parseQuantity('1,5'), 1500)
    assert.equal(parseQuantity('0,001'), 1)
  })

  it('refuses thousands separators, extra decimals and words instead of rounding', () => {
    for (const text of ['1.234,56', '12,505', 'abc', '', '1 000', '12,5e2'])
      assert.throws(() => parseAmount(text), DeviceNumberError, text)
    assert.throws(() => parseQuantity('1,0005'), /more than 3 decimal places/)
    assert.throws(() => formatAmount(0.5), /safe integer/)
  })

  it('round-trips every safe integer of cents and thousandths exactly', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        assert.equal(parseAmount(formatAmount(n)), n)
        assert.equal(parseQuantity(formatQuantity(n)), n)
      }),
    )
  })
})

/** A step of any element with arbitrary values for its required fields and some of its optional ones. */
function arbitraryStep(kind: ElementName): fc.Arbitrary<Step> {
  const fields: Record<string, fc.Arbitrary<string | number>> = {}
  const optional: string[] = []
  for (const [name, spec] of Object.entries(ELEMENTS[kind])) {
    fields[name] =
      spec.type === 'text'
        ? fc.string({ unit: 'grapheme', maxLength: 30 })
        : fc.integer({ min: 0, max: 10 ** 9 })
    if (!spec.required) optional.push(name)
  }
  return fc
    .record(fields, { requiredKeys: Object.keys(fields).filter((name) => !optional.includes(name)) })
    .map((values) => ({ kind, ...values }) as unknown as Step)
}

const arbitraryCommand: fc.Arbitrary<FpmateCommand> = fc
  .constantFrom(...(Object.keys(ROOTS) as RootName[]))
  .chain((root) =>
    fc
      .array(fc.constantFrom(...ROOTS[root]).chain(arbitraryStep), { maxLength: 12 })
      .map((steps) => ({ root, steps }) as FpmateCommand),
  )

describe('fpmate requests', () => {
  const sale: FpmateCommand = {
    root: 'printerFiscalReceipt',
    steps: [
      { kind: 'beginFiscalReceipt', operator: '1' },
      {
        kind: 'printRecItem',
        operator: '1',
        description: 'Caffè & "brioche" <2>',
        quantity: 2000,
        unitPrice: 125,
        department: 2,
      },
      { kind: 'printRecItemAdjustment', adjustmentType: 3, description: 'sconto', amount: 50, department: 2 },
      { kind: 'printRecLotteryID', code: 'ABCD1234' },
      { kind: 'printRecTotal', description: 'CONTANTI', payment: 500, paymentType: 0, index: 0 },
      { kind: 'directIO', command: '1060', data: '0112345678903' },
      { kind: 'endFiscalReceipt', operator: '1' },
    ],
  }

  it('writes one root command in a SOAP 1.1 envelope, amounts with a comma', () => {
    const xml = serializeRequest(sale)
    assert.match(
      xml,
      /<s:Envelope xmlns:s="http:\/\/schemas\.xmlsoap\.org\/soap\/envelope\/"><s:Body><printerFiscalReceipt>/,
    )
    assert.match(
      xml,
      /<printRecItem operator="1" description="Caffè &amp; &quot;brioche&quot; &lt;2>" quantity="2,000" unitPrice="1,25" department="2">/,
    )
    assert.match(xml, /<printRecTotal description="CONTANTI" payment="5,00" paymentType="0" index="0">/)
    assert.deepEqual(parseRequest(xml), sale)
  })

  it('round-trips any command through its XML', () => {
    fc.assert(
      fc.property(arbitraryCommand, (command) => {
        assert.deepEqual(parseRequest(serializeRequest(command)), command)
      }),
    )
  })

  it('reads a bare root element and an envelope with another prefix, dots in amounts too', () => {
    const bare = '<printerCommand><queryPrinterStatus operator="1" statusType="1" /></printerCommand>'
    assert.deepEqual(parseRequest(bare), {
      root: 'printerCommand',
      steps: [{ kind: 'queryPrinterStatus', operator: '1', statusType: 1 }],
    })
    const wrapped =
      '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>' +
      '<printerFiscalReceipt><printRecTotal payment="3.5" paymentType="2"/></printerFiscalReceipt>' +
      '</soapenv:Body></soapenv:Envelope>'
    assert.deepEqual(parseRequest(wrapped).steps, [{ kind: 'printRecTotal', payment: 350, paymentType: 2 }])
  })

  it('refuses what the device refuses, with its code and status', () => {
    const refused = (xml: string, code: string, status: number, message: RegExp) =>
      assert.throws(
        () => parseRequest(xml),
        (error: unknown) =>
          error instanceof FpmateRequestError &&
          error.code === code &&
          error.status === status &&
          message.test(error.message),
      )
    refused('  ', 'NO_DATA', 0, /empty/)
    refused('<printerCommand>', 'PARSER_ERROR', 0, /unterminated/)
    refused('<printerFoo/>', 'Non valid XML command', 0, /printerFoo/)
    refused(
      '<printerCommand><printZReport/></printerCommand>',
      'Non valid XML command',
      0,
      /printZReport.*printerCommand/,
    )
    refused(
      '<printerFiscalReceipt><printRecItem description="x" quantity="1" department="1"/></printerFiscalReceipt>',
      'PRINTER ERROR',
      13,
      /printRecItem.*unitPrice/,
    )
    refused(
      '<printerFiscalReceipt><printRecTotal payment="1.000,00" paymentType="0"/></printerFiscalReceipt>',
      'PRINTER ERROR',
      13,
      /payment/,
    )
    refused(
      '<printerFiscalReceipt><printRecTotal payment="1" paymentType="cash"/></printerFiscalReceipt>',
      'PRINTER ERROR',
      13,
      /paymentType/,
    )
  })
})

describe('fpmate responses', () => {
  const saleAnswer =
    '<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>' +
    '<response success="true" code="" status="2"><addInfo>' +
    '<elementList>lastCommand,printerStatus,fiscalReceiptNumber,fiscalReceiptAmount,fiscalReceiptDate,fiscalReceiptTime,zRepNumber,serialNumber</elementList>' +
    '<lastCommand>74</lastCommand><printerStatus>20010</printerStatus><fiscalReceiptNumber>7</fiscalReceiptNumber>' +
    '<fiscalReceiptAmount>12,50</fiscalReceiptAmount><fiscalReceiptDate>3/2/2025</fiscalReceiptDate>' +
    '<fiscalReceiptTime>9:05</fiscalReceiptTime><zRepNumber>42</zRepNumber><serialNumber>99IEZ000001</serialNumber>' +
    '</addInfo></response></s:Body></s:Envelope>'

  it("reads a sale's answer: number, Z, amount in cents, serial, the moment", () => {
    const response = parseResponse(saleAnswer)
    assert.equal(response.success, true)
    assert.equal(response.status, 2)
    assert.deepEqual(readFiscalReceiptAnswer(response), {
      documentNumber: 7,
      zNumber: 42,
      amount: 1250,
      serialNumber: '99IEZ000001',
      printerStatus: '20010',
      moment: '2025-02-03T09:05:00',
    })
  })

  it('prefers receiptISODateTime (with seconds) when the firmware sends it', () => {
    const response = parseResponse(saleAnswer)
    response.addInfo = { ...response.addInfo, receiptISODateTime: '20250203T090512' }
    assert.equal(
      readFiscalReceiptAnswer(parseResponse(serializeResponse(response))).moment,
      '2025-02-03T09:05:12',
    )
  })

  it('round-trips answers, addInfo in its elementList order', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.string({ maxLength: 20 }),
        fc.integer({ min: -60, max: 60 }),
        fc.option(
          fc.dictionary(
            fc.constantFrom('printerStatus', 'zRepNumber', 'dailyAmount', 'responseData'),
            fc.string(),
            { noNullPrototype: true },
          ),
          {
            nil: undefined,
          },
        ),
        (success, code, status, addInfo) => {
          const response = { success, code, status, ...(addInfo ? { addInfo } : {}) }
          assert.deepEqual(parseResponse(serializeResponse(response)), response)
        },
      ),
    )
  })

  it('reads failures with and without addInfo, and says what they mean', () => {
    const transport = parseResponse('<response success="false" code="LAN_TIME_OUT" status="0"/>')
    assert.deepEqual(transport, { success: false, code: 'LAN_TIME_OUT', status: 0 })
    const refused = parseResponse(
      serializeResponse({
        success: false,
        code: 'PRINTER ERROR',
        status: 39,
        addInfo: { lastCommand: '80', printerStatus: '00110' },
      }),
    )
    assert.equal(describeFailure(refused), 'PRINTER ERROR 39: document already voided (printer status 00110)')
    assert.equal(describeFailure(transport), 'LAN_TIME_OUT 0')
  })

  it('reads the Z report and directIO answers, and names a missing field', () => {
    const z = {
      success: true,
      code: '',
      status: 2,
      addInfo: { printerStatus: '00110', zRepNumber: '42', dailyAmount: '1234,56' },
    }
    assert.deepEqual(readZReportAnswer(z), { zNumber: 42, dailyAmount: 123456, printerStatus: '00110' })
    assert.equal(readDirectIoData({ ...z, addInfo: { responseData: '01abc' } }), '01abc')
    assert.throws(() => readZReportAnswer({ ...z, addInfo: {} }), /addInfo\/zRepNumber/)
  })

  it('refuses what is not an fpmate answer', () => {
    for (const body of [
      '',
      '<html>busy</html>',
      '<response success="yes"/>',
      '<response success="true" status="x"/>',
    ])
      assert.throws(() => parseResponse(body), FpmateResponseError, body)
  })

  it('decodes the five-character printer status', () => {
    assert.deepEqual(decodePrinterStatus('20110'), {
      printer: 'paper near end',
      journal: 'ok',
      drawer: 'closed',
      document: 'none open',
      mode: 'registration',
    })
    assert.equal(decodePrinterStatus('3').journal, 'unknown ()')
  })
})

describe('directIO 1387: the last emitted document', () => {
  const document: LastDocument = {
    amount: 1250,
    vat: 225,
    moment: '2025-02-03T09:05:12',
    zNumber: 42,
    documentNumber: 7,
    serialNumber: '99IEZ000001',
    lotteryCode: 'ABCD1234',
    fiscal: true,
    uuid: '',
    pdfName: '',
  }

  it('is fixed width at the documented offsets', () => {
    const record = encodeLastDocument(document)
    assert.equal(record.length, LAST_DOCUMENT_LENGTH)
    assert.equal(
      record.slice(0, 61),
      '01' +
        '000001250' +
        '000000225' +
        '030225' +
        '090512' +
        '0042' +
        '0007' +
        '99IEZ000001' +
        '1' +
        'ABCD1234' +
        '1',
    )
    assert.equal(record.slice(61).trim(), '')
    assert.deepEqual(decodeLastDocument(record), document)
  })

  it('reads a record without the e-receipt tail, and one without a lottery code', () => {
    const plain: LastDocument = { ...document }
    delete plain.lotteryCode
    const record = encodeLastDocument({ ...plain, fiscal: false })
    assert.deepEqual(decodeLastDocument(record.slice(0, 61)), { ...plain, fiscal: false })
  })

  it('round-trips any document', () => {
    const word = (max: number) => fc.stringMatching(new RegExp(`^[A-Z0-9]{1,${max}}$`))
    fc.assert(
      fc.property(
        fc.record({
          amount: fc.integer({ min: 0, max: 999_999_999 }),
          vat: fc.integer({ min: 0, max: 999_999_999 }),
          moment: fc
            .date({
              min: new Date('2000-01-01T00:00:00Z'),
              max: new Date('2099-12-31T23:59:59Z'),
              noInvalidDate: true,
            })
            .map((d) => d.toISOString().slice(0, 19)),
          zNumber: fc.integer({ min: 0, max: 9999 }),
          documentNumber: fc.integer({ min: 0, max: 9999 }),
          serialNumber: word(11),
          fiscal: fc.boolean(),
          uuid: fc.oneof(fc.constant(''), word(40)),
          pdfName: fc.oneof(fc.constant(''), word(60)),
        }),
        fc.option(word(8), { nil: undefined }),
        (fields, lotteryCode) => {
          const value: LastDocument = { ...fields, ...(lotteryCode ? { lotteryCode } : {}) }
          assert.deepEqual(decodeLastDocument(encodeLastDocument(value)), value)
        },
      ),
    )
  })

  it('refuses values that do not fit and records that are cut short or garbled', () => {
    assert.throws(() => encodeLastDocument({ ...document, zNumber: 10_000 }), /zNumber.*4 digits/)
    assert.throws(() => encodeLastDocument({ ...document, serialNumber: '99IEZ0000012' }), /serialNumber/)
    assert.throws(() => encodeLastDocument({ ...document, moment: '1999-12-31T23:00:00' }), /moment/)
    const record = encodeLastDocument(document)
    assert.throws(() => decodeLastDocument(record.slice(0, 60)), /at least 61/)
    assert.throws(() => decodeLastDocument(`${record.slice(0, 32)}00x2${record.slice(36)}`), /zNumber at 32/)
    assert.throws(() => decodeLastDocument(`${record.slice(0, 60)}X${record.slice(61)}`), /fiscal flag/)
  })
})

describe('the REFUND/VOID reference line', () => {
  it('writes and reads the original by Z, number, date and serial', () => {
    const reference = {
      kind: 'REFUND',
      zNumber: 279,
      documentNumber: 10,
      date: '2021-01-08',
      serialNumber: '99IEZ000001',
    } as const
    assert.equal(formatReferenceLine(reference), 'REFUND 0279 0010 08012021 99IEZ000001')
    assert.deepEqual(parseReferenceLine('REFUND 0279 0010 08012021 99IEZ000001'), reference)
    assert.deepEqual(referenceMessage({ ...reference, kind: 'VOID' }), {
      kind: 'printRecMessage',
      operator: '1',
      messageType: 4,
      message: 'VOID 0279 0010 08012021 99IEZ000001',
    })
    assert.deepEqual(parseReferenceLine('REFUND 0000 0000 31122025 ND'), {
      kind: 'REFUND',
      zNumber: 0,
      documentNumber: 0,
      date: '2025-12-31',
      serialNumber: 'ND',
    })
  })

  it('is not found in other messages, and bad values are refused', () => {
    for (const message of ['Grazie e arrivederci', 'REFUND 279 10 08012021 X', 'VOID 0001 0001 2021-01-08 X'])
      assert.equal(parseReferenceLine(message), undefined, message)
    const base = {
      kind: 'VOID',
      zNumber: 1,
      documentNumber: 1,
      date: '2021-01-08',
      serialNumber: 'X',
    } as const
    assert.throws(() => formatReferenceLine({ ...base, zNumber: 10_000 }), ReferenceLineError)
    assert.throws(() => formatReferenceLine({ ...base, date: '08/01/2021' }), /yyyy-MM-dd/)
    assert.throws(() => formatReferenceLine({ ...base, serialNumber: 'A B' }), /serialNumber/)
  })
})
