/**
 * Windows-1252 code points 0x80-0x9F (the rest of 0x00-0xFF is Latin-1): printers' code page 16, and the
 * encoding some tax authorities require of their files.
 */
const HIGH: Record<string, number> = {
  '€': 0x80,
  '‚': 0x82,
  ƒ: 0x83,
  '„': 0x84,
  '…': 0x85,
  '†': 0x86,
  '‡': 0x87,
  ˆ: 0x88,
  '‰': 0x89,
  Š: 0x8a,
  '‹': 0x8b,
  Œ: 0x8c,
  Ž: 0x8e,
  '‘': 0x91,
  '’': 0x92,
  '“': 0x93,
  '”': 0x94,
  '•': 0x95,
  '–': 0x96,
  '—': 0x97,
  '˜': 0x98,
  '™': 0x99,
  š: 0x9a,
  '›': 0x9b,
  œ: 0x9c,
  ž: 0x9e,
  Ÿ: 0x9f,
}
const LOW = Object.fromEntries(Object.entries(HIGH).map(([c, b]) => [b, c])) as Record<number, string>

/** The byte of a character in Windows-1252, or undefined when it has none. */
export function cp1252Byte(character: string): number | undefined {
  const high = HIGH[character]
  if (high !== undefined) return high
  const code = character.codePointAt(0) ?? 0
  if (code < 0x80 || (code >= 0xa0 && code <= 0xff)) return code
  return undefined
}

/** Text as Windows-1252 bytes; a character the code page lacks becomes '?'. */
export function encodeCp1252(text: string): Buffer {
  const bytes: number[] = []
  for (const character of text) bytes.push(cp1252Byte(character) ?? 0x3f)
  return Buffer.from(bytes)
}

export function decodeCp1252(bytes: Uint8Array): string {
  let text = ''
  for (const byte of bytes) text += LOW[byte] ?? String.fromCharCode(byte)
  return text
}

/** Text limited to what Windows-1252 (and so the PDF standard fonts' WinAnsi encoding) can show. */
export const cp1252Safe = (text: string): string =>
  [...text].map((c) => (cp1252Byte(c) === undefined ? '?' : c)).join('')

/** Whether every character of a text has a Windows-1252 byte. */
export const isCp1252 = (text: string): boolean => [...text].every((c) => cp1252Byte(c) !== undefined)
