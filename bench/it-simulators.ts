import { type ItSimulator, startItSimulator } from '../src/markets/it/simulator/app.ts'

/**
 * Several simulated Epson RT printers in one process, each on a port of its own with its own serial and
 * counters (the bench part `it`): `node --import tsx bench/it-simulators.ts COUNT [LATENCY_MS]`. Prints the
 * devices' URLs as one JSON line, then `listening on` the first one.
 */
const count = Number(process.argv[2] ?? 1)
const latencyMs = Number(process.argv[3] ?? 266)
const devices: ItSimulator[] = []
for (let i = 0; i < count; i++)
  devices.push(await startItSimulator({ latencyMs, serialNumber: `99IEZ${String(i + 1).padStart(6, '0')}` }))
process.stdout.write(`devices ${JSON.stringify(devices.map((device) => device.url))}\n`)
process.stdout.write(`it-simulators listening on ${devices[0]?.url}\n`)
const stop = () => {
  void Promise.all(devices.map((device) => device.close())).then(() => process.exit(0))
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
