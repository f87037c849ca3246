import { createConnection, createServer, type Server, type Socket } from 'node:net'

/**
 * A TCP proxy of the suite's own between fiscalbox and PostgreSQL, to play a database restart or a network
 * cut without touching the shared PostgreSQL server: cut() drops every connection at once, refuse() stops
 * accepting new ones (connection refused, as while a server restarts), accept() lets them in again.
 */
export class TcpProxy {
  private listener: Server | undefined
  private readonly sockets = new Set<Socket>()
  port = 0
  readonly counts = { connections: 0, cut: 0 }

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetHost, targetPort)
    await proxy.accept()
    return proxy
  }

  /** Listens (again) on the same port. */
  async accept(): Promise<void> {
    if (this.listener) return
    const listener = createServer((client) => this.pipe(client))
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject)
      listener.listen(this.port, '127.0.0.1', () => resolve())
    })
    const address = listener.address()
    if (address && typeof address === 'object') this.port = address.port
    this.listener = listener
  }

  /** Stops listening: new connections are refused until accept(). Open connections stay. */
  refuse(): void {
    this.listener?.close()
    this.listener = undefined
  }

  /** Drops every open connection, both ways, like a database that went away. Returns how many. */
  cut(): number {
    const n = this.sockets.size / 2
    for (const socket of this.sockets) socket.destroy()
    this.sockets.clear()
    this.counts.cut += n
    return n
  }

  async close(): Promise<void> {
    this.refuse()
    this.cut()
  }

  private pipe(client: Socket): void {
    this.counts.connections += 1
    const server = createConnection({ host: this.targetHost, port: this.targetPort })
    for (const socket of [client, server]) {
      this.sockets.add(socket)
      socket.setNoDelay(true)
      socket.on('error', () => {})
      socket.on('close', () => {
        this.sockets.delete(socket)
        // Either side gone: the other goes too, as with a dead peer.
        client.destroy()
        server.destroy()
      })
    }
    client.pipe(server)
    server.pipe(client)
  }
}
