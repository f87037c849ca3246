import assert from 'node:assert/strict'
import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, describe, it } from 'node:test'
import {
  encodeLastDocument,
  FpmateClient,
  type FpmateCommand,
  parseRequest,
  serializeResponse,
} from '../../../src/markets/it/fpmate/index.ts'

/** A device double on a real port: each test decides what it does with the request. */
const servers: Server[] = []
async function device(handler: RequestListener): Promise<string> {
  const server = createServer(handler)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}
after(async () => {
  for (const server of servers) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

const status: FpmateCommand = {
  root: 'printerCommand',
  steps: [{ kind: 'queryPrinterStatus', statusType: 1 }],
}

describe('FpmateClient', () => {
  it('POSTs the envelope to /cgi-bin/fpmate.cgi with the device timeout and reads the answer', async () => {
    let seen: { url?: string; type?: string; command?: FpmateCommand } = {}
    const url = await device((request, response) => {
      let body = ''
      request.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk
      })
      request.on('end', () => {
        seen = { url: request.url, type: request.headers['content-type'], command: parseRequest(body) }
        response.end(
          serializeResponse({ success: true, code: '', status: 2, addInfo: { fpStatus: '00110' } }),
        )
      })
    })
    const outcome = await new FpmateClient({ url: `${url}/`, deviceTimeoutMs: 4000 }).send(status)
    assert.deepEqual(outcome, {
      kind: 'answer',
      response: { success: true, code: '', status: 2, addInfo: { fpStatus: '00110' } },
    })
    assert.deepEqual(seen, {
      url: '/cgi-bin/fpmate.cgi?timeout=4000',
      type: 'application/xml; charset=utf-8',
      command: status,
    })
  })

  it('reports a device nobody listens for as unreachable', async () => {
    const url = await device(() => undefined)
    const closed = servers.pop() as Server
    await new Promise((resolve) => closed.close(resolve))
    const outcome = await new FpmateClient({ url }).send(status)
    assert.equal(outcome.kind, 'unreachable')
    assert.match((outcome as { reason: string }).reason, /ECONNREFUSED/)
  })

  it('reports a connection dropped after the request as no answer, not as unreachable', async () => {
    const url = await device((request) => {
      request.resume()
      request.on('end', () => request.socket.destroy())
    })
    assert.equal((await new FpmateClient({ url }).send(status)).kind, 'no_answer')
  })

  it("gives up at the caller's signal or its own timeout with no answer", async () => {
    const url = await device((request) => request.resume())
    const controller = new AbortController()
    const pending = new FpmateClient({ url }).send(status, controller.signal)
    controller.abort()
    assert.deepEqual(await pending, { kind: 'no_answer', reason: 'aborted by the caller' })
    assert.deepEqual(await new FpmateClient({ url, timeoutMs: 20 }).send(status), {
      kind: 'no_answer',
      reason: 'no answer within 20 ms',
    })
  })

  it('treats an HTTP error or an answer that is not fpmate as no answer', async () => {
    const failing = await device((request, response) => {
      request.resume()
      response.statusCode = 500
      response.end('oops')
    })
    assert.deepEqual(await new FpmateClient({ url: failing }).send(status), {
      kind: 'no_answer',
      reason: 'the device answered HTTP 500',
    })
    const garbled = await device((request, response) => {
      request.resume()
      response.end('<html>')
    })
    const outcome = await new FpmateClient({ url: garbled }).send(status)
    assert.equal(outcome.kind, 'no_answer')
    assert.match((outcome as { reason: string }).reason, /^unreadable answer/)
  })

  it('reads the last document through directIO 1387, and passes a refusal on', async () => {
    const document = {
      amount: 990,
      vat: 90,
      moment: '2026-12-07T10:11:12',
      zNumber: 3,
      documentNumber: 12,
      serialNumber: '99IEZ000001',
      fiscal: true,
      uuid: '',
      pdfName: '',
    }
    let refuse = false
    const url = await device((request, response) => {
      let body = ''
      request.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk
      })
      request.on('end', () => {
        const command = parseRequest(body)
        assert.deepEqual(command.steps, [{ kind: 'directIO', command: '1387', data: '01' }])
        response.end(
          serializeResponse(
            refuse
              ? { success: false, code: 'PRINTER ERROR', status: 17 }
              : {
                  success: true,
                  code: '',
                  status: 2,
                  addInfo: { responseData: encodeLastDocument(document) },
                },
          ),
        )
      })
    })
    const client = new FpmateClient({ url })
    assert.deepEqual(await client.lastDocument(), { kind: 'document', document })
    refuse = true
    assert.deepEqual(await client.lastDocument(), {
      kind: 'refused',
      response: { success: false, code: 'PRINTER ERROR', status: 17 },
    })
  })
})
