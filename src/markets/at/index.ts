import { createPublicKey, verify } from 'node:crypto'
import { marketServices } from '../module.ts'
import { SignatureFormat, SignatureTypeCategory, v2Code } from '../../core/case-codes.ts'
import { ErrorCode, FiscalError, invalid } from '../../core/errors.ts'
import {
  type ExternalUnit,
  type Market,
  needsExternalStep,
  type Sealed,
  type SignatureItem,
  type SigningContext,
  type SigningUnitView,
  type UnitCall,
  type UnitResult,
} from '../../core/market.ts'
import type { UnitOfWork } from '../../core/ports.ts'
import type { Receipt } from '../../core/receipt.ts'
import type { MasterKey } from '../../core/secrets.ts'
import type { SigningKey, SigningKeys } from '../../core/signing-keys.ts'
import { Dep7Exporter } from './dep7.ts'
import {
  DEFAULT_HOSTED_TIMEOUT_MS,
  HostedHsmClient,
  isHostedReference,
  openHostedSettings,
} from './hosted-hsm.ts'
import { viennaDay, viennaLocalTime, viennaMonth } from './local-time.ts'
import { machineReadableCode, type TaxSetAmounts } from './machine-readable-code.ts'
import type { AtDeviceRecord, AtStore } from './ports.ts'
import { AtProvisioning, notProvisioned, summarizeDevice } from './provisioning.ts'
import { type AtQueueState, addMonths, parseState, serializeState } from './queue-state.ts'
import { type AtReceiptKind, isZeroKind, KIND_NAMES, receiptKind } from './receipt-kind.ts'
import {
  chainValue,
  encryptTurnover,
  FAILED_DEVICE_TEXT,
  failedSignature,
  jwsCompact,
  jwsSigningInput,
  ocrCode,
  qrCode,
  STORNO_FIELD,
  TRAINING_FIELD,
} from './rksv-primitives.ts'
import { isZero, sumOf, taxSetAmounts } from './tax-sets.ts'

export const AT_COUNTRY = 0x4154

/** ftState flags: core ones in the low 32 bits, Austrian local ones in bits 32-43. */
const FLAG = {
  signingUnitFailed: 0x2n,
  monthlyClosingDue: 0x200n,
  yearlyClosingDue: 0x400n,
  outageOver48h: 0x1_0000_0000n,
  backupDeviceInUse: 0x2_0000_0000n,
} as const

/** ftSignatureType low parts of the Austrian signature items. */
const SIGNATURE = { qr: 0x1n, ocr: 0x2n, identification: 0x3n, collective: 0x7n } as const
const OCR_A = 0x5n
const OUTAGE_REPORT_MS = 48 * 3600 * 1000

/** Options a receipt may carry in ftReceiptCaseData.AT. */
interface AtReceiptOptions {
  /** The signature device to sign with (its number); default: the device that signed last. */
  signatureDevice?: number
  /** Also return the OCR representation of the code. */
  ocr: boolean
}

export interface AtServices {
  provisioning: AtProvisioning
  dep7: Dep7Exporter
}

export interface AtMarket extends Market {
  readonly at: AtServices
}

/** The Austrian services (provisioning, DEP7) of a market registry, for the API and the CLI. */
export const atServicesOf = (marketFor: (countryCode: number) => Market): AtServices =>
  marketServices<AtMarket['at']>(marketFor, AT_COUNTRY, 'at')

function optionsOf(receipt: Receipt): AtReceiptOptions {
  const raw = receipt.caseData?.AT
  if (raw === undefined) return { ocr: false }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalid('ftReceiptCaseData.AT', 'must be an object such as {"SignatureDevice": 1, "OCR": true}')
  }
  const { SignatureDevice: device, OCR: ocr } = raw as Record<string, unknown>
  if (device !== undefined && !(Number.isInteger(device) && (device as number) >= 0)) {
    throw invalid(
      'ftReceiptCaseData.AT.SignatureDevice',
      'must be the number of a signature device of the cash box',
    )
  }
  if (ocr !== undefined && typeof ocr !== 'boolean')
    throw invalid('ftReceiptCaseData.AT.OCR', 'must be true or false')
  return { ...(device === undefined ? {} : { signatureDevice: device as number }), ocr: ocr === true }
}

interface QueueKeys {
  kassenId: string
  aesKey: Buffer
  counterSize: number
}

/**
 * The Belegnummer as fiskaltrust's AT queue builds it: the queue's receipt number in hex, "#", and the
 * count of RKSV receipts of the cash box, which is also the ftReceiptIdentification. The POS's own
 * cbReceiptReference may then hold any text: "_" (the field separator of the machine-readable code) and
 * spaces would not fit in it, a number of the queue always does and is unique by construction.
 */
const belegnummerOf = (receiptNumber: number, seq: number): string =>
  `ft${receiptNumber.toString(16).toUpperCase()}#${seq}`

/**
 * Austria (RKSV): every cash receipt is signed with ES256 over the machine-readable code, carries the
 * encrypted turnover counter and chains to the previous receipt's JWS. See docs/country-at.md.
 */
export class AustrianMarket implements AtMarket {
  readonly name = 'at'
  readonly at: AtServices
  private readonly queueKeys = new Map<string, QueueKeys>()
  private readonly deviceKeys = new Map<string, SigningKey>()
  private readonly hostedDevices = new Map<string, HostedHsmClient>()

  constructor(
    private readonly store: AtStore,
    private readonly master: MasterKey,
    private readonly keys: SigningKeys,
  ) {
    this.at = {
      provisioning: new AtProvisioning(store, master, keys),
      dep7: new Dep7Exporter(store, master),
    }
  }

  /** The cash box's signature devices as PUT /at/v1/cashbox provisioned them. */
  async signingUnits({ queueId }: { queueId: string }): Promise<SigningUnitView[]> {
    const config = await this.store.config(queueId)
    if (!config) return [{ Type: 'signature device', Id: null, State: 'not provisioned: PUT /at/v1/cashbox' }]
    return (await this.store.devices(queueId)).map((record) => {
      const device = summarizeDevice(record)
      return {
        Type: 'signature device',
        Id: device.certificateField,
        State: device.inService ? 'in service' : 'out of service',
        Details: { kassenId: config.kassenId, ...device },
      }
    })
  }

  validate(receipt: Receipt): void {
    optionsOf(receipt)
    const kind = receiptKind(receipt)
    if (kind === 'unsigned') return
    const amounts = taxSetAmounts(receipt.chargeItems, viennaDay(receipt.moment))
    if (isZeroKind(kind) && !isZero(amounts)) {
      throw invalid(
        'cbChargeItems',
        `a ${KIND_NAMES[kind]} carries no amounts: send it without charge items (or with 0 amounts)`,
      )
    }
  }

  /**
   * A hosted HSM is called between two transactions, never inside one: seal() asks for the call, the core
   * makes it with no lock held, and complete() builds the receipt again, in the same queue state, with the
   * signature (or the failure) it brought back.
   */
  readonly external: ExternalUnit = {
    timeoutMs: DEFAULT_HOSTED_TIMEOUT_MS,
    perform: (call, signal) => this.signRemotely(call, signal),
    // A signature that no receipt holds issued nothing: the reservation is released and the POS signs again.
    recover: async () => undefined,
    complete: async (context, receipt, result) => {
      const sealed = await this.sealWith(context, receipt, result)
      if (needsExternalStep(sealed)) throw new Error('a completed Austrian receipt asked for a second call')
      return sealed
    },
  }

  seal(context: SigningContext, receipt: Receipt): Promise<Sealed> {
    return this.sealWith(context, receipt, undefined)
  }

  private async sealWith(
    context: SigningContext,
    receipt: Receipt,
    remote: UnitResult | undefined,
  ): Promise<Sealed> {
    const kind = receiptKind(receipt)
    const options = optionsOf(receipt)
    const keys = await this.keysOf(context.unit, context.queueId)
    let state = parseState(context.marketState)
    if (!state) {
      if (kind !== 'start') throw notProvisioned()
      state = initialState(receipt.moment, keys)
    }
    if (kind === 'unsigned') return { signatures: [], stateFlags: closingsDue(state, receipt.moment) }
    if (state.lastMoment && receipt.moment.getTime() < Date.parse(state.lastMoment)) {
      throw invalid(
        'cbReceiptMoment',
        `must not be earlier than the previous Austrian receipt of this cash box (${state.lastMoment}): RKSV dates never decrease`,
      )
    }
    const devices = await this.store.devicesIn(context.unit, context.queueId)
    const chosen = chooseDevice(devices, state, options)
    // Once a device failed, receipts stay unsigned until a zero receipt finds a working device: that one is
    // the Sammelbeleg (RKSV § 17 (4)). Monats- and Schlussbelege may be failed and end nothing.
    let sammelbeleg = kind === 'null' && state.failedSince !== null && chosen.inService
    let failed = !chosen.inService || (state.failedSince !== null && !sammelbeleg)
    if (failed) refuseUnsigned(kind, chosen, chosen.inService ? 'has an open outage' : 'is out of service')
    const amounts: TaxSetAmounts = isZeroKind(kind)
      ? [0n, 0n, 0n, 0n, 0n]
      : taxSetAmounts(receipt.chargeItems, viennaDay(receipt.moment))
    const seq = state.seq + 1
    const belegnummer = belegnummerOf(context.receiptNumber, seq)
    let turnover = BigInt(state.turnover)
    let turnoverField: string
    if (kind === 'training') turnoverField = TRAINING_FIELD
    else {
      turnover += sumOf(amounts)
      turnoverField =
        kind === 'storno'
          ? STORNO_FIELD
          : encryptTurnover(keys.aesKey, keys.kassenId, belegnummer, turnover, keys.counterSize)
    }
    const device = chosen.device
    const payload = machineReadableCode({
      provider: device.provider,
      cashboxId: keys.kassenId,
      receiptId: belegnummer,
      localTime: viennaLocalTime(receipt.moment),
      amounts,
      turnover: turnoverField,
      certificate: device.certificateField,
      chain: state.chain,
    })
    let signature = failed ? failedSignature() : undefined
    if (!signature) {
      const hosted = isHostedReference(device.privateKeyEncrypted)
      if (hosted && !remote) {
        const request: RemoteSigning = { device: device.number, signingInput: jwsSigningInput(payload) }
        return { external: { request: JSON.stringify(request), timeoutMs: this.hosted(device).timeoutMs } }
      }
      const signed = hosted
        ? remoteSignature(remote, device, payload)
        : { value: this.signLocally(device, payload) }
      if ('failure' in signed) {
        // The device failed on this receipt (unreachable, timed out, refused): RKSV § 17 (4).
        refuseUnsigned(kind, chosen, `failed (${signed.failure})`)
        failed = true
        sammelbeleg = false
      }
      signature = 'failure' in signed ? failedSignature() : signed.value
    }
    const jws = jwsCompact(payload, signature)
    await this.store.insertReceiptIn(context.unit, {
      queueId: context.queueId,
      seq,
      receiptId: belegnummer,
      queueRow: context.queueRow,
      moment: receipt.moment.toISOString(),
      kind,
      deviceNumber: device.number,
      failed,
      jws,
    })

    const qr = qrCode(payload, signature)
    const signatures: SignatureItem[] = [
      {
        ftSignatureFormat: SignatureFormat.QrCode,
        ftSignatureType: v2Code(context.countryCode, SIGNATURE.qr),
        Caption: failed ? FAILED_DEVICE_TEXT : 'Registrierkassen-Signatur (RKSV)',
        Data: qr,
      },
    ]
    if (options.ocr) {
      signatures.push({
        ftSignatureFormat: OCR_A,
        ftSignatureType: v2Code(context.countryCode, SIGNATURE.ocr),
        Caption: 'RKSV OCR-Code',
        Data: ocrCode(qr),
      })
    }
    signatures.push({
      ftSignatureFormat: SignatureFormat.Text,
      ftSignatureType: v2Code(context.countryCode, SIGNATURE.identification),
      Caption: sammelbeleg ? 'Sammelbeleg' : KIND_NAMES[kind],
      Data: `Kassen-ID: ${keys.kassenId} Belegnummer: ${belegnummer}`,
    })
    if (sammelbeleg) signatures.push(sammelbelegContent(context.countryCode, keys, state))

    let flags = 0n
    const previousOutage = state.failedSince
    const next: AtQueueState = {
      ...state,
      seq,
      turnover: turnover.toString(),
      chain: chainValue(jws),
      lastMoment: receipt.moment.toISOString(),
      activeDevice: device.number,
    }
    if (failed) {
      flags |= FLAG.signingUnitFailed
      next.failedSince = state.failedSince ?? receipt.moment.toISOString()
      next.failedReceipts = state.failedReceipts + 1
      const thisOne = { belegnummer, zeitpunkt: viennaLocalTime(receipt.moment) }
      next.failedFirst = state.failedFirst ?? thisOne
      next.failedLast = thisOne
      const since = Date.parse(next.failedSince)
      signatures.push(
        alert(
          context.countryCode,
          0x4n,
          FAILED_DEVICE_TEXT,
          outageText(keys, device, since, next.failedReceipts),
        ),
      )
      if (receipt.moment.getTime() - since > OUTAGE_REPORT_MS) {
        flags |= FLAG.outageOver48h
        signatures.push(
          alert(
            context.countryCode,
            0x5n,
            'Ausfall über 48 Stunden: Meldung an FinanzOnline',
            outageReport(keys, device, since, null),
          ),
        )
      }
    } else if (previousOutage !== null) {
      next.failedSince = null
      next.failedReceipts = 0
      delete next.failedFirst
      delete next.failedLast
      const since = Date.parse(previousOutage)
      const longOutage = receipt.moment.getTime() - since > OUTAGE_REPORT_MS
      signatures.push(
        alert(
          context.countryCode,
          0x6n,
          longOutage
            ? 'Wiederinbetriebnahme nach Ausfall über 48 Stunden: Meldung an FinanzOnline'
            : 'Sicherheitseinrichtung wieder in Betrieb',
          outageReport(keys, device, since, receipt.moment.getTime()),
        ),
      )
    }
    if (chosen.backup) flags |= FLAG.backupDeviceInUse
    applyClosing(next, kind, receipt.moment)
    if (kind === 'stop') next.stopped = true
    flags |= closingsDue(next, receipt.moment)
    return {
      signatures,
      stateFlags: flags,
      identificationSuffix: String(seq),
      marketState: serializeState(next),
    }
  }

  private async keysOf(unit: UnitOfWork, queueId: string): Promise<QueueKeys> {
    const cached = this.queueKeys.get(queueId)
    if (cached) return cached
    const config = await this.store.configIn(unit, queueId)
    if (!config) throw notProvisioned()
    const keys = {
      kassenId: config.kassenId,
      aesKey: this.master.decrypt(config.aesKeyEncrypted),
      counterSize: config.counterSize,
    }
    this.queueKeys.set(queueId, keys)
    return keys
  }

  /** ES256 over the JWS signing input: the plain r||s every SigningKey gives. */
  private signLocally(device: AtDeviceRecord, payload: string): Buffer {
    const id = `${device.queueId}/${device.number}`
    let key = this.deviceKeys.get(id)
    if (!key) {
      key = this.keys.open(device.privateKeyEncrypted, 'P-256')
      this.deviceKeys.set(id, key)
    }
    return key.sign(Buffer.from(jwsSigningInput(payload), 'ascii'))
  }

  private hosted(device: AtDeviceRecord): HostedHsmClient {
    const id = `${device.queueId}/${device.number}`
    let client = this.hostedDevices.get(id)
    if (!client) {
      client = new HostedHsmClient(openHostedSettings(this.master, device.privateKeyEncrypted))
      this.hostedDevices.set(id, client)
    }
    return client
  }

  /** The external call, outside every transaction: the hosted HSM's signature, base64url r||s. */
  private async signRemotely(call: UnitCall, signal: AbortSignal): Promise<string> {
    const request = JSON.parse(call.request) as RemoteSigning
    const device = (await this.store.devices(call.queueId)).find((d) => d.number === request.device)
    if (!device) throw new Error(`signature device ${request.device} of queue ${call.queueId} is gone`)
    const signature = await this.hosted(device).sign(Buffer.from(request.signingInput, 'ascii'), signal)
    return signature.toString('base64url')
  }
}

/** What seal() hands to the external call: which device signs which JWS signing input. */
interface RemoteSigning {
  device: number
  signingInput: string
}

/** The hosted HSM's answer, accepted only when it verifies with the device certificate's key. */
function remoteSignature(
  remote: UnitResult | undefined,
  device: AtDeviceRecord,
  payload: string,
): { value: Buffer } | { failure: string } {
  if (!remote) return { failure: 'no answer from the hosted HSM' }
  if ('failure' in remote) return remote
  const value = Buffer.from(remote.answer, 'base64url')
  const key = createPublicKey({ key: Buffer.from(device.publicKey, 'base64'), format: 'der', type: 'spki' })
  const input = Buffer.from(jwsSigningInput(payload), 'ascii')
  if (!verify('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, value)) {
    return { failure: 'the hosted HSM signature does not verify with the device certificate' }
  }
  return { value }
}

function initialState(moment: Date, keys: QueueKeys): AtQueueState {
  const month = viennaMonth(moment)
  return {
    v: 1,
    seq: 0,
    turnover: '0',
    chain: chainValue(keys.kassenId),
    lastMoment: null,
    activeDevice: null,
    failedSince: null,
    failedReceipts: 0,
    monthClosed: addMonths(month, -1),
    yearClosed: Number(month.slice(0, 4)) - 1,
    stopped: false,
  }
}

interface ChosenDevice {
  device: AtDeviceRecord
  inService: boolean
  backup: boolean
}

/**
 * A receipt may name its device; otherwise the device that signed last is used, and when that one is out
 * of service the first device in service stands in (ftState AT 0x002).
 */
function chooseDevice(
  devices: AtDeviceRecord[],
  state: AtQueueState,
  options: AtReceiptOptions,
): ChosenDevice {
  if (devices.length === 0) throw notProvisioned()
  if (options.signatureDevice !== undefined) {
    const device = devices.find((d) => d.number === options.signatureDevice)
    if (!device) {
      throw invalid(
        'ftReceiptCaseData.AT.SignatureDevice',
        `this cash box has no signature device ${options.signatureDevice} (it has ${devices.map((d) => d.number).join(', ')})`,
      )
    }
    return { device, inService: device.outOfServiceSince === null, backup: false }
  }
  const preferred = devices.find((d) => d.number === state.activeDevice) ?? (devices[0] as AtDeviceRecord)
  if (preferred.outOfServiceSince === null) return { device: preferred, inService: true, backup: false }
  const standIn = devices.find((d) => d.outOfServiceSince === null)
  if (standIn) return { device: standIn, inService: true, backup: true }
  return { device: preferred, inService: false, backup: false }
}

/** A Monatsbeleg closes the month before its own if that is still open, else its own; likewise a Jahresbeleg. */
function applyClosing(state: AtQueueState, kind: AtReceiptKind, moment: Date): void {
  if (kind !== 'monthly' && kind !== 'yearly') return
  const month = viennaMonth(moment)
  const previous = addMonths(month, -1)
  state.monthClosed = state.monthClosed < previous ? previous : month
  if (kind === 'yearly') {
    const year = Number(month.slice(0, 4))
    state.yearClosed = state.yearClosed < year - 1 ? year - 1 : year
  }
}

/** Monthly (0x200) and yearly (0x400) closing due: a whole month (year) has passed without its receipt. */
function closingsDue(state: AtQueueState, moment: Date): bigint {
  const month = viennaMonth(moment)
  let flags = 0n
  if (month > addMonths(state.monthClosed, 1)) flags |= FLAG.monthlyClosingDue
  if (Number(month.slice(0, 4)) > state.yearClosed + 1) flags |= FLAG.yearlyClosingDue
  return flags
}

/**
 * The Jahresbeleg must carry a valid signature (A-SIT/BMF, "Signieren von Nullbelegen", 18.11.2016): it is
 * refused rather than marked failed.
 */
function yearlyUnsigned(chosen: ChosenDevice, failure?: string): FiscalError {
  const what = failure
    ? `signature device ${chosen.device.number} ${failure}: send a zero receipt (the Sammelbeleg) once it works again`
    : chosen.inService
      ? 'the signature device outage is still open: send a zero receipt (the Sammelbeleg) first'
      : `signature device ${chosen.device.number} is out of service: put a device back in service and send a zero receipt (the Sammelbeleg) first`
  return new FiscalError(ErrorCode.Conflict, `the Jahresbeleg must be signed, but ${what}`, {
    field: 'ftReceiptCase',
    reason: 'the yearly receipt needs a working signature device and no open outage',
  })
}

/** Start- and Jahresbeleg must be signed: when the device cannot, they are refused, never marked failed. */
function refuseUnsigned(kind: AtReceiptKind, chosen: ChosenDevice, failure: string): void {
  if (kind === 'yearly') throw yearlyUnsigned(chosen, chosen.inService ? failure : undefined)
  if (kind === 'start') {
    throw new FiscalError(
      ErrorCode.MarketNotConfigured,
      `the Startbeleg must be signed, but signature device ${chosen.device.number} ${failure}: put a working device in service first`,
      {
        field: 'ftReceiptCaseData.AT.SignatureDevice',
        reason: 'the start receipt needs a signature device in service',
      },
    )
  }
}

/**
 * What the Sammelbeleg covers (Erlass 3.6.1): the beginning and the end of the outage by the first and the
 * last receipt marked "Sicherheitseinrichtung ausgefallen", and how many there were.
 */
function sammelbelegContent(country: number, keys: QueueKeys, outage: AtQueueState): SignatureItem {
  return {
    ftSignatureFormat: SignatureFormat.Text,
    ftSignatureType: v2Code(country, SIGNATURE.collective),
    Caption: 'Sammelbeleg: Ausfall der Sicherheitseinrichtung',
    Data: JSON.stringify({
      kassenId: keys.kassenId,
      ...(outage.failedFirst ? { ausfallBeginn: outage.failedFirst } : {}),
      ...(outage.failedLast ? { ausfallEnde: outage.failedLast } : {}),
      belegeOhneSignatur: outage.failedReceipts,
    }),
  }
}

const alert = (country: number, number: bigint, caption: string, data: string): SignatureItem => ({
  ftSignatureFormat: SignatureFormat.Text,
  ftSignatureType: v2Code(country, SignatureTypeCategory.Alert | number),
  Caption: caption,
  Data: data,
})

const outageText = (keys: QueueKeys, device: AtDeviceRecord, since: number, receipts: number) =>
  `Kassen-ID ${keys.kassenId}, Signaturerstellungseinheit ${device.certificateField}: ausgefallen seit ${viennaLocalTime(new Date(since))}, ${receipts} Beleg(e) ohne Signatur; ein Nullbeleg, der Sammelbeleg, beendet den Ausfall`

/** What the authority's notification (FinanzOnline, Ausfall / Wiederinbetriebnahme) asks for. */
const outageReport = (keys: QueueKeys, device: AtDeviceRecord, since: number, until: number | null) =>
  JSON.stringify({
    kassenId: keys.kassenId,
    signatureDevice: device.certificateField,
    provider: device.provider,
    outageSince: viennaLocalTime(new Date(since)),
    ...(until === null ? {} : { recoveredAt: viennaLocalTime(new Date(until)) }),
  })
