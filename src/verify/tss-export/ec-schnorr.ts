import { createHash } from 'node:crypto'
import type { CurveParameters } from './curves.ts'

/**
 * EC-Schnorr signature verification (ECSDSA, BSI TR-03111 4.2.3), which BSI-certified TSEs and the BSI
 * simulator may use and node:crypto does not offer. With signature r||s, public point P and message M:
 *   Q = s*G - r*P;  v = OS2I(leftmost tau bits of H(FE2OS(xQ) || FE2OS(yQ) || M)), tau = bit length of n;
 *   valid iff Q is not the point at infinity and v = r (with 1 <= r < 2^tau and 1 <= s < n).
 * Arithmetic is plain bigint in Jacobian coordinates. Every log message of an export is checked against
 * the same key, so both bases get a table of window multiples once and a verification is then about
 * 2 * bits/4 additions and no doubling.
 */

interface Affine {
  x: bigint
  y: bigint
}
interface Jacobian {
  x: bigint
  y: bigint
  z: bigint
}
const INFINITY: Jacobian = { x: 1n, y: 1n, z: 0n }
const WINDOW = 4
const DIGITS = 1 << WINDOW

class Field {
  constructor(
    readonly p: bigint,
    readonly a: bigint,
  ) {}

  mod(x: bigint): bigint {
    const r = x % this.p
    return r < 0n ? r + this.p : r
  }

  inverse(x: bigint): bigint {
    let [a, b] = [this.mod(x), this.p]
    let [u, v] = [1n, 0n]
    while (b !== 0n) {
      const q = a / b
      ;[a, b] = [b, a - q * b]
      ;[u, v] = [v, u - q * v]
    }
    if (a !== 1n) throw new Error('not invertible')
    return this.mod(u)
  }

  double(P: Jacobian): Jacobian {
    if (P.z === 0n || P.y === 0n) return INFINITY
    const xx = this.mod(P.x * P.x)
    const yy = this.mod(P.y * P.y)
    const zz = this.mod(P.z * P.z)
    const s = this.mod(4n * P.x * yy)
    const m = this.mod(3n * xx + this.a * this.mod(zz * zz))
    const x = this.mod(m * m - 2n * s)
    const y = this.mod(m * (s - x) - 8n * this.mod(yy * yy))
    const z = this.mod(2n * P.y * P.z)
    return { x, y, z }
  }

  add(P: Jacobian, Q: Jacobian): Jacobian {
    if (P.z === 0n) return Q
    if (Q.z === 0n) return P
    const z1z1 = this.mod(P.z * P.z)
    const z2z2 = this.mod(Q.z * Q.z)
    const u1 = this.mod(P.x * z2z2)
    const u2 = this.mod(Q.x * z1z1)
    const s1 = this.mod(P.y * Q.z * z2z2)
    const s2 = this.mod(Q.y * P.z * z1z1)
    return this.#finishAdd(P, u1, u2, s1, s2, this.mod(P.z * Q.z))
  }

  /** P + Q where Q is affine (z = 1): fewer multiplications, used with the precomputed tables. */
  addAffine(P: Jacobian, Q: Affine): Jacobian {
    if (P.z === 0n) return { x: Q.x, y: Q.y, z: 1n }
    const z1z1 = this.mod(P.z * P.z)
    const u2 = this.mod(Q.x * z1z1)
    const s2 = this.mod(Q.y * P.z * z1z1)
    return this.#finishAdd(P, P.x, u2, P.y, s2, P.z)
  }

  #finishAdd(P: Jacobian, u1: bigint, u2: bigint, s1: bigint, s2: bigint, z1z2: bigint): Jacobian {
    const h = this.mod(u2 - u1)
    const r = this.mod(s2 - s1)
    if (h === 0n) return r === 0n ? this.double(P) : INFINITY
    const hh = this.mod(h * h)
    const hhh = this.mod(h * hh)
    const v = this.mod(u1 * hh)
    const x = this.mod(r * r - hhh - 2n * v)
    const y = this.mod(r * (v - x) - s1 * hhh)
    return { x, y, z: this.mod(z1z2 * h) }
  }

  toAffine(P: Jacobian): Affine | undefined {
    if (P.z === 0n) return undefined
    const zi = this.inverse(P.z)
    const zi2 = this.mod(zi * zi)
    return { x: this.mod(P.x * zi2), y: this.mod(P.y * zi2 * zi) }
  }

  /** Affine forms of many points with a single inversion (Montgomery's trick). No point may be infinity. */
  allToAffine(points: Jacobian[]): Affine[] {
    const prefix: bigint[] = []
    let acc = 1n
    for (const P of points) {
      prefix.push(acc)
      acc = this.mod(acc * P.z)
    }
    let inv = this.inverse(acc)
    const out: Affine[] = new Array(points.length)
    for (let i = points.length - 1; i >= 0; i--) {
      const P = points[i] as Jacobian
      const zi = this.mod(inv * (prefix[i] as bigint))
      inv = this.mod(inv * P.z)
      const zi2 = this.mod(zi * zi)
      out[i] = { x: this.mod(P.x * zi2), y: this.mod(P.y * zi2 * zi) }
    }
    return out
  }
}

/** table[w][d - 1] = d * 16^w * B, for fixed-base multiplication by windows of 4 bits. */
class FixedBase {
  readonly #table: Affine[][] = []

  constructor(
    private readonly field: Field,
    base: Affine,
    bits: number,
  ) {
    const windows = Math.ceil(bits / WINDOW)
    let start: Jacobian = { x: base.x, y: base.y, z: 1n }
    const all: Jacobian[] = []
    for (let w = 0; w < windows; w++) {
      let multiple = start
      for (let d = 1; d < DIGITS; d++) {
        all.push(multiple)
        multiple = field.add(multiple, start)
      }
      start = multiple // 16 * previous start
    }
    if (all.some((P) => P.z === 0n)) throw new Error('base point of small order')
    const affine = field.allToAffine(all)
    for (let w = 0; w < windows; w++) this.#table.push(affine.slice(w * (DIGITS - 1), (w + 1) * (DIGITS - 1)))
  }

  /** Adds k * B to acc (k >= 0 and below 2^bits). */
  addMultiple(acc: Jacobian, k: bigint): Jacobian {
    let result = acc
    for (let w = 0; k > 0n; w++, k >>= BigInt(WINDOW)) {
      const digit = Number(k & BigInt(DIGITS - 1))
      if (digit !== 0)
        result = this.field.addAffine(result, (this.#table[w] as Affine[])[digit - 1] as Affine)
    }
    return result
  }
}

const generators = new Map<string, FixedBase>()

/** Verifies ECSDSA signatures of one public key; build once per key, call verify per message. */
export class EcSchnorrVerifier {
  readonly #curve: CurveParameters
  readonly #field: Field
  readonly #g: FixedBase
  readonly #p: FixedBase
  readonly #tau: number
  readonly #fieldBytes: number

  /** publicPoint: uncompressed 04||X||Y. */
  constructor(curve: CurveParameters, publicPoint: Uint8Array) {
    this.#curve = curve
    this.#field = new Field(curve.p, curve.a)
    this.#tau = curve.n.toString(2).length
    this.#fieldBytes = Math.ceil(curve.p.toString(2).length / 8)
    const half = this.#fieldBytes
    if (publicPoint.length !== 1 + 2 * half || publicPoint[0] !== 4)
      throw new Error('not an uncompressed point')
    const hex = Buffer.from(publicPoint).toString('hex')
    const P = { x: BigInt(`0x${hex.slice(2, 2 + 2 * half)}`), y: BigInt(`0x${hex.slice(2 + 2 * half)}`) }
    const f = this.#field
    if (f.mod(P.y * P.y) !== f.mod(P.x * P.x * P.x + curve.a * P.x + curve.b))
      throw new Error('point not on curve')
    let g = generators.get(curve.name)
    if (!g) {
      g = new FixedBase(f, { x: curve.gx, y: curve.gy }, this.#tau)
      generators.set(curve.name, g)
    }
    this.#g = g
    this.#p = new FixedBase(f, P, this.#tau)
  }

  /** hash: a node:crypto digest name (sha256, sha384, sha512, sha3-256, sha3-384, sha3-512). */
  verify(hash: string, message: Uint8Array, signature: Uint8Array): boolean {
    if (signature.length % 2 !== 0) return false
    const half = signature.length / 2
    const r = BigInt(`0x${Buffer.from(signature.subarray(0, half)).toString('hex') || '0'}`)
    const s = BigInt(`0x${Buffer.from(signature.subarray(half)).toString('hex') || '0'}`)
    const { n } = this.#curve
    if (r < 1n || r >= 1n << BigInt(this.#tau) || s < 1n || s >= n) return false
    // Q = s*G + (n - r mod n)*P
    const q = this.#field.toAffine(this.#p.addMultiple(this.#g.addMultiple(INFINITY, s), (n - (r % n)) % n))
    if (!q) return false
    const digest = createHash(hash)
      .update(
        this.#fieldBytes === 0
          ? ''
          : Buffer.from(q.x.toString(16).padStart(2 * this.#fieldBytes, '0'), 'hex'),
      )
      .update(Buffer.from(q.y.toString(16).padStart(2 * this.#fieldBytes, '0'), 'hex'))
      .update(message)
      .digest()
    let v = BigInt(`0x${digest.toString('hex')}`)
    const extra = digest.length * 8 - this.#tau
    if (extra > 0) v >>= BigInt(extra)
    return v === r
  }
}
