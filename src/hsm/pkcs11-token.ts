import { createHash, createPublicKey, randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import pkcs11 from 'pkcs11js'
import { CURVE_HASH, type KeyCurve, type KeyToken, type SigningKey } from '../core/signing-keys.ts'

/** Where the token is and how to log in to it (the FISCALBOX_PKCS11_* settings, docs/hsm.md). */
export interface Pkcs11Settings {
  module: string
  /** The slot's id as C_GetSlotList gives it, or the token's label: one of the two. */
  slot?: number
  tokenLabel?: string
  /** The user PIN, from FISCALBOX_PKCS11_PIN or read from the file FISCALBOX_PKCS11_PIN_FILE names. */
  pin: { value: string } | { file: string }
}

/** DER OIDs of the named curves (CKA_EC_PARAMS) and the length of a coordinate. */
const CURVES = {
  'P-256': { params: Buffer.from('06082a8648ce3d030107', 'hex'), size: 32 },
  'P-384': { params: Buffer.from('06052b81040022', 'hex'), size: 48 },
} as const satisfies Record<KeyCurve, { params: Buffer; size: number }>

/**
 * Keys in a PKCS#11 token (pkcs11js). Private keys are made in the token (C_GenerateKeyPair) sensitive and
 * not extractable, and found again by their CKA_ID. The hash is computed here and signed with plain
 * CKM_ECDSA, which every EC token has (many lack CKM_ECDSA_SHA256); its output is already r||s.
 *
 * pkcs11js calls are synchronous: one session serves the whole process, each sign is C_SignInit and C_Sign
 * back to back on the event loop, so no other call can come between them.
 */
export class Pkcs11Token implements KeyToken {
  readonly description: string

  private constructor(
    private readonly module: string,
    private readonly library: pkcs11.PKCS11,
    private readonly session: Buffer,
    description: string,
  ) {
    this.description = description
  }

  /** Loads the module, finds the token and logs in; every failure names the setting to fix. */
  static open(settings: Pkcs11Settings): Pkcs11Token {
    if (!existsSync(settings.module)) {
      throw new Error(
        `FISCALBOX_PKCS11_MODULE: no PKCS#11 module at ${settings.module} (e.g. /usr/lib/softhsm/libsofthsm2.so)`,
      )
    }
    const library = acquire(settings.module)
    try {
      const { slot, label } = findSlot(library, settings)
      const session = library.C_OpenSession(slot, pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION)
      try {
        login(library, session, settings.pin)
      } catch (error) {
        library.C_CloseSession(session)
        throw error
      }
      return new Pkcs11Token(
        settings.module,
        library,
        session,
        `PKCS#11 token "${label}" (${settings.module})`,
      )
    } catch (error) {
      release(settings.module)
      throw error
    }
  }

  generate(curve: KeyCurve, label: string): { id: string; key: SigningKey } {
    const id = randomBytes(16)
    const common = [
      { type: pkcs11.CKA_TOKEN, value: true },
      { type: pkcs11.CKA_ID, value: id },
      { type: pkcs11.CKA_LABEL, value: label },
    ]
    const { privateKey, publicKey } = this.library.C_GenerateKeyPair(
      this.session,
      { mechanism: pkcs11.CKM_EC_KEY_PAIR_GEN },
      [
        ...common,
        { type: pkcs11.CKA_EC_PARAMS, value: CURVES[curve].params },
        { type: pkcs11.CKA_VERIFY, value: true },
      ],
      [
        ...common,
        { type: pkcs11.CKA_PRIVATE, value: true },
        { type: pkcs11.CKA_SIGN, value: true },
        { type: pkcs11.CKA_SENSITIVE, value: true },
        { type: pkcs11.CKA_EXTRACTABLE, value: false },
      ],
    )
    return { id: id.toString('hex'), key: this.keyOf(curve, privateKey, publicKey) }
  }

  open(id: string, curve: KeyCurve): SigningKey {
    const ckaId = Buffer.from(id, 'hex')
    const privateKey = this.find(pkcs11.CKO_PRIVATE_KEY, ckaId)
    const publicKey = this.find(pkcs11.CKO_PUBLIC_KEY, ckaId)
    return this.keyOf(curve, privateKey, publicKey)
  }

  destroy(id: string): void {
    const ckaId = Buffer.from(id, 'hex')
    for (const objectClass of [pkcs11.CKO_PRIVATE_KEY, pkcs11.CKO_PUBLIC_KEY]) {
      this.library.C_DestroyObject(this.session, this.find(objectClass, ckaId))
    }
  }

  close(): void {
    this.library.C_CloseSession(this.session)
    release(this.module)
  }

  private keyOf(curve: KeyCurve, privateKey: Buffer, publicKey: Buffer): SigningKey {
    const { size } = CURVES[curve]
    const hash = CURVE_HASH[curve]
    return {
      curve,
      publicKey: this.spkiOf(curve, publicKey),
      sign: (data) => {
        this.library.C_SignInit(this.session, { mechanism: pkcs11.CKM_ECDSA }, privateKey)
        return this.library.C_Sign(
          this.session,
          createHash(hash).update(data).digest(),
          Buffer.alloc(2 * size),
        )
      },
    }
  }

  private find(objectClass: number, id: Buffer): Buffer {
    this.library.C_FindObjectsInit(this.session, [
      { type: pkcs11.CKA_CLASS, value: objectClass },
      { type: pkcs11.CKA_ID, value: id },
    ])
    const [found] = this.library.C_FindObjects(this.session, 1)
    this.library.C_FindObjectsFinal(this.session)
    if (!found) {
      const kind = objectClass === pkcs11.CKO_PRIVATE_KEY ? 'private' : 'public'
      throw new Error(`${this.description} has no ${kind} key with CKA_ID ${id.toString('hex')}`)
    }
    return found
  }

  /**
   * CKA_EC_POINT is the point wrapped in a DER OCTET STRING (PKCS#11 2.40); some older modules give the bare
   * point, which is taken as it is. node reads it as a JWK and writes the SPKI.
   */
  private spkiOf(curve: KeyCurve, publicKey: Buffer): Buffer {
    const { size } = CURVES[curve]
    const [attribute] = this.library.C_GetAttributeValue(this.session, publicKey, [
      { type: pkcs11.CKA_EC_POINT },
    ])
    const wrapped = attribute?.value as Buffer
    const point = wrapped[0] === 0x04 && wrapped.length === 2 * size + 1 ? wrapped : wrapped.subarray(2)
    const jwk = {
      kty: 'EC',
      crv: curve,
      x: point.subarray(1, 1 + size).toString('base64url'),
      y: point.subarray(1 + size).toString('base64url'),
    }
    return createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' })
  }
}

/**
 * One loaded library per module: a process may call C_Initialize once, and C_Finalize ends every session,
 * so runtimes of one process (a restart in place, the tests) share it and the last one finalizes it.
 */
const loaded = new Map<string, { library: pkcs11.PKCS11; users: number }>()

function acquire(module: string): pkcs11.PKCS11 {
  const shared = loaded.get(module)
  if (shared) {
    shared.users++
    return shared.library
  }
  const library = new pkcs11.PKCS11()
  try {
    library.load(module)
    library.C_Initialize()
  } catch (error) {
    throw new Error(`FISCALBOX_PKCS11_MODULE: ${module} is not a PKCS#11 module that loads: ${reason(error)}`)
  }
  loaded.set(module, { library, users: 1 })
  return library
}

function release(module: string) {
  const shared = loaded.get(module)
  if (!shared || --shared.users > 0) return
  loaded.delete(module)
  shared.library.C_Finalize()
}

function findSlot(library: pkcs11.PKCS11, settings: Pkcs11Settings): { slot: Buffer; label: string } {
  const slots = library.C_GetSlotList(true).map((slot) => ({
    slot,
    id: slot.readUIntLE(0, Math.min(slot.length, 6)),
    label: library.C_GetTokenInfo(slot).label.trim(),
  }))
  const chosen =
    settings.tokenLabel !== undefined
      ? slots.find((s) => s.label === settings.tokenLabel)
      : settings.slot !== undefined
        ? slots.find((s) => s.id === settings.slot)
        : slots.length === 1
          ? slots[0]
          : undefined
  if (chosen) return chosen
  const present = slots.map((s) => `slot ${s.id} "${s.label}"`).join(', ') || 'none'
  if (settings.tokenLabel !== undefined) {
    throw new Error(
      `FISCALBOX_PKCS11_TOKEN_LABEL: no token labelled "${settings.tokenLabel}" (tokens: ${present})`,
    )
  }
  if (settings.slot !== undefined) {
    throw new Error(`FISCALBOX_PKCS11_SLOT: no token in slot ${settings.slot} (tokens: ${present})`)
  }
  throw new Error(
    `FISCALBOX_PKCS11_TOKEN_LABEL or FISCALBOX_PKCS11_SLOT: say which token to use (tokens: ${present})`,
  )
}

function login(library: pkcs11.PKCS11, session: Buffer, pin: Pkcs11Settings['pin']) {
  const setting = 'value' in pin ? 'FISCALBOX_PKCS11_PIN' : 'FISCALBOX_PKCS11_PIN_FILE'
  let text: string
  try {
    text = 'value' in pin ? pin.value : readFileSync(pin.file, 'utf8').trim()
  } catch (error) {
    throw new Error(`FISCALBOX_PKCS11_PIN_FILE: cannot read the PIN file: ${reason(error)}`)
  }
  try {
    library.C_Login(session, pkcs11.CKU_USER, text)
  } catch (error) {
    if (errorName(error) === 'CKR_USER_ALREADY_LOGGED_IN') return
    // The token's own code says which (wrong PIN, PIN locked); the PIN itself is never repeated.
    throw new Error(`${setting}: the token refused the user PIN (${errorName(error)})`)
  }
}

const errorName = (error: unknown): string =>
  error instanceof Error ? error.message.split(/[:\s]/)[0] || 'error' : 'error'
const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error))
