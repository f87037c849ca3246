import QRCode from 'qrcode'

/** Error correction M: the level receipt QR codes of the markets use (RKSV, DSFinV-K, VeriFactu). */
export const QR_ERROR_CORRECTION = 'M'

/** A QR code's module matrix: size x size, row by row, true = dark. */
export interface QrMatrix {
  size: number
  dark: (row: number, column: number) => boolean
}

export function qrMatrix(payload: string): QrMatrix {
  const { modules } = QRCode.create(payload, { errorCorrectionLevel: QR_ERROR_CORRECTION })
  return { size: modules.size, dark: (row, column) => modules.get(row, column) === 1 }
}

/** Quiet zone the QR standard asks for around the symbol, in modules. */
export const QUIET_ZONE = 4

/** Each row's runs of dark modules as [row, first column, length]: one shape per run instead of per module. */
export function darkRuns(matrix: QrMatrix): Array<[number, number, number]> {
  const runs: Array<[number, number, number]> = []
  for (let row = 0; row < matrix.size; row++) {
    for (let column = 0; column < matrix.size; ) {
      if (!matrix.dark(row, column)) {
        column++
        continue
      }
      const start = column
      while (column < matrix.size && matrix.dark(row, column)) column++
      runs.push([row, start, column - start])
    }
  }
  return runs
}

/**
 * An SVG of the QR code: one path of module runs on a white background with the quiet zone, drawn at
 * `scale` CSS pixels per module so that screens and printers render whole pixels.
 */
export function qrSvg(matrix: QrMatrix, scale: number): string {
  const side = matrix.size + 2 * QUIET_ZONE
  let path = ''
  for (const [row, column, length] of darkRuns(matrix)) {
    path += `M${column + QUIET_ZONE} ${row + QUIET_ZONE}h${length}v1h-${length}z`
  }
  const pixels = side * scale
  return `<svg xmlns="http://www.w3.org/2000/svg" class="qr" width="${pixels}" height="${pixels}" viewBox="0 0 ${side} ${side}" shape-rendering="crispEdges" role="img"><rect width="${side}" height="${side}" fill="#fff"/><path d="${path}" fill="#000"/></svg>`
}
