// The least a function answering identify through Neon's HTTP protocol can do on a cold start,
// for bench/cold-start.ts to measure beside the real function: one kept-alive `node:http`
// connection to the endpoint, opened as it loads with the cluster read warming up, then a request
// answered with that read of the keys it was sent, sent as lib/db/neon-http.ts sends a read (one
// POST: JIT off, then the read, in one transaction), as JSON. No Neon driver, Drizzle, validation,
// match keys, linking, ledger, deadline or log line. Never a way to serve.
import http from 'node:http'
import { readFloorStatement } from './statement.js'

const read = readFloorStatement()
const endpoint = new URL(process.env.NEON_HTTP_ENDPOINT ?? '')
const agent = new http.Agent({ keepAlive: true })

function runRead(emailKey: unknown, phoneKey: unknown): Promise<unknown> {
  const body = JSON.stringify({
    queries: [
      { query: 'set local jit = off', params: [] },
      { query: read.text, params: read.values(emailKey, phoneKey) },
    ],
  })
  const headers = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'neon-connection-string': process.env.DATABASE_URL ?? '',
    'neon-batch-isolation-level': 'ReadCommitted',
  }
  return new Promise((resolve, reject) => {
    const post = http.request(endpoint, { method: 'POST', agent, headers }, (response) => {
      let text = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        text += chunk
      })
      response.on('end', () => resolve(JSON.parse(text)))
      response.on('error', reject)
    })
    post.on('error', reject)
    post.end(body)
  })
}
const warmedUp = runRead(null, null)

export default {
  async fetch(request: Request): Promise<Response> {
    const body = (await request.json()) as { email?: unknown; phoneNumber?: unknown }
    await warmedUp
    const result = (await runRead(body.email ?? null, body.phoneNumber ?? null)) as {
      results: { rows: unknown[] }[]
    }
    return Response.json({ rows: result.results[1]?.rows ?? [] })
  },
}
