/**
 * CRC-8 of the TicketBAI identifier and QR code: polynomial 0x07 (x^8+x^2+x+1), initial value 0, no
 * reflection, no final XOR (CRC-8/SMBUS), over the ASCII bytes, written as 3 decimal digits.
 */
const TABLE = (() => {
  const table = new Uint8Array(256)
  for (let i = 0; i < 256; i++) {
    let crc = i
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff
    table[i] = crc
  }
  return table
})()

export function crc8(text: string): number {
  let crc = 0
  for (const byte of Buffer.from(text, 'utf8')) crc = TABLE[crc ^ byte] as number
  return crc
}

export const crc8Text = (text: string) => String(crc8(text)).padStart(3, '0')
