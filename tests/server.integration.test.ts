// The local server (`npm start`, scripts/serve.ts) against clients that misbehave at the HTTP
// level, below any handler: it runs as its own process and is spoken to over raw sockets.
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type ServiceProcess, startServiceProcess } from '../harness/service-process.js'
import { createServerDatabase } from './support/database.js'

type Exchange = { status: number | null; body: string; ms: number }

// Sends `text` on a fresh connection and reads until the server closes it, or until `waitMs`.
function exchange(service: ServiceProcess, text: string, waitMs = 5_000): Promise<Exchange> {
  const { port } = new URL(service.url)
  const started = performance.now()
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1')
    const chunks: Buffer[] = []
    const finish = () => {
      clearTimeout(timer)
      socket.destroy()
      const received = Buffer.concat(chunks).toString('utf8')
      const [head = '', ...rest] = received.split('\r\n\r\n')
      const status = /^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]
      resolve({
        status: status === undefined ? null : Number(status),
        body: rest.join('\r\n\r\n'),
        ms: performance.now() - started,
      })
    }
    const timer = setTimeout(finish, waitMs)
    socket.on('data', (chunk) => chunks.push(chunk))
    socket.on('close', finish)
    socket.on('error', () => {})
    socket.write(text)
  })
}

const REQUEST_TIMEOUT_MS = 1_000
// Node checks for expired requests once a second (connectionsCheckingInterval).
const SLACK_MS = 2_000

describe('the local server answers what Node refuses in the standard error shape', () => {
  let database: { url: string; drop: () => Promise<void> }
  let service: ServiceProcess
  beforeAll(async () => {
    database = await createServerDatabase()
    service = await startServiceProcess({
      DATABASE_URL: database.url,
      SERVER_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    })
  })
  afterAll(async () => {
    await service.stop()
    await database.drop()
  })

  test('a body that stops half-way is a 408 within the request timeout', async () => {
    const answer = await exchange(
      service,
      'POST /identify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{"email":',
    )
    expect(answer.status).toBe(408)
    expect(JSON.parse(answer.body)).toEqual({
      error: { code: 'request_timeout', message: expect.any(String) },
    })
    expect(answer.ms).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS)
  })

  test('headers that never end are a 408 within the request timeout', async () => {
    const answer = await exchange(service, 'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n')
    expect(answer.status).toBe(408)
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'request_timeout' } })
    expect(answer.ms).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS)
  })

  test('oversized headers are a 431', async () => {
    const answer = await exchange(
      service,
      `GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`,
    )
    expect(answer.status).toBe(431)
    expect(JSON.parse(answer.body)).toEqual({
      error: { code: 'headers_too_large', message: expect.any(String) },
    })
  })

  test('a request that is not HTTP is a 400', async () => {
    const answer = await exchange(service, 'HELLO\r\n\r\n')
    expect(answer.status).toBe(400)
    expect(JSON.parse(answer.body)).toEqual({
      error: { code: 'bad_request', message: expect.any(String) },
    })
  })

  test('each refusal is logged by status and code, and the server goes on serving', async () => {
    const health = await fetch(`${service.url}/api/health`)
    expect(health.status).toBe(200)
    expect(service.logs).toContainEqual(
      expect.objectContaining({
        msg: 'http client error',
        status: 431,
        code: 'HPE_HEADER_OVERFLOW',
      }),
    )
    expect(service.stderr.filter((line) => !line.startsWith('{'))).toEqual([])
  })
})

test('connections past the cap are closed at once, and serving resumes when they go', async () => {
  const database = await createServerDatabase()
  const service = await startServiceProcess({
    DATABASE_URL: database.url,
    SERVER_MAX_CONNECTIONS: '3',
  })
  try {
    const { port } = new URL(service.url)
    const idle = await Promise.all(
      Array.from({ length: 3 }, async () => {
        const socket = connect(Number(port), '127.0.0.1')
        socket.on('error', () => {})
        await new Promise((resolve) => socket.once('connect', resolve))
        return socket
      }),
    )
    const refused = await exchange(service, 'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    expect(refused.status).toBeNull()
    expect(refused.ms).toBeLessThan(1_000)
    for (const socket of idle) socket.destroy()
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect((await fetch(`${service.url}/api/health`)).status).toBe(200)
  } finally {
    await service.stop()
    await database.drop()
  }
})
