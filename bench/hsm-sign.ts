/**
 * How long one signature takes with a key in a PKCS#11 token, against the same in memory (docs/hsm.md):
 * a fresh SoftHSM2 token in a temporary directory, one P-256 and one P-384 key made in it by the product's
 * Pkcs11Token, then N signatures of a 300-byte message each way, one after another on the event loop as
 * /v2/sign makes them. Prints the median and the 99th percentile per signature.
 *
 * usage: node --import tsx bench/hsm-sign.ts [--signs N]
 */
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { MasterKey } from '../src/core/secrets.ts'
import { type KeyCurve, type SigningKey, SigningKeys } from '../src/core/signing-keys.ts'
import { Pkcs11Token } from '../src/hsm/pkcs11-token.ts'
import { freshSoftToken, SOFTHSM2_MODULE } from '../test/helpers/softhsm.ts'

const { values } = parseArgs({ options: { signs: { type: 'string', default: '5000' } } })
const signs = Number(values.signs)

function timings(key: SigningKey): { median: number; p99: number } {
  const message = randomBytes(300)
  const took: number[] = []
  for (let i = 0; i < signs; i++) {
    const started = process.hrtime.bigint()
    key.sign(message)
    took.push(Number(process.hrtime.bigint() - started) / 1000)
  }
  took.sort((a, b) => a - b)
  return { median: took[Math.floor(signs / 2)] as number, p99: took[Math.floor(signs * 0.99)] as number }
}

const soft = freshSoftToken('fiscalbox-bench')
process.env.SOFTHSM2_CONF = soft.conf
const token = Pkcs11Token.open({ module: SOFTHSM2_MODULE, tokenLabel: soft.label, pin: { value: soft.pin } })
try {
  const software = new SigningKeys(MasterKey.generate().key)
  const inToken = new SigningKeys(MasterKey.generate().key, token)
  console.log(`${signs} signatures each, microseconds per signature (median / p99)`)
  for (const curve of ['P-256', 'P-384'] as KeyCurve[]) {
    for (const [where, keys] of [
      ['memory', software],
      ['SoftHSM2', inToken],
    ] as const) {
      const { median, p99 } = timings(keys.generate(curve, `bench ${curve}`).key)
      console.log(
        `${curve} ${where.padEnd(8)} ${median.toFixed(1).padStart(7)} / ${p99.toFixed(1).padStart(7)}`,
      )
    }
  }
} finally {
  token.close()
  soft.remove()
}
