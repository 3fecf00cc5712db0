// The least a function answering identify through node-postgres can do on a cold start, for
// bench/cold-start.ts to measure beside the real function: load pg, open one connection as it
// loads (JIT off for the session, as lib/db/node-postgres.ts does) and warm up the cluster read on
// it, then answer a request with that read of the keys it was sent, as JSON. No validation, match
// keys, linking, ledger, deadline or log line. Never a way to serve.
import pg from 'pg'
import { readFloorStatement } from './statement.js'

const read = readFloorStatement()
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 1 })
pool.on('connect', (client) => {
  client.query('set jit = off').catch(() => {})
})
const runRead = (emailKey: unknown, phoneKey: unknown) =>
  pool.query({ name: 'floor_read', text: read.text, values: read.values(emailKey, phoneKey) })
const warmedUp = runRead(null, null)

export default {
  async fetch(request: Request): Promise<Response> {
    const body = (await request.json()) as { email?: unknown; phoneNumber?: unknown }
    await warmedUp
    const { rows } = await runRead(body.email ?? null, body.phoneNumber ?? null)
    return Response.json({ rows })
  },
}
