import { setTimeout as delay } from 'node:timers/promises'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import {
  FPMATE_PATH,
  type FpmateCommand,
  FpmateRequestError,
  parseRequest,
  serializeResponse,
} from '../fpmate/index.ts'
import { type DeviceAnswer, type DeviceConditions, RtDevice } from './device.ts'
import {
  type ControlChange,
  type DeviceFaults,
  DeviceFaultInjector,
  NO_DEVICE_FAULTS,
  readControlChange,
} from './faults.ts'
import { type DeviceState, loadDeviceState, saveDeviceState } from './state.ts'

/**
 * The Epson RT printer simulator: fpmate over HTTP on /cgi-bin/fpmate.cgi, one request at a time, each
 * taking the configured latency, with fault injection. Tests start it in-process on a real port;
 * `fiscalbox it-simulator` starts it on its own. Administration under /_sim (state, journal, faults).
 */
export interface ItSimulatorOptions {
  /** The device serial (matricola) of a new device; a state file keeps its own. */
  serialNumber?: string
  /** Counters and journal are read from this file at start and written to it after every change. */
  stateFile?: string
  /** Time a document (fiscal or not) takes, ms; default 266 (published Epson RT server figure). */
  latencyMs?: number
  /** Time a status query or directIO read takes, ms; default 62. */
  readLatencyMs?: number
  /** Time a Z or X report takes, ms; default 3000. */
  reportMs?: number
  faults?: Partial<DeviceFaults>
  conditions?: Partial<DeviceConditions>
  /** The device clock (epoch ms); default Date.now. */
  clock?: () => number
  vatRates?: Readonly<Record<number, number>>
  logger?: boolean
}

export interface ItSimulator {
  url: string
  device: RtDevice
  faults: DeviceFaultInjector
  app: FastifyInstance
  close(): Promise<void>
}

const LAN_TIME_OUT = { success: false, code: 'LAN_TIME_OUT', status: 0 }
const INJECTED_ERROR = { success: false, code: 'PRINTER ERROR', status: 17 }
/** The web service waits this long for the firmware when the request names no `timeout` (Epson's default). */
const DEFAULT_DEVICE_TIMEOUT_MS = 10_000

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new Error('the body must be JSON, e.g. {"paperOut": true}')
  }
}

const sleep = (ms: number) => (ms > 0 ? delay(ms) : Promise.resolve())

export async function startItSimulator(
  options: ItSimulatorOptions & { port?: number; host?: string } = {},
): Promise<ItSimulator> {
  const stateFile = options.stateFile
  const state: DeviceState = loadDeviceState(stateFile, options.serialNumber)
  const device = new RtDevice(state, {
    ...(stateFile ? { persist: (changed: DeviceState) => saveDeviceState(stateFile, changed) } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.vatRates ? { vatRates: options.vatRates } : {}),
  })
  Object.assign(device.conditions, options.conditions)
  // Written at once, so that the file names its device (and --dump-journal reads it) before any document.
  if (stateFile) saveDeviceState(stateFile, state)
  const faults = new DeviceFaultInjector({ ...NO_DEVICE_FAULTS, ...options.faults })
  const latency = {
    printerFiscalReceipt: options.latencyMs ?? 266,
    printerNonFiscal: options.latencyMs ?? 266,
    printerFiscalReport: options.reportMs ?? 3000,
    printerCommand: options.readLatencyMs ?? 62,
  } satisfies Record<FpmateCommand['root'], number>

  const app = Fastify({ logger: options.logger ?? false, forceCloseConnections: true })
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body))

  // The firmware does one thing at a time: requests wait their turn in arrival order. A request whose
  // client gave up while it waited is still carried out, as on the device, which received it whole.
  let queue: Promise<unknown> = Promise.resolve()
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work)
    queue = run.catch(() => undefined)
    return run
  }

  const cut = (request: FastifyRequest, reply: FastifyReply) => {
    reply.hijack()
    request.raw.socket.destroy()
  }

  app.post(FPMATE_PATH, async (request, reply) => {
    if (faults.config.offline) return cut(request, reply)
    const timeout = Number((request.query as { timeout?: string }).timeout)
    const deviceTimeoutMs = Number.isFinite(timeout) && timeout >= 0 ? timeout : DEFAULT_DEVICE_TIMEOUT_MS
    const body = typeof request.body === 'string' ? request.body : ''
    const outcome = await serially(async (): Promise<DeviceAnswer | 'drop'> => {
      let command: FpmateCommand
      try {
        command = parseRequest(body)
      } catch (error) {
        if (!(error instanceof FpmateRequestError)) throw error
        return { response: { success: false, code: error.code, status: error.status } }
      }
      const decision = faults.decide()
      if (decision === 'error') return { response: INJECTED_ERROR }
      if (decision === 'hang') {
        // The web service gives up on the firmware after the request's timeout, or when its client left.
        const socket = request.raw.socket
        const left = new AbortController()
        const leave = () => left.abort()
        socket.once('close', leave)
        if (!socket.destroyed)
          await delay(deviceTimeoutMs, undefined, { signal: left.signal }).catch(() => undefined)
        socket.off('close', leave)
        return { response: LAN_TIME_OUT }
      }
      await sleep(latency[command.root])
      const answer = device.handle(command)
      return decision === 'drop-after-print' ? 'drop' : answer
    })
    if (outcome === 'drop' || 'restart' in outcome) return cut(request, reply)
    return reply.type('application/xml; charset=utf-8').send(serializeResponse(outcome.response))
  })

  const control = () => ({ faults: faults.config, conditions: device.conditions })
  app.get('/_sim/state', async () => {
    const { journal, ...counters } = device.state
    return {
      ...counters,
      journalEntries: journal.length,
      printerStatus: device.printerStatus(),
      ...control(),
    }
  })
  app.get('/_sim/journal', async () => ({
    serialNumber: device.state.serialNumber,
    journal: device.state.journal,
  }))
  app.put('/_sim/faults', async (request, reply) => {
    let change: ControlChange
    try {
      change = readControlChange(parseJson(String(request.body || '{}')))
    } catch (error) {
      return reply.code(400).send({ error: (error as Error).message })
    }
    const { paperOut, coverOpen, busy, ...faultChange } = change
    faults.reconfigure(faultChange)
    Object.assign(
      device.conditions,
      Object.fromEntries(
        Object.entries({ paperOut, coverOpen, busy }).filter(([, value]) => value !== undefined),
      ),
    )
    return control()
  })

  await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    device,
    faults,
    app,
    close: () => app.close(),
  }
}
