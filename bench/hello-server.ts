import Fastify from 'fastify'

/**
 * The baseline: a bare fastify hello-world on the same Node, the same machine and the same load generator as
 * fiscalbox, so that every fiscalbox figure can be read as a share of what this machine's HTTP stack does.
 * Prints `listening on http://127.0.0.1:PORT` once it accepts connections.
 */
const app = Fastify({ logger: false })
app.get('/', async () => ({ hello: 'world' }))
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' })
const address = app.server.address()
const port = typeof address === 'object' && address ? address.port : 0
process.stdout.write(`listening on http://127.0.0.1:${port}\n`)
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0))
  })
}
