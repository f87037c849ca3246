import { Agent, createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * `node --import tsx bench/tse-latency-proxy.ts <target url> <latency ms>`: forwards every request to the
 * remote TSE after the given latency (a cloud TSE's round trip, as its vendors publish it), in a process of
 * its own so that the waiting costs the measured server nothing.
 */
const [target, latency] = process.argv.slice(2)
if (!target || !latency) throw new Error('usage: tse-latency-proxy.ts <target url> <latency ms>')
const upstream = new URL(target)
const latencyMs = Number(latency)
const agent = new Agent({ keepAlive: true })

const server = createServer((incoming, outgoing) => {
  const chunks: Buffer[] = []
  incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
  incoming.on('end', () => {
    setTimeout(() => {
      const forwarded = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: incoming.method,
          path: incoming.url,
          headers: incoming.headers,
          agent,
        },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(outgoing)
        },
      )
      forwarded.on('error', () => outgoing.destroy())
      forwarded.end(Buffer.concat(chunks))
    }, latencyMs)
  })
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
