// The POST Neon's driver sends its statements with (lib/db/http-post.ts), against a real HTTP
// server: answers as the driver reads them, aborts with the signal's reason, and one more try only
// on a kept-alive connection the server had closed.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, expect, test } from 'vitest'
import { postOverNodeHttp } from '../lib/db/http-post.js'

type Behaviour = (request: number, socketRequest: number) => 'answer' | 'drop' | 'hang'

let server: Server | undefined
afterEach(async () => {
  server?.closeAllConnections()
  await new Promise((resolve) => server?.close(resolve))
})

/** A server that answers `{ "n": <request number> }`, or drops or ignores what `behaves` says. */
async function serve(behaves: Behaviour): Promise<{ url: string; requests: () => number }> {
  let requests = 0
  const perSocket = new WeakMap<object, number>()
  server = createServer((request, response) => {
    requests++
    const socketRequest = (perSocket.get(request.socket) ?? 0) + 1
    perSocket.set(request.socket, socketRequest)
    let body = ''
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString()
    })
    request.on('end', () => {
      const behaviour = behaves(requests, socketRequest)
      if (behaviour === 'drop') return request.socket.destroy()
      if (behaviour === 'hang') return
      response.writeHead(requests === 99 ? 500 : 200, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ n: requests, body, type: request.headers['content-type'] }))
    })
  })
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/sql`, requests: () => requests }
}

const init = (body = '{"query":"select 1"}') => ({
  body,
  headers: { 'content-type': 'application/json' },
})

test('answers with the status and body, as the driver reads them', async () => {
  const { url } = await serve(() => 'answer')
  const response = await postOverNodeHttp(url, init('{"query":"select \'é\'"}'))
  expect(response.ok).toBe(true)
  expect(response.status).toBe(200)
  expect(await response.json()).toEqual({
    n: 1,
    body: '{"query":"select \'é\'"}',
    type: 'application/json',
  })
})

test('a second request reuses the connection, and one the server dropped is sent once more', async () => {
  // The server drops the second request of each connection, as a server closing an idle one would.
  const { url, requests } = await serve((_, socketRequest) =>
    socketRequest === 2 ? 'drop' : 'answer',
  )
  expect(await (await postOverNodeHttp(url, init())).json()).toMatchObject({ n: 1 })
  expect(await (await postOverNodeHttp(url, init())).json()).toMatchObject({ n: 3 })
  expect(requests()).toBe(3)
})

test('a request dropped on a new connection is not sent again', async () => {
  const { url, requests } = await serve(() => 'drop')
  await expect(postOverNodeHttp(url, init())).rejects.toMatchObject({ code: 'ECONNRESET' })
  expect(requests()).toBe(1)
})

test('an abort rejects with the signal reason and is not sent again', async () => {
  const { url, requests } = await serve((request) => (request === 1 ? 'answer' : 'hang'))
  await postOverNodeHttp(url, init())
  const signal = AbortSignal.timeout(50)
  await expect(postOverNodeHttp(url, { ...init(), signal })).rejects.toMatchObject({
    name: 'TimeoutError',
  })
  await new Promise((resolve) => setTimeout(resolve, 50))
  expect(requests()).toBe(2)
})

test('an error status is answered, not thrown', async () => {
  const { url } = await serve(() => 'answer')
  for (let n = 1; n < 99; n++) await postOverNodeHttp(url, init())
  const response = await postOverNodeHttp(url, init())
  expect(response).toMatchObject({ ok: false, status: 500 })
  expect(await response.text()).toContain('"n":99')
})

test('nothing listening fails at once', async () => {
  await expect(postOverNodeHttp('http://127.0.0.1:1/sql', init())).rejects.toMatchObject({
    code: 'ECONNREFUSED',
  })
})
