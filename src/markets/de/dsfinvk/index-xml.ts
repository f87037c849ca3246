import type { Column, TableSpec } from './tables.ts'

const escape = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')

/** The column's data type and, for text, its MaxLength (gdpdu-01-09-2004.dtd puts it after the type). */
function typeOf(column: Column): string {
  switch (column.type) {
    case 'int':
      return '<Numeric/>'
    case 'decimal':
      return `<Numeric><Accuracy>${column.accuracy}</Accuracy></Numeric>`
    default:
      return `<AlphaNumeric/><MaxLength>${column.maxLength}</MaxLength>`
  }
}

/**
 * index.xml of a DSFinV-K export: the GDPdU description (gdpdu-01-09-2004.dtd) of every CSV file, its
 * encoding, separators and columns, so that the auditors' software (IDEA) can read the files.
 */
export function indexXml(tables: TableSpec[], validity: { from: string; to: string }): string {
  const day = (iso: string) => `${iso.slice(8, 10)}.${iso.slice(5, 7)}.${iso.slice(0, 4)}`
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE DataSet SYSTEM "gdpdu-01-09-2004.dtd">',
    '<DataSet>',
    '  <Version>1.0</Version>',
    '  <DataSupplier>',
    '    <Name>fiscalbox</Name>',
    '    <Location>fiscalbox</Location>',
    '    <Comment>DSFinV-K 2.3</Comment>',
    '  </DataSupplier>',
    '  <Media>',
    '    <Name>DSFinV-K</Name>',
  ]
  for (const table of tables) {
    out.push(
      '    <Table>',
      `      <URL>${escape(table.file)}</URL>`,
      `      <Name>${escape(table.name)}</Name>`,
      `      <Description>${escape(table.description)}</Description>`,
      `      <Validity><Range><From>${day(validity.from)}</From><To>${day(validity.to)}</To></Range><Format>DD.MM.YYYY</Format></Validity>`,
      '      <UTF8/>',
      '      <DecimalSymbol>,</DecimalSymbol>',
      '      <DigitGroupingSymbol>.</DigitGroupingSymbol>',
      '      <Range><From>2</From></Range>',
      '      <VariableLength>',
      '        <ColumnDelimiter>;</ColumnDelimiter>',
      '        <RecordDelimiter>&#13;&#10;</RecordDelimiter>',
      '        <TextEncapsulator>"</TextEncapsulator>',
    )
    table.columns.forEach((column, i) => {
      const element = i < table.keyColumns ? 'VariablePrimaryKey' : 'VariableColumn'
      out.push(`        <${element}><Name>${escape(column.name)}</Name>${typeOf(column)}</${element}>`)
    })
    out.push('      </VariableLength>', '    </Table>')
  }
  out.push('  </Media>', '</DataSet>', '')
  return out.join('\n')
}
