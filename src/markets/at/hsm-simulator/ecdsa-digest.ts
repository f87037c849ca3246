import { randomBytes } from 'node:crypto'

/**
 * ECDSA P-256 over a digest the caller computed, as a hosted HSM's raw-signature call does: node:crypto and
 * WebCrypto only sign a message they hash themselves. For the simulator only (no constant time).
 */
const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n
const A = P - 3n
const G: Point = [
  0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
]
type Point = readonly [bigint, bigint] | null

const mod = (a: bigint, m: bigint) => ((a % m) + m) % m

function inverse(a: bigint, m: bigint): bigint {
  let [r0, r1, t0, t1] = [mod(a, m), m, 1n, 0n]
  while (r1 !== 0n) {
    const q = r0 / r1
    ;[r0, r1] = [r1, r0 - q * r1]
    ;[t0, t1] = [t1, t0 - q * t1]
  }
  return mod(t0, m)
}

function add(p: Point, q: Point): Point {
  if (!p) return q
  if (!q) return p
  if (p[0] === q[0] && mod(p[1] + q[1], P) === 0n) return null
  const slope =
    p[0] === q[0]
      ? mod((3n * p[0] * p[0] + A) * inverse(2n * p[1], P), P)
      : mod((q[1] - p[1]) * inverse(q[0] - p[0], P), P)
  const x = mod(slope * slope - p[0] - q[0], P)
  return [x, mod(slope * (p[0] - x) - p[1], P)]
}

function multiply(k: bigint, point: Point): Point {
  let result: Point = null
  let addend = point
  for (let e = k; e > 0n; e >>= 1n) {
    if (e & 1n) result = add(result, addend)
    addend = add(addend, addend)
  }
  return result
}

const toBigInt = (bytes: Buffer) => BigInt(`0x${bytes.toString('hex') || '0'}`)
const toBytes = (value: bigint) => Buffer.from(value.toString(16).padStart(64, '0'), 'hex')

/** r||s (IEEE P1363) of a 32-byte digest under the private scalar d (32 bytes, big-endian). */
export function signDigest(privateScalar: Buffer, digest: Buffer): Buffer {
  const d = toBigInt(privateScalar)
  const z = toBigInt(digest)
  for (;;) {
    const k = mod(toBigInt(randomBytes(32)), N)
    if (k === 0n) continue
    const point = multiply(k, G)
    if (!point) continue
    const r = mod(point[0], N)
    const s = mod(inverse(k, N) * (z + r * d), N)
    if (r !== 0n && s !== 0n) return Buffer.concat([toBytes(r), toBytes(s)])
  }
}
