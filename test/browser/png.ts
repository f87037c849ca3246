import { inflateSync } from 'node:zlib'

export interface Image {
  width: number
  height: number
  /** Luminance 0-255 of the pixel. */
  luminance(x: number, y: number): number
}

/**
 * A minimal PNG reader for screenshots (8-bit RGB or RGBA, not interlaced), written from the PNG
 * specification: chunks, zlib, and the five scanline filters.
 */
export function readPng(png: Buffer): Image {
  if (png.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG')
  let offset = 8
  let width = 0
  let height = 0
  let channels = 0
  const data: Buffer[] = []
  while (offset < png.length) {
    const length = png.readUInt32BE(offset)
    const type = png.toString('latin1', offset + 4, offset + 8)
    const body = png.subarray(offset + 8, offset + 8 + length)
    if (type === 'IHDR') {
      width = body.readUInt32BE(0)
      height = body.readUInt32BE(4)
      const [depth, colorType, , , interlace] = [body[8], body[9], body[10], body[11], body[12]]
      if (depth !== 8 || interlace !== 0 || (colorType !== 2 && colorType !== 6)) {
        throw new Error(`unsupported PNG: depth ${depth}, color type ${colorType}, interlace ${interlace}`)
      }
      channels = colorType === 6 ? 4 : 3
    } else if (type === 'IDAT') data.push(body)
    offset += 12 + length
  }
  const raw = inflateSync(Buffer.concat(data))
  const stride = width * channels
  const pixels = Buffer.alloc(stride * height)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]
    for (let i = 0; i < stride; i++) {
      const x = raw[y * (stride + 1) + 1 + i] as number
      const a = i >= channels ? (pixels[y * stride + i - channels] as number) : 0
      const b = y > 0 ? (pixels[(y - 1) * stride + i] as number) : 0
      const c = y > 0 && i >= channels ? (pixels[(y - 1) * stride + i - channels] as number) : 0
      let value: number
      switch (filter) {
        case 0:
          value = x
          break
        case 1:
          value = x + a
          break
        case 2:
          value = x + b
          break
        case 3:
          value = x + Math.floor((a + b) / 2)
          break
        case 4: {
          const p = a + b - c
          const pa = Math.abs(p - a)
          const pb = Math.abs(p - b)
          const pc = Math.abs(p - c)
          value = x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)
          break
        }
        default:
          throw new Error(`bad PNG filter ${filter}`)
      }
      pixels[y * stride + i] = value & 0xff
    }
  }
  return {
    width,
    height,
    luminance: (x, y) => {
      const at = y * stride + x * channels
      return (
        0.299 * (pixels[at] as number) +
        0.587 * (pixels[at + 1] as number) +
        0.114 * (pixels[at + 2] as number)
      )
    },
  }
}

/**
 * The module matrix of a QR code in an image, found without knowing the code: the dark bounding box
 * gives the symbol, the top-left finder pattern (7 modules wide) the module size, and each module is
 * read at its centre.
 */
export function readQrModules(image: Image): boolean[][] {
  const dark = (x: number, y: number) => image.luminance(x, y) < 128
  let top = -1
  let left = image.width
  let right = -1
  let bottom = -1
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      if (!dark(x, y)) continue
      if (top < 0) top = y
      bottom = y
      left = Math.min(left, x)
      right = Math.max(right, x)
    }
  }
  if (top < 0) throw new Error('no dark pixel: no QR code in the image')
  let finder = 0
  while (dark(left + finder, top)) finder++
  const module = finder / 7
  const size = Math.round((right - left + 1) / module)
  if (Math.abs((bottom - top + 1) / module - size) > 0.5) throw new Error('the code is not square')
  const rows: boolean[][] = []
  for (let r = 0; r < size; r++) {
    const row: boolean[] = []
    for (let c = 0; c < size; c++) {
      row.push(dark(Math.floor(left + (c + 0.5) * module), Math.floor(top + (r + 0.5) * module)))
    }
    rows.push(row)
  }
  return rows
}

/** A rectangle of an image as an image of its own. */
export const crop = (image: Image, left: number, top: number, width: number, height: number): Image => ({
  width,
  height,
  luminance: (x, y) => image.luminance(left + x, top + y),
})

/**
 * Finds a QR code on a page with other content (text, rules): the top-left finder pattern is the first
 * dark-light-dark-light-dark run of proportions 1:1:3:1:1 from the top; the symbol ends where the row
 * through the finders' centres meets the quiet zone (4 light modules). Returns the symbol's square.
 */
export function locateQr(image: Image): Image {
  const dark = (x: number, y: number) => image.luminance(x, y) < 128
  const near = (value: number, expected: number) => Math.abs(value - expected) <= expected * 0.5
  for (let y = 0; y < image.height; y++) {
    const runs: Array<[boolean, number, number]> = []
    for (let x = 0; x < image.width; x++) {
      const d = dark(x, y)
      const last = runs[runs.length - 1]
      if (last && last[0] === d) last[2]++
      else runs.push([d, x, 1])
    }
    for (let i = 0; i + 4 < runs.length; i++) {
      const [a, b, c, d, e] = runs.slice(i, i + 5) as Array<[boolean, number, number]>
      if (!a?.[0] || !b || !c || !d || !e) continue
      const unit = (a[2] + b[2] + c[2] + d[2] + e[2]) / 7
      if (unit < 1.5 || ![a[2], b[2], d[2], e[2]].every((n) => near(n, unit)) || !near(c[2], 3 * unit))
        continue
      // The same proportions across, through the centre: a finder pattern, not a letter.
      const x = c[1] + Math.floor(c[2] / 2)
      const run = (from: number, step: number, wanted: boolean) => {
        let n = 0
        for (let at = from; at >= 0 && at < image.height && dark(x, at) === wanted; at += step) n++
        return n
      }
      const up = run(y, -1, true)
      const down = run(y, 1, true)
      const lightUp = run(y - up, -1, false)
      const lightDown = run(y + down, 1, false)
      const ringUp = run(y - up - lightUp, -1, true)
      const ringDown = run(y + down + lightDown, 1, true)
      const ring = [lightUp, lightDown, ringUp, ringDown]
      if (!near(up + down - 1, 3 * unit) || !ring.every((n) => near(n, unit))) continue
      const left = a[1]
      let top = y
      while (top > 0 && dark(left + Math.floor(unit / 2), top - 1)) top--
      // The top-right finder crosses the same row: the last run of the same proportions on it.
      let right = e[1] + e[2] - 1
      for (let j = i + 5; j + 4 < runs.length; j++) {
        const [p, q, r, s2, t] = runs.slice(j, j + 5) as Array<[boolean, number, number]>
        if (!p?.[0] || !q || !r || !s2 || !t) continue
        if ([p[2], q[2], s2[2], t[2]].every((n) => near(n, unit)) && near(r[2], 3 * unit))
          right = t[1] + t[2] - 1
      }
      const side = right - left + 1
      return crop(image, Math.max(0, left - 1), Math.max(0, top - 1), side + 2, side + 2)
    }
  }
  throw new Error('no QR finder pattern found')
}
